package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// merge asks for the citizen of the path to be merged into the survivor
// named by full number (in the POST body only; the look-up is audited
// with the same reason).
func (h *Handler) merge(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.citizenAction(w, r, op, "merge-requested", func(id string) error {
		reason := r.PostFormValue("reason")
		s, err := h.cfg.Console.Lookup(r.Context(), op, "", r.PostFormValue("number"), reason)
		if err != nil {
			return err
		}
		_, err = h.cfg.Console.RequestMerge(r.Context(), op, id, s.ID, reason)
		return err
	})
}

func (h *Handler) unmerge(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.citizenAction(w, r, op, "unmerge-requested", func(id string) error {
		_, err := h.cfg.Console.RequestUnmerge(r.Context(), op, id, r.PostFormValue("reason"))
		return err
	})
}

// mergeView adds a merged citizen's survivor (masked) to the page.
func (h *Handler) mergeView(r *http.Request, op *identity.Operator, c *identity.ConsoleCitizen, v *web.ConsoleCitizen) error {
	if c.Status != identity.StatusMerged {
		return nil
	}
	m, err := h.cfg.Console.MergeOf(r.Context(), op, c.ID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v.MergedInto = m.SurvivorID
	if s, err := h.cfg.Console.Citizen(r.Context(), op, m.SurvivorID); err == nil {
		v.MergedInto = s.Name + " · " + s.Number.Masked()
	}
	v.MergedAt = h.when(m.MergedAt)
	v.Unmergeable = h.cfg.Now().Sub(m.MergedAt) <= identity.UnmergeWindow
	return nil
}

// pendingDone answers an action that became an approval request.
func pendingDone(w http.ResponseWriter, r *http.Request, id string, err error) bool {
	var pa *identity.PendingApproval
	if !errors.As(err, &pa) {
		return false
	}
	done(w, r, "/console/citizens/"+url.PathEscape(id), "approval-requested")
	return true
}
