package web

import (
	"net/http"

	"github.com/yihao-gov/yihao/oauth"
)

// LogoutPath is the RP-initiated logout endpoint (package oauth serves it).
// The logout confirmation and the home page's sign-out button post to it.
const LogoutPath = "/oauth2/logout"

// LogoutPages is the browser side of logout: it implements oauth.LogoutPages
// for the logout endpoint, which package oauth serves.
//
// logout_confirm.html is a form POSTing to LogoutPath with the hidden fields
// id_token_hint, post_logout_redirect_uri, state and client_id (the prompt's
// values, which oauth validated) and two buttons named "confirm" with the
// values "yes" and "no". Every page gets the same security headers as a
// UI.Page route; the CSP form-action also allows the post-logout redirect
// URI's origin, because the confirmed POST ends there.
type LogoutPages struct {
	UI       *UI
	Sessions *Sessions
}

var _ oauth.LogoutPages = (*LogoutPages)(nil)

// ConfirmLogout asks the citizen to confirm.
func (p *LogoutPages) ConfirmLogout(w http.ResponseWriter, r *http.Request, prompt oauth.LogoutPrompt) {
	p.UI.securityHeaders(w)
	p.UI.rememberLang(w, r)
	err := p.UI.Render(w, r, PageLogoutConfirm, View{FormAction: FormActionOrigin(prompt.PostLogoutRedirectURI), Data: prompt})
	if err != nil {
		p.UI.writeError(w, r, err)
	}
}

// LoggedOut shows the "you have signed out" page.
func (p *LogoutPages) LoggedOut(w http.ResponseWriter, r *http.Request) {
	p.UI.securityHeaders(w)
	p.UI.rememberLang(w, r)
	if err := p.UI.Render(w, r, PageLoggedOut, View{Data: LoggedOutData{}}); err != nil {
		p.UI.writeError(w, r, err)
	}
}

// Error shows err the way every page handler's error is shown.
func (p *LogoutPages) Error(w http.ResponseWriter, r *http.Request, err error) {
	p.UI.securityHeaders(w)
	p.UI.writeError(w, r, err)
}

// ClearSessionCookie removes the SSO cookie.
func (p *LogoutPages) ClearSessionCookie(w http.ResponseWriter) {
	p.Sessions.ClearCookie(w)
}
