package console

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// trailActions are the actions an auditor can filter on, in display order:
// every action of the trail.
var trailActions = identity.AuditActions()

const dateForm = "2006-01-02"

// auditPage shows the trail: GET /console/audit?citizen=&action=&since=&until=&cursor=.
// The citizen is an opaque id (a look-up by number is a POST); dates are
// days in the console's time zone, until exclusive.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderAudit(w, r, op, http.StatusOK, "", nil)
}

func (h *Handler) renderAudit(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, msg string, verify *web.ConsoleAuditVerify) error {
	t := web.TextFor(web.Lang(r, nil))
	q := r.URL.Query()
	d := web.ConsoleAuditData{ConsoleBase: h.base(r, op), CanRead: op.Has(identity.RoleAuditor), CanVerify: op.Has(identity.RoleAdministrator),
		DocTypes: docOptions(t, ""), CitizenID: q.Get("citizen"), Since: q.Get("since"), Until: q.Get("until"), Verify: verify}
	d.Error = msg
	if !d.CanRead && !d.CanVerify {
		return pageErr(identity.ErrForbidden)
	}
	action := identity.AuditAction(q.Get("action"))
	for _, a := range trailActions {
		d.Actions = append(d.Actions, web.ConsoleOption{Value: string(a), Label: label(t, "console.audit.a.", string(a)), Selected: a == action})
	}
	if d.CanRead && msg == "" && verify == nil {
		tq := identity.TrailQuery{CitizenID: d.CitizenID, Cursor: q.Get("cursor")}
		if action != "" {
			if !slices.Contains(trailActions, action) {
				return web.Error(http.StatusBadRequest, "error.badrequest")
			}
			tq.Actions = []identity.AuditAction{action}
		}
		var err error
		if tq.Since, err = h.day(d.Since); err != nil {
			return err
		}
		if tq.Until, err = h.day(d.Until); err != nil {
			return err
		}
		page, err := h.cfg.Console.AuditTrail(r.Context(), op, tq)
		if err != nil {
			return err
		}
		d.Read = true
		for _, e := range page.Entries {
			d.Entries = append(d.Entries, h.trailView(r, t, e))
		}
		if page.Next != "" {
			next := url.Values{"cursor": {page.Next}}
			for _, k := range []string{"citizen", "action", "since", "until"} {
				if v := q.Get(k); v != "" {
					next.Set(k, v)
				}
			}
			d.NextURL = "/console/audit?" + next.Encode()
		}
		if d.CitizenID != "" {
			if c, err := h.cfg.Console.Citizen(r.Context(), op, d.CitizenID); err == nil {
				d.Citizen = c.Name + " · " + c.Number.Masked()
			}
		}
	}
	return h.cfg.UI.Render(w, r, web.PageConsoleAudit, web.View{Status: status, Data: d})
}

// day parses a yyyy-mm-dd filter as midnight in the console's zone.
func (h *Handler) day(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation(dateForm, s, h.cfg.Location)
	if err != nil {
		return time.Time{}, web.Error(http.StatusBadRequest, "error.badrequest")
	}
	return d, nil
}

// trailView shows an entry: ids and short facts only (the chain holds no
// document number); the citizen masked.
func (h *Handler) trailView(r *http.Request, t web.Text, e *identity.TrailEntry) web.ConsoleAuditEntry {
	v := web.ConsoleAuditEntry{At: e.At.In(h.cfg.Location).Format("2006-01-02 15:04:05"), Action: label(t, "console.audit.a.", string(e.Action)),
		Actor: e.Actor, Client: e.ClientID, Session: e.SessionID, IP: e.IP}
	if id, ok := strings.CutPrefix(e.Actor, identity.ActorOperator); ok {
		v.Actor = h.operatorName(r, id)
	}
	switch {
	case e.Citizen != nil:
		v.Citizen = e.Citizen.Name + " · " + e.Citizen.Number.Masked()
	case e.CitizenID != "":
		v.Citizen = e.CitizenID
	}
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.Details = append(v.Details, k+": "+e.Detail[k])
	}
	if e.IP != "" {
		v.Details = append(v.Details, "ip: "+e.IP)
	}
	return v
}

// auditFilter takes the filter form: with a number (and its reason) the
// citizen is looked up — audited, in the region — and the page is shown
// for their opaque id; the number never goes into the address.
func (h *Handler) auditFilter(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	q := url.Values{}
	for _, k := range []string{"action", "since", "until", "citizen"} {
		if v := strings.TrimSpace(r.PostFormValue(k)); v != "" {
			q.Set(k, v)
		}
	}
	if strings.TrimSpace(r.PostFormValue("number")) != "" {
		dt, err := parseDocType(r.PostFormValue("document_type"))
		var c *identity.ConsoleCitizen
		if err == nil {
			c, err = h.cfg.Console.Lookup(r.Context(), op, dt, r.PostFormValue("number"), r.PostFormValue("reason"))
		}
		if err != nil {
			if msg, ok := h.describe(r, err); ok {
				r.URL.RawQuery = ""
				return h.renderAudit(w, r, op, http.StatusBadRequest, msg, nil)
			}
			return err
		}
		q.Set("citizen", c.ID)
	}
	http.Redirect(w, r, "/console/audit?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// auditVerify runs the chain verification for an administrator and shows
// its outcome.
func (h *Handler) auditVerify(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	rep, err := h.cfg.Console.VerifyTrail(r.Context(), op)
	if err != nil {
		return err
	}
	v := &web.ConsoleAuditVerify{Intact: rep.Break == nil, Entries: rep.Entries, Partitions: rep.Partitions,
		HeadsDigest: hex.EncodeToString(rep.HeadsDigest)}
	if b := rep.Break; b != nil {
		v.Break = fmt.Sprintf("partition %d, seq %d: %s (%s)", b.Partition, b.Seq, b.Problem, b.Detail)
	}
	r.URL.RawQuery = ""
	return h.renderAudit(w, r, op, http.StatusOK, "", v)
}
