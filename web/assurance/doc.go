// Package assurance is the account centre's side of the two assurance
// axes (DESIGN.md "Assurance has two axes"): the real-name level and how to
// raise it, and the authenticator app (TOTP) a citizen can enrol as a
// second factor for step-up.
//
// Routes (all through web.UI.Page: CSRF on every POST, strict CSP, errors
// mapped once at the edge; no JavaScript):
//
//	GET  /account/level          the level, how and when it was raised, and the next step
//	POST /account/level/send     send a code to the bound phone (level 1, a verifier configured)
//	POST /account/level/verify   check the code, ask the verification service, raise to level 2
//	GET  /account/totp           the authenticator app: on since…, a pending set-up, or a start button
//	POST /account/totp/begin     start a set-up: a new secret, shown until confirmed
//	POST /account/totp/confirm   enrolment=<id>, code: the first code makes it a second factor
//	POST /account/totp/remove    turn it off
//
// Without a session every route answers 303 to /login?return=<page>. Every
// POST (and showing a pending secret) also needs a fresh login — at most
// Config.FreshFor (10 minutes) old, the account centre's rule for changes;
// otherwise the POST changes nothing and answers 303 to the login page. A
// done change answers 303 to its page with ?done=<what>.
//
// The phone code is bound to the SSO session; the name and number sent to
// the verification service are the account's own (the citizen types
// neither), and the page says so before anything is sent.
package assurance
