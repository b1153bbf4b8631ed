package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Page template names. Every name here must exist in templates/ or New fails.
const (
	PageLogin         = "login.html"
	PageRegister      = "register.html"
	PageRegisterDone  = "register_done.html"
	PageConsent       = "consent.html"
	PageHome          = "home.html"
	PageError         = "error.html"
	PageLogoutConfirm = "logout_confirm.html"
	PageLoggedOut     = "logged_out.html"
	PagePasskeys      = "passkeys.html"
)

// Pages lists every page template name.
func Pages() []string {
	return append([]string{PageLogin, PageRegister, PageRegisterDone, PageConsent, PageHome,
		PageError, PageLogoutConfirm, PageLoggedOut, PageLoginSMS, PageLoginSMSCode, PageLoginStepUp, PagePasskeys,
		PageAccount, PageAccountSites, PageAccountSessions, PageAccountActivity,
		PageDevice}, append(append(append(append(consolePages(), recoveryPages()...), qrPages()...), assurancePages()...), contactPages()...)...)
}

// layoutFile wraps every page; partialsFile holds the pieces pages share
// ({{define "console_header"}} …), parsed with it for every page.
const (
	layoutFile   = "layout.html"
	partialsFile = "partials.html"
)

// Config is what the browser side needs. cmd fills it from the typed config.
type Config struct {
	// Logger receives one line per failed request (the edge of C7).
	Logger *slog.Logger
	// CSRFKey is the server key (at least 32 bytes) that derives a form's
	// CSRF token from the browser's CSRF cookie.
	CSRFKey []byte
	// Secure: the site is served over HTTPS. It selects the __Host- cookies,
	// Secure cookie attribute and HSTS. False only for `serve --dev` on
	// http://localhost.
	Secure bool
	// Origin is our own external origin ("https://id.example.gov.cn"). POSTs
	// whose Origin header names another origin are refused. Empty: derived
	// from the request's Host and Secure.
	Origin string
}

// UI renders pages and wraps page handlers with the security defaults of the
// browser side: request headers, CSRF, the language switch and the mapping of
// errors to pages.
type UI struct {
	log     *slog.Logger
	secure  bool
	origin  string
	csrfKey []byte
	pages   map[string]*template.Template
	static  *staticFiles
}

// New parses every template once. It fails when a page named in Pages is
// missing or does not parse, or when the CSRF key is too short.
func New(cfg Config) (*UI, error) { return newUI(cfg, assets) }

func newUI(cfg Config, fsys fs.FS) (*UI, error) {
	if len(cfg.CSRFKey) < 32 {
		return nil, fmt.Errorf("web: CSRF key must be at least 32 bytes, got %d", len(cfg.CSRFKey))
	}
	if cfg.Origin != "" {
		o, err := url.Parse(cfg.Origin)
		if err != nil || (o.Scheme != "https" && o.Scheme != "http") || o.Host == "" || (o.Path != "" && o.Path != "/") {
			return nil, fmt.Errorf("web: origin %q must be scheme://host[:port]", cfg.Origin)
		}
		cfg.Origin = o.Scheme + "://" + o.Host
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := loadStatic(fsys)
	if err != nil {
		return nil, err
	}
	u := &UI{log: log, secure: cfg.Secure, origin: cfg.Origin, csrfKey: append([]byte(nil), cfg.CSRFKey...),
		pages: map[string]*template.Template{}, static: static}
	tfs, err := fs.Sub(fsys, "templates")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	for _, name := range Pages() {
		if _, err := fs.Stat(tfs, name); err != nil {
			return nil, fmt.Errorf("web: page template %s: %w", name, err)
		}
		t, err := template.New(name).Option("missingkey=error").ParseFS(tfs, layoutFile, partialsFile, name)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		if t.Lookup("content") == nil || t.Lookup("title") == nil {
			return nil, fmt.Errorf("web: %s must define \"title\" and \"content\"", name)
		}
		u.pages[name] = t
	}
	return u, nil
}

// Mount serves the embedded static files under /static/.
func (u *UI) Mount(mux *http.ServeMux) {
	mux.Handle("GET /static/", u.static)
}

// View is what a handler hands to Render besides the page name.
type View struct {
	// Status defaults to 200.
	Status int
	// UILocales are the flow's ui_locales, used when the citizen did not
	// choose a language explicitly.
	UILocales []string
	// FormAction is one more origin allowed in the CSP form-action directive:
	// the client's redirect-URI origin on pages whose POST ends in a redirect
	// to the client (see FormActionOrigin).
	FormAction string
	// SwitchQuery holds query parameters the language switch link must keep
	// when the page answers a POST (for example the flow id).
	SwitchQuery url.Values
	// Data is the page's own data (LoginData, ConsentData, …).
	Data any
}

// page is what every template receives.
type page struct {
	L          Text   // {{.L.T "key"}}
	Lang       string // the html lang attribute
	CSRF       string // the hidden csrf_token field value
	CSS        string // stylesheet URL
	SwitchURL  string
	SwitchLang string
	LogoutPath string
	BodyClass  string // "area-console page-console-audit": hooks for the stylesheet
	SignOut    bool   // the header links to the sign-out confirmation (account pages: always signed in)
	Data       any
	static     *staticFiles
}

// bodyClass names a page for the stylesheet: its area (the file name's first
// word: console, account, login, …) and the page itself.
func bodyClass(name string) string {
	page := strings.ReplaceAll(strings.TrimSuffix(name, ".html"), "_", "-")
	area, _, _ := strings.Cut(page, "-")
	if area == "passkeys" {
		area = "account"
	}
	return "area-" + area + " page-" + page
}

// Static is the versioned URL of a file under static/ ({{$.Static "passkey.js"}}).
func (p page) Static(name string) string { return p.static.url(name) }

// CSRFField is the name of the hidden form field holding the CSRF token.
const CSRFField = "csrf_token"

// Render executes a page with the layout and writes it. The page is rendered
// into a buffer first, so a template error becomes a clean 500 (returned).
func (u *UI) Render(w http.ResponseWriter, r *http.Request, name string, v View) error {
	t, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	lang := Lang(r, v.UILocales)
	class := bodyClass(name)
	p := page{
		L:          TextFor(lang),
		Lang:       lang,
		CSRF:       u.csrfToken(w, r),
		CSS:        u.static.url("yihao.css"),
		SwitchURL:  switchURL(r, lang, v.SwitchQuery),
		SwitchLang: otherLang(lang),
		LogoutPath: LogoutPath,
		BodyClass:  class,
		SignOut:    strings.HasPrefix(class, "area-account "),
		Data:       v.Data,
		static:     u.static,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	if v.FormAction != "" {
		AllowFormAction(w, v.FormAction)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// switchURL is the current page in the other language. For a GET it keeps the
// query; for a POST (a form shown again) it keeps only keep.
func switchURL(r *http.Request, lang string, keep url.Values) string {
	q := url.Values{}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q = r.URL.Query()
	}
	for k, vs := range keep {
		q[k] = vs
	}
	q.Set("lang", otherLang(lang))
	return r.URL.Path + "?" + q.Encode()
}

// FormActionOrigin returns the origin (scheme://host[:port]) of an absolute
// http(s) URL, for View.FormAction, or "" when it has none. Only pass URLs
// already validated against the client's registration.
func FormActionOrigin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	if strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
