package account

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

var now = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// memSessions is a fake identity.SessionStore (what web.Sessions and the page use).
type memSessions struct {
	identity.SessionStore
	mu sync.Mutex
	m  map[string]*identity.Session
}

func (s *memSessions) Session(_ context.Context, id string) (*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.m[id]; ok {
		c := *x
		return &c, nil
	}
	return nil, identity.ErrNotFound
}

func (s *memSessions) CitizenSessions(_ context.Context, citizenID string) ([]*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*identity.Session
	for _, x := range s.m {
		if x.CitizenID == citizenID {
			c := *x
			out = append(out, &c)
		}
	}
	return out, nil
}

type fakeCitizens map[string]*identity.Citizen

func (f fakeCitizens) Citizen(_ context.Context, id string) (*identity.Citizen, error) {
	if c, ok := f[id]; ok {
		return c, nil
	}
	return nil, identity.ErrNotFound
}

// fakeProtocol records the kill paths it was asked for.
type fakeProtocol struct {
	store     *memSessions
	sites     []oauth.SiteUse
	revoked   [][2]string // citizen, client
	ended     []string
	endOthers [][2]string // citizen, kept sid
}

func (p *fakeProtocol) CitizenSites(context.Context, string) ([]oauth.SiteUse, error) {
	return p.sites, nil
}

func (p *fakeProtocol) RevokeClient(_ context.Context, citizenID, clientID string) error {
	p.revoked = append(p.revoked, [2]string{citizenID, clientID})
	return nil
}

func (p *fakeProtocol) EndSession(_ context.Context, sid string) error {
	p.ended = append(p.ended, sid)
	p.store.mu.Lock()
	delete(p.store.m, sid)
	p.store.mu.Unlock()
	return nil
}

func (p *fakeProtocol) EndOtherSessions(_ context.Context, citizenID, keep string) (int, error) {
	p.endOthers = append(p.endOthers, [2]string{citizenID, keep})
	return 1, nil
}

// fakeActivity serves events two per page; the cursor is the offset.
type fakeActivity struct {
	events  []Event
	queries []Query
}

func (a *fakeActivity) CitizenActivity(_ context.Context, q Query) (Page, error) {
	a.queries = append(a.queries, q)
	var match []Event
	for _, e := range a.events {
		if (q.ClientID == "" || e.ClientID == q.ClientID) && slices.Contains(q.Kinds, e.Kind) {
			match = append(match, e)
		}
	}
	off := 0
	if q.Cursor != "" {
		if _, err := fmt.Sscanf(q.Cursor, "o%d", &off); err != nil || off > len(match) {
			return Page{}, fmt.Errorf("bad cursor")
		}
	}
	size := min(2, q.Limit)
	end := min(off+size, len(match))
	p := Page{Events: match[off:end]}
	if end < len(match) {
		p.Next = fmt.Sprintf("o%d", end)
	}
	return p, nil
}

type fakeClients map[string]string

func (f fakeClients) Client(_ context.Context, id string) (*oauth.Client, error) {
	if n, ok := f[id]; ok {
		return &oauth.Client{ID: id, Name: n}, nil
	}
	return nil, identity.ErrNotFound
}

const number = "11010519491231002X"

type env struct {
	mux      *http.ServeMux
	store    *memSessions
	protocol *fakeProtocol
	activity *fakeActivity
}

func newEnv(t *testing.T, withActivity bool, opts ...func(*Config)) *env {
	t.Helper()
	ui, err := web.New(web.Config{CSRFKey: bytes.Repeat([]byte{7}, 32), Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := identity.Parse(identity.ResidentID, number)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{mux: http.NewServeMux(), store: &memSessions{m: map[string]*identity.Session{}}}
	e.protocol = &fakeProtocol{store: e.store, sites: []oauth.SiteUse{{ClientID: "tax", ClientName: "国家税务总局",
		Scopes: []string{"openid", "profile"}, GrantedAt: now.Add(-48 * time.Hour), LastUsed: now.Add(-time.Hour), LiveGrants: 1}}}
	cfg := Config{UI: ui, Sessions: &web.Sessions{Store: e.store, Secure: true, Now: func() time.Time { return now }},
		SessionList: e.store, Protocol: e.protocol, Clients: fakeClients{"tax": "国家税务总局", "evil": "=HYPERLINK(1)"},
		Citizens: fakeCitizens{"cit-1": {ID: "cit-1", Number: n, Name: "张小明", Phone: "13900139000", Level: identity.LevelSelfAsserted}},
		Now:      func() time.Time { return now }, PasskeysURL: "/account/passkeys"}
	if withActivity {
		e.activity = &fakeActivity{}
		cfg.Activity = e.activity
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(e.mux)
	return e
}

// signIn stores a session of citizen authenticated age ago.
func (e *env) signIn(citizenID string, age time.Duration, ua string) *identity.Session {
	s := &identity.Session{ID: web.NewSessionID(), CitizenID: citizenID, AuthTime: now.Add(-age), ACR: oauth.ACRPassword,
		AMR: []string{"pwd"}, Channel: "web", CreatedAt: now.Add(-age), LastSeen: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour), UserAgent: ua}
	e.store.mu.Lock()
	e.store.m[s.ID] = s
	e.store.mu.Unlock()
	return s
}

// browser keeps cookies and the last CSRF token it saw.
type browser struct {
	e       *env
	cookies map[string]*http.Cookie
	token   string
	lang    string
}

func (e *env) browser(s *identity.Session) *browser {
	b := &browser{e: e, cookies: map[string]*http.Cookie{}}
	if s != nil {
		b.cookies[web.SessionCookieSecure] = &http.Cookie{Name: web.SessionCookieSecure, Value: s.ID}
	}
	return b
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(r *http.Request) *httptest.ResponseRecorder {
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	if b.lang != "" {
		r.Header.Set("Accept-Language", b.lang)
	}
	w := httptest.NewRecorder()
	b.e.mux.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		b.cookies[c.Name] = c
	}
	if m := tokenRE.FindStringSubmatch(w.Body.String()); m != nil {
		b.token = m[1]
	}
	return w
}

func (b *browser) get(path string) *httptest.ResponseRecorder {
	return b.do(httptest.NewRequest("GET", "https://id.example"+path, nil))
}

func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.token)
	}
	r := httptest.NewRequest("POST", "https://id.example"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://id.example")
	return b.do(r)
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != want {
		t.Fatalf("status %d location %q, want 303 to %q\n%.500s", w.Code, w.Header().Get("Location"), want, w.Body.String())
	}
}

func TestWithoutSessionEveryPageSendsToLogin(t *testing.T) {
	e := newEnv(t, true)
	b := e.browser(nil)
	for path, back := range map[string]string{
		"/account":                            "/account",
		"/account/sites":                      "/account/sites",
		"/account/sessions":                   "/account/sessions",
		"/account/logins":                     "/account/logins",
		"/account/data-use?site=tax&junk=1":   "/account/data-use?site=tax",
		"/account/data-use/export?format=csv": "/account/data-use",
	} {
		wantRedirect(t, b.get(path), "/login?return="+url.QueryEscape(back))
	}
	// A CSRF token from a page seen while signed in, then the session ended.
	b.cookies[web.SessionCookieSecure] = &http.Cookie{Name: web.SessionCookieSecure, Value: e.signIn("cit-1", 0, "").ID}
	b.get("/account/sites")
	delete(b.cookies, web.SessionCookieSecure)
	for _, path := range []string{"/account/sites/revoke", "/account/sessions/end", "/account/sessions/end-others"} {
		w := b.post(path, url.Values{"client": {"tax"}, "session": {"x"}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?return=") {
			t.Errorf("POST %s without a session: %d %q", path, w.Code, w.Header().Get("Location"))
		}
	}
	if len(e.protocol.revoked)+len(e.protocol.ended)+len(e.protocol.endOthers) != 0 {
		t.Fatal("a change was made without a session")
	}
}

func TestProfileShowsTheNumberMasked(t *testing.T) {
	e := newEnv(t, false)
	s := e.signIn("cit-1", time.Hour, "Chrome · Windows")
	for _, lang := range []string{"zh-CN", "en"} {
		b := e.browser(s)
		b.lang = lang
		w := b.get("/account")
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", lang, w.Code)
		}
		for _, never := range []string{number, "19491231", "491231", "张小明", "13900139000"} {
			if strings.Contains(body, never) {
				t.Errorf("%s: profile shows %q", lang, never)
			}
		}
		for _, want := range []string{"110***********002X", "139****9000", "**明", `href="/account/passkeys"`, `aria-current="page"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: profile lacks %q", lang, want)
			}
		}
	}
}

func TestRevokeNeedsAFreshLogin(t *testing.T) {
	e := newEnv(t, false)
	stale := e.browser(e.signIn("cit-1", 11*time.Minute, ""))
	body := stale.get("/account/sites").Body.String()
	for _, want := range []string{"国家税务总局", `name="client" value="tax"`, "2026-02-27 18:00", "2026-03-01 17:00"} {
		if !strings.Contains(body, want) {
			t.Errorf("sites page lacks %q", want)
		}
	}
	wantRedirect(t, stale.post("/account/sites/revoke", url.Values{"client": {"tax"}}), "/login?return=%2Faccount%2Fsites")
	if len(e.protocol.revoked) != 0 {
		t.Fatal("revoked without a fresh login")
	}

	fresh := e.browser(e.signIn("cit-1", time.Minute, ""))
	fresh.get("/account/sites")
	// Without the CSRF token nothing happens.
	if w := fresh.post("/account/sites/revoke", url.Values{"client": {"tax"}, "csrf_token": {"x"}}); w.Code != http.StatusForbidden {
		t.Fatalf("no CSRF token: status %d", w.Code)
	}
	wantRedirect(t, fresh.post("/account/sites/revoke", url.Values{"client": {"tax"}}), "/account/sites?done=revoked")
	if !slices.Equal(e.protocol.revoked, [][2]string{{"cit-1", "tax"}}) {
		t.Fatalf("revoked %v", e.protocol.revoked)
	}
	if body := fresh.get("/account/sites?done=revoked").Body.String(); !strings.Contains(body, web.TextFor("zh-CN").T("account.done.revoked")) {
		t.Error("no confirmation after revoking")
	}
	if body := fresh.get("/account/sites?done=<b>x</b>").Body.String(); strings.Contains(body, "<b>x") || strings.Contains(body, `class="notice"`) {
		t.Error("an unknown done value was shown")
	}
}

func TestSessionsAreNamedByHandleAndEndedOnlyForTheirCitizen(t *testing.T) {
	e := newEnv(t, false)
	cur := e.signIn("cit-1", time.Minute, "Chrome · Windows")
	other := e.signIn("cit-1", 3*time.Hour, "Safari · iOS")
	stranger := e.signIn("cit-2", time.Minute, "Firefox · Linux")
	b := e.browser(cur)
	body := b.get("/account/sessions").Body.String()
	for _, never := range []string{cur.ID, other.ID, stranger.ID, "Firefox"} {
		if strings.Contains(body, never) {
			t.Fatalf("sessions page shows %q", never)
		}
	}
	for _, want := range []string{"Chrome · Windows", "Safari · iOS", "（本设备）", `value="` + Handle(other.ID) + `"`, "结束其他所有登录（1 个）"} {
		if !strings.Contains(body, want) {
			t.Errorf("sessions page lacks %q", want)
		}
	}
	if strings.Contains(body, `value="`+Handle(cur.ID)+`"`) {
		t.Error("the current session has an end button")
	}
	// Someone else's session is not found among the citizen's own.
	wantRedirect(t, b.post("/account/sessions/end", url.Values{"session": {Handle(stranger.ID)}}), "/account/sessions?done=gone")
	// The current one ends by signing out.
	if w := b.post("/account/sessions/end", url.Values{"session": {Handle(cur.ID)}}); w.Code != http.StatusBadRequest {
		t.Errorf("ending the current session: status %d", w.Code)
	}
	wantRedirect(t, b.post("/account/sessions/end", url.Values{"session": {Handle(other.ID)}}), "/account/sessions?done=ended")
	if !slices.Equal(e.protocol.ended, []string{other.ID}) {
		t.Fatalf("ended %v, want only the other session", e.protocol.ended)
	}
	wantRedirect(t, b.post("/account/sessions/end-others", url.Values{}), "/account/sessions?done=ended-others")
	if !slices.Equal(e.protocol.endOthers, [][2]string{{"cit-1", cur.ID}}) {
		t.Fatalf("end others %v", e.protocol.endOthers)
	}
	// A stale login is sent to sign in again first.
	old := e.browser(e.signIn("cit-1", time.Hour, ""))
	old.get("/account/sessions")
	wantRedirect(t, old.post("/account/sessions/end-others", url.Values{}), "/login?return=%2Faccount%2Fsessions")
	if len(e.protocol.endOthers) != 1 {
		t.Fatal("ended sessions without a fresh login")
	}
}

func TestActivityUnavailableWithoutAnAuditTrail(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(e.signIn("cit-1", time.Hour, ""))
	if body := b.get("/account/data-use").Body.String(); !strings.Contains(body, web.TextFor("zh-CN").T("account.activity.unavailable")) {
		t.Error("no 'not available' message")
	}
	if w := b.get("/account/data-use/export?format=csv"); w.Code != http.StatusNotFound {
		t.Errorf("export without an audit trail: %d", w.Code)
	}
}

func TestDataUseIsPagedFilteredAndExported(t *testing.T) {
	e := newEnv(t, true)
	e.activity.events = []Event{
		{At: now.Add(-1 * time.Hour), Kind: KindToken, ClientID: "tax", Released: []string{"openid", "profile"}},
		{At: now.Add(-2 * time.Hour), Kind: KindUserinfo, ClientID: "tax", Released: []string{"name"}},
		{At: now.Add(-3 * time.Hour), Kind: KindIntrospect, ClientID: "evil", CheckedBy: "tax"},
		{At: now.Add(-4 * time.Hour), Kind: KindLogin, Method: "pwd", Network: "203.0.113.0/24"},
	}
	b := e.browser(e.signIn("cit-1", time.Hour, ""))
	b.lang = "en"
	body := b.get("/account/data-use").Body.String()
	for _, want := range []string{"Tokens issued", "openid、profile", "Details read", `href="/account/data-use?cursor=o2"`,
		`href="/account/data-use/export?format=csv"`, `<option value="tax">国家税务总局</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("data-use page lacks %q", want)
		}
	}
	if strings.Contains(body, "203.0.113.0/24") {
		t.Error("a sign-in is listed as a data release")
	}
	body = b.get("/account/data-use?cursor=o2").Body.String()
	if !strings.Contains(body, "=HYPERLINK(1)") || !strings.Contains(body, "checked by 国家税务总局") || !strings.Contains(body, `rel="prev"`) || strings.Contains(body, `rel="next"`) {
		t.Errorf("second page:\n%s", body)
	}
	// A bad cursor shows the first page.
	if body := b.get("/account/data-use?cursor=zzz").Body.String(); !strings.Contains(body, "Tokens issued") {
		t.Error("bad cursor")
	}

	// The filter form is a POST (with its CSRF token) that lands on the GET page.
	wantRedirect(t, b.post("/account/data-use", url.Values{"kind": {"userinfo"}, "site": {"tax"}, "from": {"2026-02-01"}, "to": {"2026-02-28"}, "junk": {"x"}}),
		"/account/data-use?from=2026-02-01&kind=userinfo&site=tax&to=2026-02-28")
	e.activity.queries = nil
	b.get("/account/data-use?from=2026-02-01&kind=userinfo&site=tax&to=2026-02-28")
	q := e.activity.queries[0]
	cst := time.FixedZone("CST", 8*3600)
	if q.CitizenID != "cit-1" || q.ClientID != "tax" || !slices.Equal(q.Kinds, []Kind{KindUserinfo}) ||
		!q.Since.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, cst)) || !q.Until.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, cst)) {
		t.Errorf("query %+v", q)
	}
	// A kind the page does not show is ignored.
	e.activity.queries = nil
	b.get("/account/data-use?kind=login")
	if !slices.Equal(e.activity.queries[0].Kinds, []Kind{KindToken, KindUserinfo, KindIntrospect}) {
		t.Errorf("kinds %v", e.activity.queries[0].Kinds)
	}

	w := b.get("/account/data-use/export?format=csv")
	if ct := w.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(w.Header().Get("Content-Disposition"), `filename="yihao-data-use-20260301.csv"`) {
		t.Errorf("csv headers %v", w.Header())
	}
	csvBody := w.Body.String()
	want := "\ufefftime,kind,site_id,site,released,method,network,checked_by\n" +
		"2026-03-01T09:00:00Z,token,tax,国家税务总局,openid profile,,,\n" +
		"2026-03-01T08:00:00Z,userinfo,tax,国家税务总局,name,,,\n" +
		"2026-03-01T07:00:00Z,introspect,evil,'=HYPERLINK(1),,,,tax\n"
	if csvBody != want {
		t.Errorf("csv:\n%q\nwant\n%q", csvBody, want)
	}
	w = b.get("/account/data-use/export?format=jsonl&site=tax")
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl lines %d:\n%s", len(lines), w.Body.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["site"] != "国家税务总局" || rec["kind"] != "token" {
		t.Errorf("jsonl record %v (%v)", rec, err)
	}
	if w := b.get("/account/data-use/export?format=xml"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown format: %d", w.Code)
	}
}

func TestLoginHistory(t *testing.T) {
	e := newEnv(t, true)
	e.activity.events = []Event{
		{At: now.Add(-time.Hour), Kind: KindLogin, Method: "pwd", Network: "203.0.113.0/24"},
		{At: now.Add(-2 * time.Hour), Kind: KindLoginFailure, Method: "pwd", Network: "198.51.100.0/24"},
		{At: now.Add(-3 * time.Hour), Kind: KindToken, ClientID: "tax"},
	}
	b := e.browser(e.signIn("cit-1", time.Hour, ""))
	body := b.get("/account/logins").Body.String()
	for _, want := range []string{"登录成功", "登录失败", "密码 · 网络 203.0.113.0/24", `class="failed"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login history lacks %q", want)
		}
	}
	if strings.Contains(body, "签发令牌") || strings.Contains(body, `id="site"`) {
		t.Error("login history shows data releases or a site filter")
	}
}

// TestEveryPageInBothLanguages renders each page in zh-CN and en: no missing
// message, no inline script or style, every form with its CSRF token.
func TestEveryPageInBothLanguages(t *testing.T) {
	e := newEnv(t, true)
	e.activity.events = []Event{{At: now, Kind: KindToken, ClientID: "tax", Released: []string{"openid"}}}
	s := e.signIn("cit-1", time.Hour, "")
	e.signIn("cit-1", time.Hour, "Safari · iOS")
	for _, lang := range []string{"zh-CN", "en"} {
		for _, path := range []string{"/account", "/account/sites", "/account/sessions", "/account/logins", "/account/data-use"} {
			b := e.browser(s)
			b.lang = lang
			w := b.get(path)
			body := w.Body.String()
			if w.Code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: status %d", lang, path, w.Code)
			}
			if m := regexp.MustCompile(`MISSING:[\w.-]+`).FindString(body); m != "" {
				t.Errorf("%s %s: untranslated %s", lang, path, m)
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "style=") {
				t.Errorf("%s %s: inline script or style", lang, path)
			}
			for _, form := range regexp.MustCompile(`(?s)<form.*?</form>`).FindAllString(body, -1) {
				if !strings.Contains(form, `name="csrf_token"`) || !strings.Contains(form, `method="post"`) {
					t.Errorf("%s %s: form without CSRF token: %s", lang, path, form)
				}
			}
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"": "", "13800138000": "138****8000", "12345": "*****", "+8613800138000": "138****8000", "+4479460001234": "+44*******1234"} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
