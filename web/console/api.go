package console

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// openAPI is the hand-written OpenAPI 3 description of the admin API.
//
//go:embed openapi.json
var openAPI []byte

// apiFunc is an admin-API handler: it returns the status and the JSON body,
// or an error that apiErr maps once.
type apiFunc func(r *http.Request, op *identity.Operator) (int, any, error)

func (h *Handler) mountAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(openAPI)
	})
	mux.Handle("POST /admin/api/citizens/lookup", h.api(h.apiLookup))
	mux.Handle("POST /admin/api/citizens", h.api(h.apiRegister))
	mux.Handle("GET /admin/api/citizens/{id}", h.api(h.apiCitizen))
	mux.Handle("PUT /admin/api/citizens/{id}/phone", h.api(h.apiPhone))
	mux.Handle("DELETE /admin/api/citizens/{id}/phone", h.api(h.apiPhone))
	mux.Handle("POST /admin/api/citizens/{id}/freeze", h.api(h.apiFreeze))
	mux.Handle("POST /admin/api/citizens/{id}/unfreeze", h.api(h.apiUnfreeze))
	mux.Handle("POST /admin/api/citizens/{id}/reset-credentials", h.api(h.apiReset))
	mux.Handle("GET /admin/api/approvals", h.api(h.apiApprovals))
	mux.Handle("POST /admin/api/approvals/{id}/approve", h.api(h.apiDecide(true)))
	mux.Handle("POST /admin/api/approvals/{id}/reject", h.api(h.apiDecide(false)))
	mux.Handle("GET /admin/api/clients", h.api(h.apiClients))
	mux.Handle("POST /admin/api/clients", h.api(h.apiCreateClient))
	mux.Handle("GET /admin/api/clients/{id}", h.api(h.apiClient))
	mux.Handle("PUT /admin/api/clients/{id}", h.api(h.apiUpdateClient))
	mux.Handle("POST /admin/api/clients/{id}/secret", h.api(h.apiRotate))
	mux.Handle("POST /admin/api/clients/{id}/disable", h.api(h.apiDisable))
	h.mountAPIMore(mux)
}

// errNotBound: the token's client acts as no operator.
var errNotBound = errors.New("console: client is not bound to an operator")

// api authenticates the bearer token (scope admin, a client bound to an
// active operator) and maps the result to JSON.
func (h *Handler) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		op, err := h.apiOperator(r)
		if err != nil {
			h.apiErr(w, r, err)
			return
		}
		status, body, err := f(r, op)
		if err != nil {
			h.apiErr(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

func (h *Handler) apiOperator(r *http.Request) (*identity.Operator, error) {
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, oauth.ErrInvalidToken
	}
	clientID, err := h.cfg.Protocol.ValidateAccessToken(r.Context(), strings.TrimSpace(token), AdminScope)
	if err != nil {
		return nil, err
	}
	op, err := h.cfg.Console.OperatorForClient(r.Context(), clientID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, errNotBound
	}
	return op, err
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if body != nil {
		json.NewEncoder(w).Encode(body)
	}
}

// apiErr is the one place the admin API maps errors to HTTP.
func (h *Handler) apiErr(w http.ResponseWriter, r *http.Request, err error) {
	t := web.TextFor(web.Lang(r, nil))
	out := func(status int, code, key string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": t.T(key)})
	}
	switch {
	case errors.Is(err, oauth.ErrInvalidToken):
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		out(http.StatusUnauthorized, "invalid_token", "console.api.token")
	case errors.Is(err, oauth.ErrInsufficientScope):
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="admin"`)
		out(http.StatusForbidden, "insufficient_scope", "console.api.scope")
	case errors.Is(err, errNotBound):
		out(http.StatusForbidden, "access_denied", "console.api.unbound")
	case errors.Is(err, identity.ErrOutOfRegion):
		out(http.StatusForbidden, "out_of_region", "console.error.region")
	case errors.Is(err, identity.ErrForbidden):
		out(http.StatusForbidden, "access_denied", "console.error.forbidden")
	case errors.Is(err, identity.ErrNotFound):
		out(http.StatusNotFound, "not_found", "console.error.notfound")
	case errors.Is(err, identity.ErrSameOperator):
		out(http.StatusConflict, "same_operator", "console.error.same")
	case errors.Is(err, identity.ErrNotPending):
		out(http.StatusConflict, "not_pending", "console.error.notpending")
	case errors.Is(err, identity.ErrMergeExpired):
		out(http.StatusConflict, "merge_expired", "console.error.expired")
	case errors.Is(err, identity.ErrAlreadyRegistered), errors.Is(err, identity.ErrAlreadyExists):
		out(http.StatusConflict, "already_exists", "console.error.exists")
	case errors.Is(err, identity.ErrConflict):
		out(http.StatusConflict, "conflict", "console.error.conflict")
	case errors.Is(err, identity.ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		out(http.StatusServiceUnavailable, "temporarily_unavailable", "error.unavailable")
	default:
		if msg, ok := h.describe(r, err); ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": msg})
			return
		}
		// Not the caller's doing: logged once, here, with an id to quote.
		b := make([]byte, 6)
		rand.Read(b)
		id := strings.ToUpper(hex.EncodeToString(b))
		h.cfg.Logger.ErrorContext(r.Context(), "admin api request failed", slog.String("error_id", id),
			slog.String("method", r.Method), slog.String("route", r.Pattern), slog.Any("err", err))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error",
			"error_description": t.T("error.internal"), "error_id": id})
	}
}

// decode reads a JSON body (at most 64 KiB, no unknown fields).
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &identity.FieldError{Field: "body", Reason: identity.FieldInvalid}
	}
	return nil
}

// apiCitizen is a citizen in the API: masked number and phone, as on the
// console's pages.
type apiCitizenBody struct {
	ID                 string     `json:"id"`
	DocumentType       string     `json:"document_type"`
	MaskedNumber       string     `json:"masked_number"`
	Name               string     `json:"name"`
	MaskedPhone        string     `json:"masked_phone,omitempty"`
	Level              int        `json:"level"`
	Status             string     `json:"status"`
	Region             string     `json:"region"`
	CredentialsResetAt *time.Time `json:"credentials_reset_at,omitempty"`
}

func citizenBody(c *identity.ConsoleCitizen) apiCitizenBody {
	b := apiCitizenBody{ID: c.ID, DocumentType: string(c.Number.Type()), MaskedNumber: c.Number.Masked(), Name: c.Name,
		MaskedPhone: maskPhone(c.Phone), Level: int(c.Level), Status: string(c.Status), Region: c.Region}
	if !c.CredentialsResetAt.IsZero() {
		at := c.CredentialsResetAt
		b.CredentialsResetAt = &at
	}
	return b
}

// lookupBody names a citizen by full document number, with the reason the
// look-up is audited with.
type lookupBody struct {
	DocumentType string `json:"document_type"`
	Number       string `json:"number"`
	Reason       string `json:"reason"`
}

// lookupBy runs the audited look-up of in.
func (h *Handler) lookupBy(r *http.Request, op *identity.Operator, in lookupBody) (*identity.ConsoleCitizen, error) {
	dt, err := parseDocType(in.DocumentType)
	if err != nil {
		return nil, err
	}
	return h.cfg.Console.Lookup(r.Context(), op, dt, in.Number, in.Reason)
}

func (h *Handler) apiLookup(r *http.Request, op *identity.Operator) (int, any, error) {
	var in lookupBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	c, err := h.lookupBy(r, op, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, citizenBody(c), nil
}

func (h *Handler) apiRegister(r *http.Request, op *identity.Operator) (int, any, error) {
	var in struct {
		DocumentType string `json:"document_type"`
		Number       string `json:"number"`
		Name         string `json:"name"`
		Phone        string `json:"phone"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	dt, err := parseDocType(in.DocumentType)
	if err != nil {
		return 0, nil, err
	}
	c, err := h.cfg.Console.RegisterInPerson(r.Context(), op, identity.InPersonInput{DocumentType: dt, Number: in.Number, Name: in.Name, Phone: in.Phone})
	if err != nil {
		return 0, nil, err
	}
	view, err := h.cfg.Console.Citizen(r.Context(), op, c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, citizenBody(view), nil
}

func (h *Handler) apiCitizen(r *http.Request, op *identity.Operator) (int, any, error) {
	c, err := h.cfg.Console.Citizen(r.Context(), op, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, citizenBody(c), nil
}

// afterChange answers with the citizen as they now are.
func (h *Handler) afterChange(r *http.Request, op *identity.Operator, err error) (int, any, error) {
	var pa *identity.PendingApproval
	if errors.As(err, &pa) {
		return http.StatusAccepted, map[string]string{"status": "approval_requested", "approval": pa.Approval.ID}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return h.apiCitizen(r, op)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiPhone(r *http.Request, op *identity.Operator) (int, any, error) {
	phone := ""
	if r.Method == http.MethodPut {
		var in struct {
			Phone string `json:"phone"`
		}
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		if strings.TrimSpace(in.Phone) == "" {
			return 0, nil, &identity.FieldError{Field: "phone", Reason: identity.FieldRequired}
		}
		phone = in.Phone
	}
	return h.afterChange(r, op, h.cfg.Console.SetPhone(r.Context(), op, r.PathValue("id"), phone))
}

func (h *Handler) apiFreeze(r *http.Request, op *identity.Operator) (int, any, error) {
	var in reasonBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	return h.afterChange(r, op, h.cfg.Console.Freeze(r.Context(), op, r.PathValue("id"), in.Reason))
}

func (h *Handler) apiReset(r *http.Request, op *identity.Operator) (int, any, error) {
	var in reasonBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	return h.afterChange(r, op, h.cfg.Console.ResetCredentials(r.Context(), op, r.PathValue("id"), in.Reason))
}

type approvalBody struct {
	ID          string            `json:"id"`
	Action      string            `json:"action"`
	Target      string            `json:"target"`
	Params      map[string]string `json:"params,omitempty"`
	Reason      string            `json:"reason"`
	RequestedBy string            `json:"requested_by"`
	RequestedAt time.Time         `json:"requested_at"`
	Status      string            `json:"status"`
}

func approvalOf(a *identity.Approval) approvalBody {
	return approvalBody{ID: a.ID, Action: string(a.Action), Target: a.Target, Params: a.Params, Reason: a.Reason,
		RequestedBy: a.RequestedBy, RequestedAt: a.RequestedAt, Status: string(a.Status)}
}

func (h *Handler) apiUnfreeze(r *http.Request, op *identity.Operator) (int, any, error) {
	var in reasonBody
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	a, err := h.cfg.Console.RequestUnfreeze(r.Context(), op, r.PathValue("id"), in.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, approvalOf(a), nil
}

func (h *Handler) apiApprovals(r *http.Request, op *identity.Operator) (int, any, error) {
	list, err := h.cfg.Console.PendingApprovals(r.Context(), op)
	if err != nil {
		return 0, nil, err
	}
	out := []approvalBody{}
	for _, a := range list {
		out = append(out, approvalOf(a))
	}
	return http.StatusOK, map[string]any{"approvals": out}, nil
}

func (h *Handler) apiDecide(approve bool) apiFunc {
	return func(r *http.Request, op *identity.Operator) (int, any, error) {
		if err := h.cfg.Console.Decide(r.Context(), op, r.PathValue("id"), approve); err != nil {
			return 0, nil, err
		}
		a, err := h.cfg.Console.Approvals.Approval(r.Context(), r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, approvalOf(a), nil
	}
}

// clientBody is a service site in the API (never its secret hash).
type clientBody struct {
	clientInput
	Disabled bool `json:"disabled"`
}

func clientOf(c *oauth.Client) clientBody {
	return clientBody{clientInput: clientInput{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, BackchannelLogoutURI: c.BackchannelLogoutURI, Scopes: c.Scopes,
		GrantTypes: c.GrantTypes, MinLevel: c.MinLevel, MinACR: c.MinACR, AllowIDCard: c.AllowIDCard, Public: c.Public},
		Disabled: c.Disabled}
}

func (h *Handler) apiClients(r *http.Request, op *identity.Operator) (int, any, error) {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return 0, nil, err
	}
	list, err := h.cfg.Clients.Clients(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := []clientBody{}
	for _, c := range list {
		out = append(out, clientOf(c))
	}
	return http.StatusOK, map[string]any{"clients": out}, nil
}

func (h *Handler) apiClient(r *http.Request, op *identity.Operator) (int, any, error) {
	if err := h.cfg.Console.RequireAdministrator(op); err != nil {
		return 0, nil, err
	}
	c, err := h.cfg.Clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, clientOf(c), nil
}

func (h *Handler) apiCreateClient(r *http.Request, op *identity.Operator) (int, any, error) {
	var in clientInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	c, secret, err := h.newClient(r.Context(), op, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, struct {
		clientBody
		Secret string `json:"client_secret,omitempty"`
	}{clientOf(c), secret}, nil
}

func (h *Handler) apiUpdateClient(r *http.Request, op *identity.Operator) (int, any, error) {
	var in clientInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	c, err := h.updateClient(r.Context(), op, r.PathValue("id"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, clientOf(c), nil
}

func (h *Handler) apiRotate(r *http.Request, op *identity.Operator) (int, any, error) {
	secret, err := h.rotate(r.Context(), op, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"client_id": r.PathValue("id"), "client_secret": secret}, nil
}

func (h *Handler) apiDisable(r *http.Request, op *identity.Operator) (int, any, error) {
	if err := h.setDisabled(r.Context(), op, r.PathValue("id"), true); err != nil {
		return 0, nil, err
	}
	return h.apiClient(r, op)
}
