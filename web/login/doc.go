// Package login holds the citizen's sign-in, registration and home pages.
//
// How the flow moves:
//
//  1. A site sends the browser to the authorization endpoint (package oauth).
//     When a login is needed, oauth stores an oauth.Flow and redirects the
//     browser to GET /login?flow=<id>.
//  2. GET /login shows which site is asking (Flow.ClientName) and a form with
//     username (the document number; pre-filled from the flow's login_hint),
//     password, the hidden flow id and the CSRF token.
//  3. POST /login (CSRF checked by web.UI.Page before this package runs) calls
//     Authenticator.Login. On success it starts a brand-new SSO session
//     (web.Sessions.Start: acr oauth.ACRPassword, amr [pwd], channel web),
//     calls Flows.LoginDone and answers 303 to the URL it returns — back into
//     the authorization endpoint, which continues to consent or to the site.
//     Without a flow (someone opened /login directly) it answers 303 to /.
//  4. Errors stay on the form: a malformed number shows the NumberError's
//     message (which part is wrong); a wrong number or password, or a frozen
//     account, one uniform message (no enumeration); too many attempts, a 429
//     with "try again in N minutes". The number the citizen typed is put back
//     into the field (the response body only: never a URL, never a log).
//     An expired flow shows the "this login link has expired" page.
//
// GET/POST /register creates an account (Registrar). Success and "already
// registered" both redirect (303) to the same GET /register/done page, so
// the page cannot be used to learn whether a number has an account. Field
// errors are shown next to their field.
//
// GET/POST /login/recover (recover.go, with Recovery) sets a new password
// through an SMS code: the number, then the code and the new password, then
// a "done" page linking back to the flow's sign-in. Every number gets the
// same pages. A password sign-in locked after too many failures
// (identity.ErrPasswordLocked) shows a 429 that points here and to SMS login.
//
// GET / is a small home page: who is signed in (masked name), with a sign-out
// button that posts to /logout (served by package oauth).
package login
