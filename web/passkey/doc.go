// Package passkey holds WebAuthn passkeys in the browser: enrolment from the
// signed-in account, and sign-in with a passkey on the login page.
//
// How enrolment moves:
//
//  1. GET /account/passkeys (an SSO session is required; without one the
//     browser is sent to /login) lists the citizen's passkeys, with an "Add a
//     passkey" form that web/static/passkey.js drives.
//  2. POST /account/passkeys/begin (CSRF token as a form field, JSON answer)
//     makes sure the citizen has a random WebAuthn user handle
//     (identity.EnsureUserHandle: 32 random bytes, never the ID number),
//     creates the options (resident key and user verification required, no
//     attestation, the existing passkeys excluded) and keeps the ceremony
//     state in the oauth.StateStore under kind "webauthn" for five minutes.
//     The answer is {"ceremony": id, "publicKey": options}.
//  3. The browser calls navigator.credentials.create and posts the result to
//     POST /account/passkeys/finish with the ceremony id. The ceremony is
//     used once (UseState); it must belong to the same citizen as the
//     session. The verified credential is stored (identity.PasskeyRepository).
//  4. POST /account/passkeys/{id}/rename and /delete change one passkey of
//     the signed-in citizen ({id} is the base64url credential id).
//
// How sign-in moves:
//
//  1. login.html shows "Sign in with a passkey" when the browser supports
//     WebAuthn. POST /login/passkey/begin takes the login form's CSRF token,
//     its flow id (optional) and its username field (optional). Without a
//     number the options are discoverable (no allowCredentials: the device
//     lists its passkeys, no ID number typed). With a number they list that
//     citizen's passkeys; an unknown number, or one without passkeys, gets a
//     decoy credential id derived from the number with a server key, so the
//     answer does not tell whether the number is registered.
//  2. POST /login/passkey/finish verifies the assertion (origin = the
//     issuer's origin, RP ID = its host, user verification required), finds
//     the citizen through the user handle or the ceremony, refuses a frozen
//     account, and records the new signature counter in one conditional
//     write: a counter that does not move forward is refused and logged as a
//     possible clone (identity.ErrSignCountRegressed).
//  3. It starts a brand-new SSO session (web.Sessions.Start) with acr
//     urn:yihao:acr:3 and amr ["hwk"] for a device-bound passkey or ["swk"]
//     for a synced one, calls Flows.LoginDone for the flow bound at begin,
//     and answers {"redirect": next}; passkey.js navigates there.
//
// Every POST goes through web.UI.Page: the CSRF and Origin checks, and errors
// mapped once (JSON because passkey.js asks for it).
package passkey
