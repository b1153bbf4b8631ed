package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// clientInput is a service site as an administrator registers or edits it,
// from the console form or the admin API.
type clientInput struct {
	ID                     string   `json:"client_id"`
	Name                   string   `json:"client_name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	Scopes                 []string `json:"scopes"`
	GrantTypes             []string `json:"grant_types"`
	MinLevel               int      `json:"min_level"`
	MinACR                 string   `json:"min_acr"`
	AllowIDCard            bool     `json:"allow_idcard"`
	Public                 bool     `json:"public"`
}

var grantTypes = []string{"authorization_code", "refresh_token", "client_credentials", oauth.DeviceGrantType, oauth.CounterGrantType}

// acrs are the minimum acr values a site may require ("" any), weakest first.
var acrs = []string{"", oauth.ACRPassword, oauth.ACRMulti, oauth.ACRInPerson}

// reasonIDCard: the idcard scope without AllowIDCard.
const reasonIDCard identity.FieldReason = "needs_allow_idcard"

func fieldErr(field string, reason identity.FieldReason) error {
	return &identity.FieldError{Field: field, Reason: reason}
}

func checkURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return u.Host == "" && u.Scheme != "" // native apps: private-use schemes (RFC 8252)
}

// validate checks the input and fills defaults; every problem is a
// *identity.FieldError (joined).
func (in *clientInput) validate(creating bool) error {
	var errs []error
	in.ID, in.Name = strings.TrimSpace(in.ID), strings.TrimSpace(in.Name)
	if creating {
		switch {
		case in.ID == "":
			errs = append(errs, fieldErr("client_id", identity.FieldRequired))
		case len(in.ID) > 128 || strings.ContainsAny(in.ID, " /?#%\"'<>\\") || !utf8.ValidString(in.ID):
			errs = append(errs, fieldErr("client_id", identity.FieldInvalid))
		}
	}
	if in.Name == "" {
		errs = append(errs, fieldErr("client_name", identity.FieldRequired))
	} else if utf8.RuneCountInString(in.Name) > 100 {
		errs = append(errs, fieldErr("client_name", identity.FieldTooLong))
	}
	if len(in.GrantTypes) == 0 {
		in.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range in.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			errs = append(errs, fieldErr("grant_types", identity.FieldInvalid))
			break
		}
	}
	if slices.Contains(in.GrantTypes, "authorization_code") && len(in.RedirectURIs) == 0 {
		errs = append(errs, fieldErr("redirect_uris", identity.FieldRequired))
	}
	for _, u := range append(slices.Clone(in.RedirectURIs), in.PostLogoutRedirectURIs...) {
		if !checkURI(u) {
			errs = append(errs, fieldErr("redirect_uris", identity.FieldInvalid))
			break
		}
	}
	if in.BackchannelLogoutURI != "" && !checkURI(in.BackchannelLogoutURI) {
		errs = append(errs, fieldErr("backchannel_logout_uri", identity.FieldInvalid))
	}
	if len(in.Scopes) == 0 {
		in.Scopes = []string{"openid", "profile", "offline_access"}
	}
	for _, s := range in.Scopes {
		if s == "" || len(s) > 64 || strings.ContainsAny(s, " \"\\") {
			errs = append(errs, fieldErr("scopes", identity.FieldInvalid))
			break
		}
	}
	if slices.Contains(in.Scopes, "idcard") && !in.AllowIDCard {
		// The full document number goes only to sites explicitly allowed it.
		errs = append(errs, fieldErr("scopes", reasonIDCard))
	}
	in.MinACR = strings.TrimSpace(in.MinACR)
	if !slices.Contains(acrs, in.MinACR) {
		errs = append(errs, fieldErr("min_acr", identity.FieldInvalid))
	}
	if in.MinLevel < 0 || in.MinLevel > 3 {
		errs = append(errs, fieldErr("min_level", identity.FieldInvalid))
	}
	if in.Public && slices.Contains(in.GrantTypes, "client_credentials") {
		errs = append(errs, fieldErr("grant_types", identity.FieldInvalid))
	}
	return joinErrs(errs)
}

func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// newClient registers a site; the secret (confidential clients) is returned
// once and stored only as its hash.
func (h *Handler) newClient(ctx context.Context, op *identity.Operator, in clientInput) (*oauth.Client, string, error) {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return nil, "", err
	}
	if err := in.validate(true); err != nil {
		return nil, "", err
	}
	now := h.cfg.Now().UTC()
	c := &oauth.Client{ID: in.ID, Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.BackchannelLogoutURI, GrantTypes: in.GrantTypes, Scopes: in.Scopes, MinLevel: in.MinLevel,
		MinACR: in.MinACR, AllowIDCard: in.AllowIDCard, Public: in.Public, SubjectType: "pairwise", IDTokenSignedResponseAlg: "RS256", CreatedAt: now, UpdatedAt: now}
	secret := ""
	if in.Public {
		c.TokenEndpointAuthMethod = "none"
	} else {
		var err error
		if secret, err = oauth.GenerateSecret(); err != nil {
			return nil, "", err
		}
		c.SecretHash = oauth.HashSecret(secret)
	}
	if err := h.cfg.Clients.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	if err := h.cfg.Console.RecordClientChange(ctx, op, "created", c.ID); err != nil {
		return nil, "", err
	}
	return c, secret, h.recordIDCard(ctx, op, false, c)
}

// recordIDCard audits a change of a site's permission to ask for the
// idcard scope (the full document number), apart from the edit itself.
func (h *Handler) recordIDCard(ctx context.Context, op *identity.Operator, before bool, c *oauth.Client) error {
	switch {
	case c.AllowIDCard && !before:
		return h.cfg.Console.RecordClientChange(ctx, op, "idcard_allowed", c.ID)
	case !c.AllowIDCard && before:
		return h.cfg.Console.RecordClientChange(ctx, op, "idcard_withdrawn", c.ID)
	}
	return nil
}

// updateClient changes what an administrator may edit: name, redirect and
// post-logout URIs, scopes, grant types, minimum level and acr, the idcard
// permission, back-channel URI.
func (h *Handler) updateClient(ctx context.Context, op *identity.Operator, id string, in clientInput) (*oauth.Client, error) {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return nil, err
	}
	c, err := h.cfg.Clients.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	in.Public = c.Public
	if err := in.validate(false); err != nil {
		return nil, err
	}
	c.Name, c.RedirectURIs, c.PostLogoutRedirectURIs = in.Name, in.RedirectURIs, in.PostLogoutRedirectURIs
	c.BackchannelLogoutURI, c.Scopes, c.GrantTypes, c.MinLevel = in.BackchannelLogoutURI, in.Scopes, in.GrantTypes, in.MinLevel
	before := c.AllowIDCard
	c.MinACR, c.AllowIDCard = in.MinACR, in.AllowIDCard
	c.UpdatedAt = h.cfg.Now().UTC()
	if err := h.cfg.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	h.cfg.Protocol.ForgetClient(id)
	if err := h.cfg.Console.RecordClientChange(ctx, op, "edited", id); err != nil {
		return nil, err
	}
	return c, h.recordIDCard(ctx, op, before, c)
}

// rotate gives a confidential client a new secret (returned once).
func (h *Handler) rotate(ctx context.Context, op *identity.Operator, id string) (string, error) {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return "", err
	}
	c, err := h.cfg.Clients.Client(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Public {
		return "", fmt.Errorf("console: a public client has no secret: %w", identity.ErrConflict)
	}
	secret, err := oauth.GenerateSecret()
	if err != nil {
		return "", err
	}
	c.SecretHash, c.UpdatedAt = oauth.HashSecret(secret), h.cfg.Now().UTC()
	if err := h.cfg.Clients.UpdateClient(ctx, c); err != nil {
		return "", err
	}
	h.cfg.Protocol.ForgetClient(id)
	return secret, h.cfg.Console.RecordClientChange(ctx, op, "secret_rotated", id)
}

// setDisabled disables (or enables) a client; this replica forgets it at
// once, the others within the client cache's few seconds.
func (h *Handler) setDisabled(ctx context.Context, op *identity.Operator, id string, disabled bool) error {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return err
	}
	c, err := h.cfg.Clients.Client(ctx, id)
	if err != nil {
		return err
	}
	c.Disabled, c.UpdatedAt = disabled, h.cfg.Now().UTC()
	if err := h.cfg.Clients.UpdateClient(ctx, c); err != nil {
		return err
	}
	h.cfg.Protocol.ForgetClient(id)
	what := "disabled"
	if !disabled {
		what = "enabled"
	}
	return h.cfg.Console.RecordClientChange(ctx, op, what, id)
}

// ---- pages ----

func clientViewOf(t web.Text, c *oauth.Client) web.ConsoleClient {
	v := web.ConsoleClient{ID: c.ID, Name: c.Name, RedirectURIs: strings.Join(c.RedirectURIs, "\n"),
		PostLogoutRedirectURIs: strings.Join(c.PostLogoutRedirectURIs, "\n"), BackchannelLogoutURI: c.BackchannelLogoutURI,
		Scopes: strings.Join(c.Scopes, " "), MinLevel: strconv.Itoa(c.MinLevel), Public: c.Public, Disabled: c.Disabled,
		AllowIDCard: c.AllowIDCard}
	for _, g := range grantTypes {
		v.GrantTypes = append(v.GrantTypes, web.ConsoleOption{Value: g, Label: g, Selected: slices.Contains(c.GrantTypes, g)})
	}
	for _, a := range acrs {
		l := t.T("console.client.acr.any")
		if a != "" {
			l = label(t, "console.client.acr.", a) + " · " + a
		}
		v.ACRs = append(v.ACRs, web.ConsoleOption{Value: a, Label: l, Selected: a == c.MinACR})
	}
	return v
}

func formInput(r *http.Request) clientInput {
	lines := func(s string) []string { return strings.Fields(s) }
	in := clientInput{ID: r.PostFormValue("client_id"), Name: r.PostFormValue("client_name"),
		RedirectURIs: lines(r.PostFormValue("redirect_uris")), PostLogoutRedirectURIs: lines(r.PostFormValue("post_logout_redirect_uris")),
		BackchannelLogoutURI: strings.TrimSpace(r.PostFormValue("backchannel_logout_uri")), Scopes: lines(r.PostFormValue("scopes")),
		GrantTypes: r.PostForm["grant_type"], Public: r.PostFormValue("public") != "",
		MinACR: r.PostFormValue("min_acr"), AllowIDCard: r.PostFormValue("allow_idcard") != ""}
	if v := strings.TrimSpace(r.PostFormValue("min_level")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		in.MinLevel = n
	}
	return in
}

func (in clientInput) view(t web.Text) web.ConsoleClient {
	return clientViewOf(t, &oauth.Client{ID: in.ID, Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.BackchannelLogoutURI, Scopes: in.Scopes, GrantTypes: in.GrantTypes, MinLevel: in.MinLevel,
		MinACR: in.MinACR, AllowIDCard: in.AllowIDCard, Public: in.Public})
}

func (h *Handler) clients(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return h.renderClients(w, r, op, http.StatusOK, clientInput{GrantTypes: []string{"authorization_code", "refresh_token"}}, "")
}

func (h *Handler) renderClients(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, in clientInput, msg string) error {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return err
	}
	list, err := h.cfg.Clients.Clients(r.Context())
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.ConsoleClientsData{ConsoleBase: h.base(r, op), New: in.view(t)}
	d.Error = msg
	for _, c := range list {
		d.Clients = append(d.Clients, clientViewOf(t, c))
	}
	return h.cfg.UI.Render(w, r, web.PageConsoleClients, web.View{Status: status, Data: d})
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	in := formInput(r)
	c, secret, err := h.newClient(r.Context(), op, in)
	if err != nil {
		if msg, ok := h.describe(r, err); ok {
			return h.renderClients(w, r, op, http.StatusBadRequest, in, msg)
		}
		return err
	}
	return h.renderClient(w, r, op, c, secret, "")
}

func (h *Handler) renderClient(w http.ResponseWriter, r *http.Request, op *identity.Operator, c *oauth.Client, secret, msg string) error {
	d := web.ConsoleClientData{ConsoleBase: h.base(r, op), Client: clientViewOf(web.TextFor(web.Lang(r, nil)), c), Secret: secret}
	d.Error = msg
	if secret != "" {
		d.Notice = web.TextFor(web.Lang(r, nil)).T("console.client.secret.once")
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusBadRequest
	}
	return h.cfg.UI.Render(w, r, web.PageConsoleClient, web.View{Status: status, Data: d})
}

func (h *Handler) client(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return err
	}
	c, err := h.cfg.Clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderClient(w, r, op, c, "", "")
}

func (h *Handler) editClient(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	id := r.PathValue("id")
	in := formInput(r)
	if _, err := h.updateClient(r.Context(), op, id, in); err != nil {
		msg, ok := h.describe(r, err)
		if !ok {
			return err
		}
		c, lerr := h.cfg.Clients.Client(r.Context(), id)
		if lerr != nil {
			return lerr
		}
		return h.renderClient(w, r, op, c, "", msg)
	}
	done(w, r, "/console/clients/"+url.PathEscape(id), "client-saved")
	return nil
}

func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	id := r.PathValue("id")
	secret, err := h.rotate(r.Context(), op, id)
	if err != nil {
		return err
	}
	c, err := h.cfg.Clients.Client(r.Context(), id)
	if err != nil {
		return err
	}
	return h.renderClient(w, r, op, c, secret, "")
}

func (h *Handler) disableClient(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	id := r.PathValue("id")
	disable := r.PostFormValue("enable") == ""
	if err := h.setDisabled(r.Context(), op, id, disable); err != nil {
		return err
	}
	what := "client-disabled"
	if !disable {
		what = "client-enabled"
	}
	done(w, r, "/console/clients/"+url.PathEscape(id), what)
	return nil
}
