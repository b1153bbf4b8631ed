package account

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// Handle names a session on the page without revealing its id (the session
// cookie): a hash of the id, which is 256 random bits, so the handle cannot
// be turned back into a cookie.
func Handle(sid string) string {
	sum := sha256.Sum256([]byte("yihao account session handle\x00" + sid))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

func (h *Handler) sessions(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathSessions)
	if s == nil {
		return err
	}
	list, err := h.cfg.SessionList.CitizenSessions(r.Context(), s.CitizenID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(x *identity.Session) bool { return x.ID == s.ID }) {
		list = append(list, s)
	}
	// The current session first, then the most recently used.
	slices.SortFunc(list, func(a, b *identity.Session) int {
		switch {
		case a.ID == s.ID:
			return -1
		case b.ID == s.ID:
			return 1
		}
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
	})
	t := web.TextFor(web.Lang(r, nil))
	d := web.AccountSessionsData{AccountPage: h.page(r, pathSessions)}
	for _, x := range list {
		if x.CitizenID != s.CitizenID {
			continue
		}
		device := x.UserAgent
		if device == "" {
			device = t.T("account.sessions.unknown")
		}
		methods := make([]string, 0, len(x.AMR))
		for _, m := range x.AMR {
			methods = append(methods, label(t, "account.amr.", m))
		}
		d.Sessions = append(d.Sessions, web.AccountSession{
			Handle: Handle(x.ID), Device: device, Channel: label(t, "account.channel.", x.Channel),
			Method: strings.Join(methods, " + "), Started: h.when(x.AuthTime), LastSeen: h.when(x.LastSeen),
			Current: x.ID == s.ID,
		})
		if x.ID != s.ID {
			d.Others++
		}
	}
	return h.cfg.UI.Render(w, r, web.PageAccountSessions, web.View{Data: d})
}

// endOne ends one other session of the citizen, named by its handle.
func (h *Handler) endOne(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathSessions)
	if s == nil {
		return err
	}
	handle := r.PostFormValue("session")
	if handle == "" || len(handle) > 64 {
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	if subtle.ConstantTimeCompare([]byte(handle), []byte(Handle(s.ID))) == 1 {
		// This browser's own session ends by signing out, which says so.
		return web.Error(http.StatusBadRequest, "account.error.current")
	}
	if !h.fresh(w, r, s, pathSessions) {
		return nil
	}
	list, err := h.cfg.SessionList.CitizenSessions(r.Context(), s.CitizenID)
	if err != nil {
		return err
	}
	for _, x := range list {
		if x.CitizenID != s.CitizenID || subtle.ConstantTimeCompare([]byte(handle), []byte(Handle(x.ID))) != 1 {
			continue
		}
		if err := h.cfg.Protocol.EndSession(r.Context(), x.ID); err != nil && !errors.Is(err, identity.ErrNotFound) {
			return err
		}
		done(w, r, pathSessions, "ended")
		return nil
	}
	// Already ended (or never one of the citizen's): nothing to do.
	done(w, r, pathSessions, "gone")
	return nil
}

// endOthers ends every session of the citizen but this one.
func (h *Handler) endOthers(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathSessions)
	if s == nil {
		return err
	}
	if !h.fresh(w, r, s, pathSessions) {
		return nil
	}
	if _, err := h.cfg.Protocol.EndOtherSessions(r.Context(), s.CitizenID, s.ID); err != nil {
		return err
	}
	done(w, r, pathSessions, "ended-others")
	return nil
}
