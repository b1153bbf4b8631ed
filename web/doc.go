// Package web is Yihao's browser side: the edge where page requests get
// their security defaults and where errors become pages.
//
// What it holds:
//
//   - UI (New): the page templates and static CSS embedded with embed.FS and
//     parsed once (a page named in Pages that is missing fails New); Render;
//     Page, the adapter for HandlerFunc page handlers; Mount for /static/.
//   - The edge error mapping (C7): a handler returns its error and Page maps
//     it once — identity's typed errors to a localized message (Describe),
//     identity.ErrUnavailable to 503 with Retry-After, an expired flow
//     (FlowError / ErrFlowExpired) to the "this login link has expired" page,
//     a *StatusError to its status, anything else to 500 with a short error
//     id; the cause is logged once, only for 5xx. Clients asking for JSON get
//     {"error", "error_description"}.
//   - Security headers on every page: a strict CSP (no inline script or
//     style; form-action 'self' plus, per response, the client's redirect
//     origin — Chrome applies form-action to the redirect chain after a POST),
//     X-Frame-Options DENY, nosniff, Referrer-Policy same-origin,
//     Cache-Control no-store on every dynamic page, HSTS when Secure.
//   - CSRF: a random per-browser secret in an HttpOnly SameSite=Strict
//     cookie (__Host-yihao-csrf when Secure), an HMAC of it in every form;
//     unsafe requests also fail when Origin names another origin or
//     Sec-Fetch-Site says cross-site. A failed check is a 403 before the
//     handler runs.
//   - i18n: zh-CN (default) and en catalogs; the language comes from ?lang=
//     (remembered in the yihao-lang cookie), then the flow's ui_locales, then
//     Accept-Language. Every page has a switch link.
//   - Sessions: the SSO session cookie (__Host-yihao-session when Secure),
//     a fresh 256-bit id at every login; it implements oauth.SessionReader.
//   - LogoutPages: the confirmation and logged-out pages for oauth's logout
//     endpoint (it implements oauth.LogoutPages).
//   - RequestID and LogHandler: a random request id per request, in the
//     context, the X-Request-Id header and every slog line.
//
// The areas web/login and web/consent mount their routes on the same mux.
// Protocol endpoints (package oauth) are a separate class: no CSRF cookie,
// no page CSP.
package web
