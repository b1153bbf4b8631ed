// Package console is the operator console (/console) and the admin API
// (/admin/api), for staff at service halls and back offices.
//
// Operators sign in with a password and a TOTP code (identity.Console.SignIn)
// and get their own session cookie (__Host-yihao-console), separate from
// citizens': a record in the state store (kind "opsess", 30 minutes idle,
// 8 hours at most) holding the operator id only, keyed by a hash of the
// cookie. Every request loads the operator again, so a change of roles or
// region, or disabling, applies at once.
//
// Pages go through web.UI.Page (CSRF, CSP, errors) and work without
// JavaScript, in Chinese and English:
//
//	GET  /console                        find a citizen by full number + reason
//	POST /console/lookup                 → 303 /console/citizens/{id}
//	GET  /console/citizens/{id}          masked number, name, level, status, phone
//	POST /console/citizens/{id}/phone    bind (phone) or unbind (unbind=1)
//	POST /console/citizens/{id}/freeze   freeze: sessions end, tokens revoked
//	POST /console/citizens/{id}/unfreeze ask; a second operator approves
//	POST /console/citizens/{id}/reset    clear the password, end sessions
//	GET|POST /console/register           register in person (level 3)
//	GET  /console/approvals, POST /console/approvals/{id}/approve|reject
//	GET|POST /console/clients, GET|POST /console/clients/{id},
//	POST /console/clients/{id}/secret|disable
//	GET|POST /console/operators, POST /console/operators/{id}/change
//
// The admin API offers the same operations as JSON (see openapi.json, served
// at GET /admin/api/openapi.json). It takes a client_credentials access token
// with scope "admin", validated in process (oauth.Provider.ValidateAccessToken),
// whose client is bound to an operator; it acts as that operator.
//
// Neither side decides who may see or change a citizen: every action goes
// through identity.Console, the one place where roles and region scope are
// enforced.
package console
