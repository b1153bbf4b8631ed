package passkey

import (
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

const dateLayout = "2006-01-02 15:04"

// page lists the signed-in citizen's passkeys. Without a session the
// browser goes to /login.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	keys, err := h.cfg.Passkeys.Passkeys(r.Context(), s.CitizenID)
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.PasskeysData{
		DefaultName: t.T("passkey.default.name", h.cfg.Now().In(chinaTime).Format("2006-01-02")),
		NeedsReauth: !h.recent(s),
	}
	for _, p := range keys {
		line := web.PasskeyLine{
			ID:      base64.RawURLEncoding.EncodeToString(p.ID),
			Name:    p.Name,
			Created: p.CreatedAt.In(chinaTime).Format(dateLayout),
			Synced:  p.BackupEligible,
		}
		if !p.LastUsedAt.IsZero() {
			line.LastUsed = p.LastUsedAt.In(chinaTime).Format(dateLayout)
		}
		d.Keys = append(d.Keys, line)
	}
	if r.URL.Query().Get("added") == "1" {
		d.Notice = t.T("passkey.added")
	}
	return h.cfg.UI.Render(w, r, web.PagePasskeys, web.View{Data: d})
}

// credentialID reads {id} of the route: a base64url credential id.
func credentialID(r *http.Request) ([]byte, error) {
	id, err := base64.RawURLEncoding.DecodeString(r.PathValue("id"))
	if err != nil || len(id) == 0 || len(id) > 1023 {
		return nil, errBadInput
	}
	return id, nil
}

// rename names one of the signed-in citizen's passkeys.
func (h *Handler) rename(w http.ResponseWriter, r *http.Request) error {
	return h.change(w, r, func(citizenID string, id []byte) error {
		name := cleanName(r.PostFormValue("name"))
		if name == "" {
			return errBadInput
		}
		return h.cfg.Passkeys.RenamePasskey(r.Context(), citizenID, id, name)
	})
}

// delete removes one of the signed-in citizen's passkeys.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	return h.change(w, r, func(citizenID string, id []byte) error {
		if err := h.cfg.Passkeys.DeletePasskey(r.Context(), citizenID, id); err != nil {
			return err
		}
		h.cfg.Logger.InfoContext(r.Context(), "passkey deleted", "citizen_id", citizenID)
		return nil
	})
}

// change runs f for the session's citizen and the route's passkey, then
// goes back to the list. Another citizen's passkey is "not found".
func (h *Handler) change(w http.ResponseWriter, r *http.Request, f func(citizenID string, id []byte) error) error {
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	id, err := credentialID(r)
	if err != nil {
		return err
	}
	if err := f(s.CitizenID, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/passkeys", http.StatusSeeOther)
	return nil
}
