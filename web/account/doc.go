// Package account is the citizen's account centre at /account: what Yihao
// holds about them, which sites they let in, where they are signed in, and
// who used their data.
//
// Routes (all pages go through web.UI.Page: CSRF on every POST, strict CSP,
// errors mapped once at the edge; everything works without JavaScript):
//
//	GET  /account                      profile: masked name, document number
//	                                   (first 3 and last 4: the birth date never
//	                                   shows), masked phone, real-name level and
//	                                   how to raise it
//	GET  /account/sites                sites I use: scopes consented, when, last use
//	POST /account/sites/revoke         client=<id>: withdraw consent, revoke that
//	                                   site's tokens, back-channel logout to it
//	GET  /account/sessions             live sessions: device, channel, method, times
//	POST /account/sessions/end         session=<handle>: end one other session
//	POST /account/sessions/end-others  end every session but this one
//	GET  /account/contact              phone and email: change or remove them with
//	                                   a code to the new one (contact.go lists the POSTs)
//	GET  /account/logins               login history (paged, filterable)
//	GET  /account/data-use             who used my data: tokens issued, userinfo
//	                                   calls, introspections (paged, filterable)
//	POST /account/logins, /account/data-use
//	                                   the filter form; answers 303 to the GET page
//	GET  /account/logins/export, /account/data-use/export
//	                                   ?format=csv|jsonl with the same filter: a download
//
// How a request moves: without a live session every route answers 303 to
// /login?return=<the page>, and the login page comes back there. A change
// (the three POSTs that revoke or end something) also needs a fresh
// authentication: when the session's AuthTime is older than Config.FreshFor
// (10 minutes), the POST changes nothing and answers 303 to
// /login?return=<the section>; after signing in again the citizen presses
// the button once more. A done change answers 303 to its section with
// ?done=<what>, which shows a fixed, localized confirmation.
//
// Sessions are named on the page by an opaque handle (a hash of the session
// id), never by the id itself, which is the session cookie. Ending a session
// looks the handle up among the citizen's own sessions, so a handle of
// someone else's session finds nothing.
//
// The login history and the data-use record come from the audit trail through
// the small Activity port; without one the pages say that the record is not
// available yet.
package account
