package console

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// The admin API's merges and audit trail: the same identity.Console calls
// as the console's pages, so the same role, region and two-operator rules.
//
//	POST /admin/api/citizens/{id}/merge    ask to merge {id} into the survivor named by full number (202, an approval)
//	GET  /admin/api/citizens/{id}/merge    the merge in effect of a merged citizen
//	POST /admin/api/citizens/{id}/unmerge  ask to reverse it (202, an approval)
//	GET  /admin/api/audit                  the audit trail (auditors), newest first
//	POST /admin/api/audit/verify           verify the chain (administrators)

func (h *Handler) mountAPIMore(mux *http.ServeMux) {
	mux.Handle("POST /admin/api/citizens/{id}/merge", h.api(h.apiMerge))
	mux.Handle("GET /admin/api/citizens/{id}/merge", h.api(h.apiMergeOf))
	mux.Handle("POST /admin/api/citizens/{id}/unmerge", h.api(h.apiUnmerge))
	mux.Handle("GET /admin/api/audit", h.api(h.apiAudit))
	mux.Handle("POST /admin/api/audit/verify", h.api(h.apiVerify))
}

// apiMerge asks for the citizen of the path to be merged into the survivor,
// named by full document number (a look-up audited with the same reason,
// as on the console's page). The citizen of the path is checked first, so
// a refusal by region costs no look-up.
func (h *Handler) apiMerge(r *http.Request, op *identity.Operator) (int, any, error) {
	var in lookupBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	id := r.PathValue("id")
	if _, err := h.cfg.Console.Citizen(r.Context(), op, id); err != nil {
		return 0, nil, err
	}
	s, err := h.lookupBy(r, op, in)
	if err != nil {
		return 0, nil, err
	}
	a, err := h.cfg.Console.RequestMerge(r.Context(), op, id, s.ID, in.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, approvalOf(a), nil
}

// mergeBody is a merge in effect (ids only; look the survivor up by id).
type mergeBody struct {
	ID              string    `json:"id"`
	MergedID        string    `json:"merged_id"`
	SurvivorID      string    `json:"survivor_id"`
	MergedAt        time.Time `json:"merged_at"`
	ReversibleUntil time.Time `json:"reversible_until"`
	Reversible      bool      `json:"reversible"`
}

func (h *Handler) apiMergeOf(r *http.Request, op *identity.Operator) (int, any, error) {
	m, err := h.cfg.Console.MergeOf(r.Context(), op, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	until := m.MergedAt.Add(identity.UnmergeWindow)
	return http.StatusOK, mergeBody{ID: m.ID, MergedID: m.MergedID, SurvivorID: m.SurvivorID, MergedAt: m.MergedAt,
		ReversibleUntil: until, Reversible: !h.cfg.Now().After(until)}, nil
}

func (h *Handler) apiUnmerge(r *http.Request, op *identity.Operator) (int, any, error) {
	var in reasonBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	a, err := h.cfg.Console.RequestUnmerge(r.Context(), op, r.PathValue("id"), in.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, approvalOf(a), nil
}

// trailEntryBody is an audit entry in the API: the citizen masked, as on
// the trail page (entries never hold a document number).
type trailEntryBody struct {
	At        time.Time         `json:"at"`
	Action    string            `json:"action"`
	Actor     string            `json:"actor"`
	CitizenID string            `json:"citizen_id,omitempty"`
	Citizen   *trailCitizenBody `json:"citizen,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	IP        string            `json:"ip,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

type trailCitizenBody struct {
	Name         string `json:"name"`
	MaskedNumber string `json:"masked_number"`
}

// apiAudit reads the trail: ?citizen=<id>&action=<a>(repeatable)&since=&until=&cursor=&limit=.
// since and until are RFC 3339 times or yyyy-mm-dd days in the console's
// time zone (until exclusive). A citizen is named by the opaque id a
// look-up returned, never by number.
func (h *Handler) apiAudit(r *http.Request, op *identity.Operator) (int, any, error) {
	q := r.URL.Query()
	tq := identity.TrailQuery{CitizenID: q.Get("citizen"), Cursor: q.Get("cursor")}
	for _, a := range q["action"] {
		if !slices.Contains(trailActions, identity.AuditAction(a)) {
			return 0, nil, fieldErr("action", identity.FieldInvalid)
		}
		tq.Actions = append(tq.Actions, identity.AuditAction(a))
	}
	var err error
	if tq.Since, err = h.apiTime(q.Get("since")); err != nil {
		return 0, nil, fieldErr("since", identity.FieldInvalid)
	}
	if tq.Until, err = h.apiTime(q.Get("until")); err != nil {
		return 0, nil, fieldErr("until", identity.FieldInvalid)
	}
	if v := q.Get("limit"); v != "" {
		if tq.Limit, err = strconv.Atoi(v); err != nil || tq.Limit < 1 || tq.Limit > 200 {
			return 0, nil, fieldErr("limit", identity.FieldInvalid)
		}
	}
	page, err := h.cfg.Console.AuditTrail(r.Context(), op, tq)
	if err != nil {
		return 0, nil, err
	}
	out := []trailEntryBody{}
	for _, e := range page.Entries {
		b := trailEntryBody{At: e.At, Action: string(e.Action), Actor: e.Actor, CitizenID: e.CitizenID, ClientID: e.ClientID,
			SessionID: e.SessionID, IP: e.IP, Detail: e.Detail}
		if e.Citizen != nil {
			b.Citizen = &trailCitizenBody{Name: e.Citizen.Name, MaskedNumber: e.Citizen.Number.Masked()}
		}
		out = append(out, b)
	}
	body := map[string]any{"entries": out}
	if page.Next != "" {
		body["next"] = page.Next
	}
	return http.StatusOK, body, nil
}

// apiTime parses a filter time: RFC 3339, or a day in the console's zone.
func (h *Handler) apiTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation(dateForm, s, h.cfg.Location)
}

func (h *Handler) apiVerify(r *http.Request, op *identity.Operator) (int, any, error) {
	rep, err := h.cfg.Console.VerifyTrail(r.Context(), op)
	if err != nil {
		return 0, nil, err
	}
	body := map[string]any{"intact": rep.Break == nil, "partitions": rep.Partitions, "entries": rep.Entries,
		"heads_digest": hex.EncodeToString(rep.HeadsDigest)}
	if b := rep.Break; b != nil {
		body["break"] = map[string]any{"partition": b.Partition, "seq": b.Seq, "problem": string(b.Problem), "detail": b.Detail}
	}
	return http.StatusOK, body, nil
}
