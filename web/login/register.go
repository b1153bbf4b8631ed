package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request) error {
	f, err := h.loadFlow(r.Context(), r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	d := web.RegisterData{LoginURL: withFlow("/login", f)}
	if f != nil {
		d.FlowID = f.ID
	}
	return h.cfg.UI.Render(w, r, web.PageRegister, flowView(f, http.StatusOK, d))
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := h.loadFlow(ctx, r.PostFormValue("flow"))
	if err != nil {
		return err
	}
	d := web.RegisterData{
		Number:   strings.TrimSpace(r.PostFormValue("number")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Phone:    strings.TrimSpace(r.PostFormValue("phone")),
		LoginURL: withFlow("/login", f),
	}
	if f != nil {
		d.FlowID = f.ID
	}
	lang := web.Lang(r, flowLocales(f))
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password_confirm") {
		d.Errors.Confirm = web.TextFor(lang).T("register.confirm.mismatch")
		return h.cfg.UI.Render(w, r, web.PageRegister, flowView(f, http.StatusBadRequest, d))
	}
	_, err = h.cfg.Registrar.Register(ctx, d.Number, d.Name, d.Phone, password)
	if err != nil && !errors.Is(err, identity.ErrAlreadyRegistered) {
		// Registration reports every bad field at once (errors.Join).
		status := http.StatusBadRequest
		for _, e := range leafErrors(err) {
			ue, ok := web.Describe(e, lang)
			if !ok || ue.Kind == web.KindCredentials {
				return err // 503 / 500 at the edge
			}
			if ue.Kind == web.KindRateLimited {
				d.Errors.Form, status = ue.Message, ue.Status
				continue
			}
			setFieldError(&d.Errors, ue)
		}
		return h.cfg.UI.Render(w, r, web.PageRegister, flowView(f, status, d))
	}
	// New or already registered: the same answer, so that the page does not
	// tell whether a number has an account.
	http.Redirect(w, r, withFlow("/register/done", f), http.StatusSeeOther)
	return nil
}

// leafErrors flattens errors.Join trees (and wrapped joins) into their leaves.
func leafErrors(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			var out []error
			for _, x := range j.Unwrap() {
				out = append(out, leafErrors(x)...)
			}
			return out
		}
	}
	return []error{err}
}

// setFieldError puts a message next to its field, or above the form when
// the field is not one of ours.
func setFieldError(e *web.RegisterErrors, ue web.UserError) {
	var dst *string
	switch ue.Field {
	case "number":
		dst = &e.Number
	case "name":
		dst = &e.Name
	case "phone":
		dst = &e.Phone
	case "password":
		dst = &e.Password
	default:
		dst = &e.Form
	}
	if *dst == "" { // the first message for a field is the one to fix first
		*dst = ue.Message
	}
}

func (h *Handler) registerDone(w http.ResponseWriter, r *http.Request) error {
	// An expired flow still gets the page: the account is there either way;
	// the link then goes to /login without it.
	var f *oauth.Flow
	if id := r.URL.Query().Get("flow"); id != "" {
		if ff, err := h.cfg.Flows.Flow(r.Context(), id); err == nil {
			f = ff
		} else if !errors.Is(err, identity.ErrNotFound) {
			return err
		}
	}
	d := web.RegisterDoneData{LoginURL: withFlow("/login", f)}
	return h.cfg.UI.Render(w, r, web.PageRegisterDone, flowView(f, http.StatusOK, d))
}
