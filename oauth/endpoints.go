package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// token is the token endpoint (authorization_code, refresh_token, client_credentials).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	ctx, u := beginUnit(r.Context())
	defer func() {
		if err := p.storage.endUnit(ctx, u); err != nil {
			p.log.WarnContext(ctx, "token: consuming a code after a failed redemption", "err", err)
		}
	}()
	session := NewSession()
	ar, err := p.fosite.NewAccessRequest(ctx, r, session)
	if err != nil {
		p.fosite.WriteAccessError(ctx, w, ar, p.accessErr(r, err))
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		client := ar.GetClient().(fositeClient).c
		for _, s := range ar.GetRequestedScopes() {
			if s == "openid" || s == "offline_access" || s == "idcard" || s == "profile" || s == "phone" || s == "email" {
				p.fosite.WriteAccessError(ctx, w, ar, fosite.ErrInvalidScope.WithHintf("Scope %q needs a citizen; client_credentials tokens carry none.", s))
				return
			}
			ar.GrantScope(s)
		}
		ar.GrantAudience(client.ID)
		for _, a := range ar.GetRequestedAudience() {
			ar.GrantAudience(a)
		}
		session.Subject = client.ID
		session.AccessClaims.Subject = client.ID
		session.AccessClaims.Extra["client_id"] = client.ID
		channel := client.Channel
		if channel == "" {
			channel = "api" // a back-end service acting for itself
		}
		session.AccessClaims.Extra["channel"] = channel
	}
	resp, err := p.fosite.NewAccessResponse(ctx, ar)
	if err != nil {
		p.fosite.WriteAccessError(ctx, w, ar, p.accessErr(r, err))
		return
	}
	// The grant handler may have replaced the session (refresh, device grant).
	issued, _ := ar.GetSession().(*Session)
	if err := p.auditTokenIssued(ctx, r, ar, issued); err != nil {
		p.log.ErrorContext(ctx, "audit: token issue not recorded", "err", err)
		p.fosite.WriteAccessError(ctx, w, ar, fosite.ErrTemporarilyUnavailable)
		return
	}
	p.fosite.WriteAccessResponse(ctx, w, ar, resp)
}

// accessErr maps storage errors surfacing through fosite to the RFC error:
// a lost code-redemption or rotation race is invalid_grant, an unreachable
// backend is temporarily_unavailable (503).
func (p *Provider) accessErr(r *http.Request, err error) error {
	switch {
	case errors.Is(err, identity.ErrConflict) || errors.Is(err, fosite.ErrInactiveToken):
		return fosite.ErrInvalidGrant.WithHint("The grant has already been used.")
	case errors.Is(err, identity.ErrUnavailable):
		p.log.WarnContext(r.Context(), "backend unavailable", "err", err)
		return fosite.ErrTemporarilyUnavailable
	}
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) && rfc.ErrorField == fosite.ErrServerError.ErrorField && r.Context().Err() == nil {
		p.log.ErrorContext(r.Context(), "token request failed", "cause", causeText(rfc), "debug", rfc.DebugField)
	}
	return err
}

// introspect is RFC 7662: revoked or expired tokens are active=false.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, err := p.fosite.NewIntrospectionRequest(ctx, r, NewSession())
	if err != nil {
		if errors.Is(err, identity.ErrUnavailable) {
			p.fosite.WriteIntrospectionError(ctx, w, fosite.ErrTemporarilyUnavailable)
			return
		}
		p.fosite.WriteIntrospectionError(ctx, w, err)
		return
	}
	if err := p.auditIntrospection(ctx, r, ir); err != nil {
		p.log.WarnContext(ctx, "audit: introspection not recorded", "err", err)
		p.fosite.WriteIntrospectionError(ctx, w, fosite.ErrTemporarilyUnavailable)
		return
	}
	p.fosite.WriteIntrospectionResponse(ctx, w, ir)
}

// revoke is RFC 7009. Revoking a refresh token ends its whole grant family
// and the grant's access tokens.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := p.fosite.NewRevocationRequest(ctx, r)
	if errors.Is(err, identity.ErrUnavailable) {
		err = fosite.ErrTemporarilyUnavailable
	}
	p.fosite.WriteRevocationResponse(ctx, w, err)
}

// userinfo releases the claims the granted scopes allow.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		bearerError(w, http.StatusUnauthorized, "invalid_request", "An access token is required.")
		return
	}
	session := NewSession()
	_, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, session, "openid")
	if err != nil {
		switch {
		case errors.Is(err, identity.ErrUnavailable):
			bearerError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Try again shortly.")
		case errors.Is(err, fosite.ErrInvalidScope):
			bearerError(w, http.StatusForbidden, "insufficient_scope", "The token lacks the openid scope.")
		default:
			bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
		}
		return
	}
	if session.CitizenID == "" {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "The token was not issued for a citizen.")
		return
	}
	citizen, err := p.deps.Citizens.Citizen(ctx, session.CitizenID)
	if err != nil || citizen.Status != identity.StatusActive {
		if errors.Is(err, identity.ErrUnavailable) {
			bearerError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Try again shortly.")
			return
		}
		bearerError(w, http.StatusUnauthorized, "invalid_token", "The account is not active.")
		return
	}
	out := Claims(citizen, ar.GetGrantedScopes())
	out["sub"] = session.Subject
	if err := p.auditUserinfo(ctx, r, ar, session, out); err != nil {
		p.log.WarnContext(ctx, "audit: userinfo release not recorded", "err", err)
		bearerError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "Try again shortly.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// Claims are the citizen claims released for the granted scopes.
func Claims(c *identity.Citizen, scopes []string) map[string]any {
	out := map[string]any{}
	if slices.Contains(scopes, "profile") {
		out["name"] = c.Name
		if bd, ok := c.Number.BirthDate(); ok {
			out["birthdate"] = bd.Format("2006-01-02")
		}
		if sex, ok := c.Number.Sex(); ok {
			out["gender"] = string(sex)
		}
		for k, v := range LevelClaims(c) {
			out[k] = v
		}
	}
	if slices.Contains(scopes, "phone") && c.Phone != "" {
		out["phone_number"] = c.Phone
		out["phone_number_verified"] = false
	}
	if slices.Contains(scopes, "email") && c.Email != "" {
		out["email"] = c.Email
		out["email_verified"] = true // bound only after a code sent to it was entered
	}
	if slices.Contains(scopes, "idcard") {
		out["id_document_type"] = string(c.Number.Type())
		out["id_number"] = c.Number.Value()
	}
	return out
}

func bearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+strings.ReplaceAll(desc, `"`, "'")+`"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// serveDiscovery serves the precomputed discovery document.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.discovery)
}

func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.deps.Keys.JWKS())
}

func (p *Provider) buildDiscovery() ([]byte, error) {
	iss := p.cfg.Issuer
	return json.MarshalIndent(map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + "/oauth2/auth",
		"token_endpoint":                                 iss + "/oauth2/token",
		"userinfo_endpoint":                              iss + "/userinfo",
		"jwks_uri":                                       iss + "/.well-known/jwks.json",
		"introspection_endpoint":                         iss + "/oauth2/introspect",
		"revocation_endpoint":                            iss + "/oauth2/revoke",
		"end_session_endpoint":                           iss + "/oauth2/logout",
		"scopes_supported":                               knownScopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                        []string{"pairwise", "public"},
		"id_token_signing_alg_values_supported":          []string{RS256, ES256},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":               []string{"S256"},
		"claims_supported":                               []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "channel", "level", "level_method", "level_verified_at", "name", "birthdate", "gender", "phone_number", "phone_number_verified", "email", "email_verified", "id_document_type", "id_number"},
		"acr_values_supported":                           []string{ACRPassword, ACRMulti, ACRInPerson},
		"prompt_values_supported":                        []string{"none", "login", "consent"},
		"ui_locales_supported":                           []string{"zh-CN", "en"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"frontchannel_logout_supported":                  false,
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
	}, "", "  ")
}

// causeText is the innermost cause of a fosite error, without its stack.
func causeText(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
