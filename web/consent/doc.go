// Package consent holds the page where a citizen allows or denies a site
// access to their information.
//
// How the flow moves: after the login step, the authorization endpoint
// (package oauth) finds scopes the citizen has not consented to yet and
// redirects the browser to GET /consent?flow=<id>. The page requires the
// browser's SSO session to be the one that completed the flow's login step
// (Flow.SessionID); otherwise it answers 403 with "your sign-in has expired".
// It names the site (Flow.ClientName) and says in plain words what the site
// will receive, one line per scope; the idcard scope is shown with a warning
// and the PIPL separate-consent wording. Allow and Deny post to POST /consent
// (CSRF checked by web.UI.Page), which calls Flows.ConsentDone and answers
// 303 to the URL it returns: back into the authorization endpoint on Allow,
// or to the site with access_denied on Deny.
package consent
