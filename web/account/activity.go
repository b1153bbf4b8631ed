package account

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// Kind is what an activity event records.
type Kind string

const (
	KindLogin        Kind = "login"        // a successful sign-in at Yihao
	KindLoginFailure Kind = "login-failed" // a failed attempt on the citizen's account
	KindToken        Kind = "token"        // tokens issued to a site (scopes released)
	KindUserinfo     Kind = "userinfo"     // a site read the citizen's claims at userinfo
	KindIntrospect   Kind = "introspect"   // a resource server asked about one of the citizen's tokens
)

// Event is one entry of a citizen's activity. It holds names only: scope and
// claim names, never their values.
type Event struct {
	At       time.Time
	Kind     Kind
	ClientID string   // the site involved; "" for a sign-in
	Released []string // scope or claim names released
	Method   string   // sign-in method (amr value), for logins
	Network  string   // the truncated address a sign-in came from ("203.0.113.0/24")
	// CheckedBy is the resource server that introspected a token of
	// ClientID, when it is another client.
	CheckedBy string
}

// Query selects a citizen's events. Every set field must match.
type Query struct {
	CitizenID string
	ClientID  string
	Kinds     []Kind
	Since     time.Time // at or after
	Until     time.Time // before
	Limit     int
	Cursor    string // Page.Next of the previous page; "" for the first
}

// Page is one page of events, newest first.
type Page struct {
	Events []Event
	Next   string // "" on the last page
}

// Activity reads a citizen's audit trail (cmd adapts the audit log to it).
// Errors: a wrapped identity.ErrUnavailable when the backend does not answer;
// any other error for a malformed cursor, on which the page shows the first
// page instead.
type Activity interface {
	CitizenActivity(ctx context.Context, q Query) (Page, error)
}

// activityView is one of the two activity pages.
type activityView struct {
	path, title, intro, file string
	kinds                    []Kind // the kinds this page shows (and offers as a filter)
	sites                    bool   // offer a site filter
}

var (
	loginsView = activityView{path: pathLogins, title: "account.logins.title", intro: "account.logins.intro",
		file: "yihao-logins", kinds: []Kind{KindLogin, KindLoginFailure}}
	dataUseView = activityView{path: pathDataUse, title: "account.datause.title", intro: "account.datause.intro",
		file: "yihao-data-use", kinds: []Kind{KindToken, KindUserinfo, KindIntrospect}, sites: true}
)

// PageSize is the number of events per page.
const PageSize = 20

// maxExport bounds one download.
const maxExport = 10000

// filter is what the citizen chose, as it travels in the query string.
type filter struct {
	kind, site, from, to string
}

func (v activityView) parse(q url.Values) filter {
	f := filter{from: q.Get("from"), to: q.Get("to")}
	if k := Kind(q.Get("kind")); slices.Contains(v.kinds, k) {
		f.kind = string(k)
	}
	if v.sites && len(q.Get("site")) <= 200 {
		f.site = q.Get("site")
	}
	if _, err := time.Parse(time.DateOnly, f.from); err != nil {
		f.from = ""
	}
	if _, err := time.Parse(time.DateOnly, f.to); err != nil {
		f.to = ""
	}
	return f
}

func (f filter) values() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.kind, "site": f.site, "from": f.from, "to": f.to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func (h *Handler) query(v activityView, citizenID string, f filter, cursor string, limit int) Query {
	q := Query{CitizenID: citizenID, ClientID: f.site, Kinds: v.kinds, Cursor: cursor, Limit: limit}
	if f.kind != "" {
		q.Kinds = []Kind{Kind(f.kind)}
	}
	if d, err := time.ParseInLocation(time.DateOnly, f.from, h.cfg.Location); err == nil {
		q.Since = d
	}
	if d, err := time.ParseInLocation(time.DateOnly, f.to, h.cfg.Location); err == nil {
		q.Until = d.AddDate(0, 0, 1) // the whole "to" day
	}
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (h *Handler) activityPage(v activityView) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		back := withQuery(v.path, v.parse(r.URL.Query()).values())
		s, err := h.session(w, r, back)
		if s == nil {
			return err
		}
		ctx := r.Context()
		t := web.TextFor(web.Lang(r, nil))
		f := v.parse(r.URL.Query())
		d := web.AccountActivityData{AccountPage: h.page(r, v.path), Title: t.T(v.title), Intro: t.T(v.intro),
			Action: v.path, From: f.from, To: f.to}
		if h.cfg.Activity == nil {
			d.Unavailable = true
			return h.cfg.UI.Render(w, r, web.PageAccountActivity, web.View{Data: d})
		}
		d.Kinds = append(d.Kinds, web.AccountOption{Value: "", Label: t.T("account.filter.all"), Selected: f.kind == ""})
		for _, k := range v.kinds {
			d.Kinds = append(d.Kinds, web.AccountOption{Value: string(k), Label: t.T("account.kind." + string(k)), Selected: f.kind == string(k)})
		}
		names := h.names(ctx)
		if v.sites {
			d.Sites = append(d.Sites, web.AccountOption{Value: "", Label: t.T("account.filter.all"), Selected: f.site == ""})
			uses, err := h.cfg.Protocol.CitizenSites(ctx, s.CitizenID)
			if err != nil {
				return err
			}
			for _, u := range uses {
				names.known[u.ClientID] = u.ClientName
				d.Sites = append(d.Sites, web.AccountOption{Value: u.ClientID, Label: u.ClientName, Selected: f.site == u.ClientID})
			}
			if f.site != "" && !slices.ContainsFunc(d.Sites, func(o web.AccountOption) bool { return o.Value == f.site }) {
				d.Sites = append(d.Sites, web.AccountOption{Value: f.site, Label: names.name(f.site), Selected: true})
			}
		}
		cursor := r.URL.Query().Get("cursor")
		page, err := h.cfg.Activity.CitizenActivity(ctx, h.query(v, s.CitizenID, f, cursor, PageSize))
		if err != nil && cursor != "" && !errors.Is(err, identity.ErrUnavailable) {
			// A stale or edited cursor: show the first page instead.
			cursor = ""
			page, err = h.cfg.Activity.CitizenActivity(ctx, h.query(v, s.CitizenID, f, "", PageSize))
		}
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			d.Events = append(d.Events, h.eventLine(t, names, e))
		}
		fq := f.values()
		if cursor != "" {
			d.PrevURL = withQuery(v.path, fq)
		}
		if page.Next != "" {
			nq := f.values()
			nq.Set("cursor", page.Next)
			d.NextURL = withQuery(v.path, nq)
		}
		eq := f.values()
		eq.Set("format", "csv")
		d.ExportCSV = withQuery(v.path+"/export", eq)
		eq.Set("format", "jsonl")
		d.ExportJSON = withQuery(v.path+"/export", eq)
		return h.cfg.UI.Render(w, r, web.PageAccountActivity, web.View{Data: d})
	}
}

// activityFilter turns the filter form (a POST, so that it carries the CSRF
// token like every form) into the GET page's query.
func (h *Handler) activityFilter(v activityView) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, withQuery(v.path, v.parse(r.PostForm).values()), http.StatusSeeOther)
		return nil
	}
}

func (h *Handler) eventLine(t web.Text, names *clientNames, e Event) web.AccountEvent {
	l := web.AccountEvent{When: h.when(e.At), What: label(t, "account.kind.", string(e.Kind)), Released: e.Released,
		Failed: e.Kind == KindLoginFailure}
	if e.ClientID != "" {
		l.Site = names.name(e.ClientID)
	}
	if e.Kind == KindLogin || e.Kind == KindLoginFailure {
		var parts []string
		if e.Method != "" {
			parts = append(parts, label(t, "account.amr.", e.Method))
		}
		if e.Network != "" {
			parts = append(parts, t.T("account.activity.network", e.Network))
		}
		l.Detail = strings.Join(parts, " · ")
	}
	if e.CheckedBy != "" {
		l.Detail = t.T("account.activity.checkedby", names.name(e.CheckedBy))
	}
	return l
}

// clientNames looks site names up once per request.
type clientNames struct {
	ctx     context.Context
	clients Clients
	known   map[string]string
}

func (h *Handler) names(ctx context.Context) *clientNames {
	return &clientNames{ctx: ctx, clients: h.cfg.Clients, known: map[string]string{}}
}

func (n *clientNames) name(id string) string {
	if name, ok := n.known[id]; ok {
		return name
	}
	name := id
	if n.clients != nil {
		if c, err := n.clients.Client(n.ctx, id); err == nil && c.Name != "" {
			name = c.Name
		}
	}
	n.known[id] = name
	return name
}

// exportRecord is one line of a download: machine-readable, UTC times.
type exportRecord struct {
	Time     string   `json:"time"`
	Kind     Kind     `json:"kind"`
	SiteID   string   `json:"site_id,omitempty"`
	Site     string   `json:"site,omitempty"`
	Released []string `json:"released,omitempty"`
	Method   string   `json:"method,omitempty"`
	Network  string   `json:"network,omitempty"`
	By       string   `json:"checked_by,omitempty"`
}

// activityExport downloads every event that matches the filter (up to
// maxExport) as CSV or JSON lines.
func (h *Handler) activityExport(v activityView) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f := v.parse(r.URL.Query())
		s, err := h.session(w, r, withQuery(v.path, f.values()))
		if s == nil {
			return err
		}
		if h.cfg.Activity == nil {
			return web.Error(http.StatusNotFound, "error.notfound")
		}
		format := r.URL.Query().Get("format")
		if format != "csv" && format != "jsonl" {
			return web.Error(http.StatusBadRequest, "error.badrequest")
		}
		ctx := r.Context()
		names := h.names(ctx)
		var records []exportRecord
		cursor := ""
		for len(records) < maxExport {
			page, err := h.cfg.Activity.CitizenActivity(ctx, h.query(v, s.CitizenID, f, cursor, min(500, maxExport-len(records))))
			if err != nil {
				return err
			}
			for _, e := range page.Events {
				rec := exportRecord{Time: e.At.UTC().Format(time.RFC3339), Kind: e.Kind, SiteID: e.ClientID,
					Released: e.Released, Method: e.Method, Network: e.Network, By: e.CheckedBy}
				if e.ClientID != "" {
					rec.Site = names.name(e.ClientID)
				}
				records = append(records, rec)
			}
			if cursor = page.Next; cursor == "" || len(page.Events) == 0 {
				break
			}
		}
		name := fmt.Sprintf("%s-%s.%s", v.file, h.cfg.Now().In(h.cfg.Location).Format("20060102"), format)
		hd := w.Header()
		hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		hd.Set("Cache-Control", "no-store")
		if format == "jsonl" {
			hd.Set("Content-Type", "application/jsonl; charset=utf-8")
			enc := json.NewEncoder(w)
			for _, rec := range records {
				if err := enc.Encode(rec); err != nil {
					return nil // the client went away; headers are sent
				}
			}
			return nil
		}
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		w.Write([]byte("\ufeff")) // so that spreadsheet programs read UTF-8 (site names are Chinese)
		cw := csv.NewWriter(w)
		cw.Write([]string{"time", "kind", "site_id", "site", "released", "method", "network", "checked_by"})
		for _, rec := range records {
			cw.Write([]string{rec.Time, string(rec.Kind), cell(rec.SiteID), cell(rec.Site),
				cell(strings.Join(rec.Released, " ")), cell(rec.Method), cell(rec.Network), cell(rec.By)})
		}
		cw.Flush()
		return nil
	}
}

// cell keeps a spreadsheet from reading a value as a formula (CSV injection:
// a site's registered name is outside text).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
