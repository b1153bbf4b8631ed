package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// SMSCodes sends and checks SMS one-time codes (*identity.OTP satisfies
// it). Errors are those of identity.OTP: *identity.NumberError,
// *identity.FieldError (Field "code"), *identity.RateLimitedError,
// *identity.OTPRefusal, identity.ErrNotFound (no live code),
// identity.ErrNoPhone (step-up), or a wrapped identity.ErrUnavailable.
type SMSCodes interface {
	SendLogin(ctx context.Context, number, binding, clientIP string) (*identity.OTPSent, error)
	VerifyLogin(ctx context.Context, number, binding, code string) (*identity.Citizen, error)
	SendStepUp(ctx context.Context, c *identity.Citizen, binding, clientIP string) (*identity.OTPSent, error)
	VerifyStepUp(ctx context.Context, c *identity.Citizen, binding, code string) error
}

// SessionUpgrader raises a live session's acr/amr after a step-up
// (identity.SessionUpgrader; both session stores implement it).
type SessionUpgrader = identity.SessionUpgrader

// The authentication methods and the two-factor acr.
const (
	AMRPassword = "pwd"
	AMRSMS      = "sms"
	ACRMulti    = oauth.ACRMulti
)

// Routes of SMS login.
const smsPath, smsVerifyPath = "/login/sms", "/login/sms/verify"

// mountSMS adds the SMS routes (see Mount).
func (h *Handler) mountSMS(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET "+smsPath, ui.Page(h.smsPage))
	mux.Handle("POST "+smsPath, ui.Page(h.smsSend))
	mux.Handle("POST "+smsVerifyPath, ui.Page(h.smsVerify))
	if h.cfg.Upgrader != nil && h.cfg.Citizens != nil {
		mux.Handle("POST "+oauth.StepUpPath+"/send", ui.Page(h.stepUpSend))
		mux.Handle("POST "+oauth.StepUpPath+"/verify", ui.Page(h.stepUpVerify))
	}
}

// smsURL is the SMS login link of the password page ("" without SMS).
func (h *Handler) smsURL(f *oauth.Flow) string {
	if h.cfg.SMS == nil {
		return ""
	}
	return withFlow(smsPath, f)
}

// loginBinding binds a login code to the flow it was asked for.
func loginBinding(f *oauth.Flow) string {
	if f == nil {
		return ""
	}
	return f.ID
}

func (h *Handler) smsData(f *oauth.Flow, username string) web.LoginSMSData {
	d := web.LoginSMSData{Username: username, PasswordURL: withFlow("/login", f)}
	if f != nil {
		d.FlowID, d.ClientName = f.ID, f.ClientName
	}
	return d
}

func (h *Handler) smsPage(w http.ResponseWriter, r *http.Request) error {
	f, err := h.loadFlow(r.Context(), r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	d := h.smsData(f, "")
	if f != nil {
		d.Username = f.LoginHint
	}
	return h.cfg.UI.Render(w, r, web.PageLoginSMS, flowView(f, http.StatusOK, d))
}

// smsForm reads what both SMS forms post: the flow and the number.
func (h *Handler) smsForm(r *http.Request) (*oauth.Flow, web.Text, web.LoginSMSData, error) {
	f, err := h.loadFlow(r.Context(), r.PostFormValue("flow"))
	if err != nil {
		return nil, web.Text{}, web.LoginSMSData{}, err
	}
	return f, web.TextFor(web.Lang(r, flowLocales(f))), h.smsData(f, trimField(r.PostFormValue("username"))), nil
}

// smsSend asks for a code and shows the code form. Every number gets the
// same page: a masked phone (made up when there is no account or phone).
func (h *Handler) smsSend(w http.ResponseWriter, r *http.Request) error {
	f, t, d, err := h.smsForm(r)
	if err != nil {
		return err
	}
	sent, err := h.cfg.SMS.SendLogin(r.Context(), d.Username, loginBinding(f), h.cfg.ClientIP(r))
	a, err := answerSend(w, t, sent, err)
	if err != nil {
		return err
	}
	a.fill(&d.MaskedPhone, &d.Minutes, &d.Notice, &d.Error)
	page := web.PageLoginSMS
	if a.codePage {
		page = web.PageLoginSMSCode
	}
	return h.cfg.UI.Render(w, r, page, flowView(f, a.status, d))
}

// sendAnswer is how a page answers a request for an SMS code: the code form
// (sent, or one went out a moment ago) or the form it came from, with the
// status and what to tell the citizen.
type sendAnswer struct {
	codePage               bool
	status                 int
	masked, notice, errMsg string
	minutes                int
}

// answerSend maps the outcome of a code request. Every number gets the same
// answer (see SMS login); errors it does not know are returned.
func answerSend(w http.ResponseWriter, t web.Text, sent *identity.OTPSent, err error) (sendAnswer, error) {
	var (
		rl     *identity.RateLimitedError
		refuse *identity.OTPRefusal
	)
	switch {
	case err == nil:
		return sendAnswer{codePage: true, status: http.StatusOK, masked: sent.MaskedPhone, minutes: minutes(sent.TTL)}, nil
	case errors.As(err, &rl) && rl.Scope == "sms-cooldown":
		// A code went out a moment ago: let the citizen enter it.
		return sendAnswer{codePage: true, status: http.StatusOK, notice: t.T("sms.cooldown", max(int(rl.RetryAfter.Seconds()+0.999), 1))}, nil
	case errors.As(err, &refuse):
		setRetryAfter(w, refuse.RetryAfter)
		return sendAnswer{status: http.StatusTooManyRequests, errMsg: t.T("sms.locked", minutes(refuse.RetryAfter))}, nil
	}
	ue, ok := web.Describe(err, t.Lang)
	if !ok || (ue.Kind != web.KindNumber && ue.Kind != web.KindRateLimited) {
		return sendAnswer{}, err
	}
	if ue.Kind == web.KindRateLimited {
		setRetryAfter(w, ue.RetryAfter)
	}
	return sendAnswer{status: ue.Status, errMsg: ue.Message}, nil
}

// fill copies what the answer says into a page's fields, leaving the rest.
func (a sendAnswer) fill(masked *string, mins *int, notice, errMsg *string) {
	if a.masked != "" {
		*masked, *mins = a.masked, a.minutes
	}
	if a.notice != "" {
		*notice = a.notice
	}
	if a.errMsg != "" {
		*errMsg = a.errMsg
	}
}

// smsVerify checks the code and, on success, starts the SSO session
// (acr 1, amr [sms]) and continues the flow.
func (h *Handler) smsVerify(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, t, d, err := h.smsForm(r)
	if err != nil {
		return err
	}
	c, err := h.cfg.SMS.VerifyLogin(ctx, d.Username, loginBinding(f), r.PostFormValue("code"))
	if err != nil {
		var ne *identity.NumberError
		if errors.As(err, &ne) { // the hidden field was changed: start again
			d.Error = ne.Localize(t.Lang)
			return h.cfg.UI.Render(w, r, web.PageLoginSMS, flowView(f, http.StatusBadRequest, d))
		}
		status, msg, cerr := codeError(w, t, err)
		if cerr != nil {
			return cerr
		}
		d.Error = msg
		return h.cfg.UI.Render(w, r, web.PageLoginSMSCode, flowView(f, status, d))
	}
	s, err := h.cfg.Sessions.Start(w, r, c.ID, ACRPassword, []string{AMRSMS}, ChannelWeb)
	if err != nil {
		return err
	}
	next := "/"
	if f != nil {
		if next, err = h.cfg.Flows.LoginDone(ctx, f.ID, s); err != nil {
			return fmt.Errorf("login: finish sms login step: %w", web.FlowError(err))
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// codeError maps the errors of checking a code to the code form's status
// and message; other errors are returned for the edge.
func codeError(w http.ResponseWriter, t web.Text, err error) (int, string, error) {
	var (
		fe     *identity.FieldError
		refuse *identity.OTPRefusal
	)
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest, t.T("sms.code.invalid"), nil
	case errors.As(err, &refuse) && errors.Is(err, identity.ErrOTPLocked):
		setRetryAfter(w, refuse.RetryAfter)
		return http.StatusTooManyRequests, t.T("sms.locked", minutes(refuse.RetryAfter)), nil
	case errors.As(err, &refuse):
		if refuse.Left <= 0 {
			return http.StatusBadRequest, t.T("sms.code.wrong.last"), nil
		}
		return http.StatusBadRequest, t.T("sms.code.wrong", refuse.Left), nil
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusBadRequest, t.T("sms.code.expired"), nil
	}
	var rl *identity.RateLimitedError
	if errors.As(err, &rl) {
		setRetryAfter(w, rl.RetryAfter)
		return http.StatusTooManyRequests, rl.Localize(t.Lang), nil
	}
	return 0, "", err
}

// Step-up: the browser has a session below the acr its flow asks for.

// stepUpContext loads the flow (which must ask for a step-up), the
// browser's session and its citizen.
func (h *Handler) stepUpContext(r *http.Request, flowID string) (*oauth.Flow, *identity.Session, *identity.Citizen, error) {
	ctx := r.Context()
	if flowID == "" {
		return nil, nil, nil, web.Error(http.StatusBadRequest, "error.badrequest")
	}
	f, err := h.loadFlow(ctx, flowID)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.RequiredACR == "" {
		return nil, nil, nil, web.Error(http.StatusBadRequest, "error.badrequest")
	}
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil, nil, &web.StatusError{Status: http.StatusForbidden, Key: "error.session", Err: err}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := h.cfg.Citizens.Citizen(ctx, s.CitizenID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil, nil, &web.StatusError{Status: http.StatusForbidden, Key: "error.session", Err: err}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return f, s, c, nil
}

// stepUpBinding binds a step-up code to the flow and the session.
func stepUpBinding(f *oauth.Flow, s *identity.Session) string { return f.ID + "\x00" + s.ID }

func (h *Handler) stepUpData(ctx context.Context, f *oauth.Flow, s *identity.Session, c *identity.Citizen) web.StepUpData {
	d := web.StepUpData{FlowID: f.ID, ClientName: f.ClientName, MaskedPhone: identity.MaskPhone(c.Phone),
		TOTP: slices.Contains(s.AMR, AMRPassword) && h.totpOffered(ctx, c)}
	switch {
	case !slices.Contains(s.AMR, AMRPassword):
		// The session's one factor is not the password (an SMS login):
		// the missing factor is the password, asked for by a new login,
		// after which this page asks for the code.
		d.PasswordURL = withFlow("/login", f)
	case c.Phone == "" || h.cfg.SMS == nil:
		d.NoPhone = true
	}
	return d
}

func (h *Handler) stepUpPage(w http.ResponseWriter, r *http.Request) error {
	f, s, c, err := h.stepUpContext(r, r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, http.StatusOK, h.stepUpData(r.Context(), f, s, c)))
}

// stepUpForm is what both step-up forms need; done is true when the page
// was answered already (no factor to ask for here).
func (h *Handler) stepUpForm(w http.ResponseWriter, r *http.Request) (f *oauth.Flow, s *identity.Session, c *identity.Citizen, t web.Text, d web.StepUpData, done bool, err error) {
	if f, s, c, err = h.stepUpContext(r, r.PostFormValue("flow")); err != nil {
		return
	}
	t, d = web.TextFor(web.Lang(r, flowLocales(f))), h.stepUpData(r.Context(), f, s, c)
	if d.NoPhone || d.PasswordURL != "" {
		return f, s, c, t, d, true, h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, http.StatusOK, d))
	}
	return
}

func (h *Handler) stepUpSend(w http.ResponseWriter, r *http.Request) error {
	f, s, c, t, d, done, err := h.stepUpForm(w, r)
	if done || err != nil {
		return err
	}
	sent, err := h.cfg.SMS.SendStepUp(r.Context(), c, stepUpBinding(f, s), h.cfg.ClientIP(r))
	var rl *identity.RateLimitedError
	switch {
	case err == nil:
		d.Sent, d.MaskedPhone, d.Minutes = true, sent.MaskedPhone, minutes(sent.TTL)
	case errors.As(err, &rl) && rl.Scope == "sms-cooldown":
		d.Sent, d.Minutes = true, minutes(identity.DefaultOTPTTL)
		d.Notice = t.T("sms.cooldown", max(int(rl.RetryAfter.Seconds()+0.999), 1))
	case errors.Is(err, identity.ErrNoPhone):
		d.NoPhone = true
	default:
		status, msg, cerr := codeError(w, t, err)
		if cerr != nil {
			return cerr
		}
		d.Error = msg
		return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, status, d))
	}
	return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, http.StatusOK, d))
}

// stepUpVerify checks the second factor, raises the session to acr 2 with
// amr [pwd sms] (same sid: see docs/architecture.md, "Step-up") and resumes
// the flow.
func (h *Handler) stepUpVerify(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, s, c, t, d, done, err := h.stepUpForm(w, r)
	if done || err != nil {
		return err
	}
	if err := h.cfg.SMS.VerifyStepUp(ctx, c, stepUpBinding(f, s), r.PostFormValue("code")); err != nil {
		status, msg, cerr := codeError(w, t, err)
		if cerr != nil {
			return cerr
		}
		d.Sent, d.Minutes, d.Error = true, minutes(identity.DefaultOTPTTL), msg
		return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, status, d))
	}
	return h.finishStepUp(w, r, f, s, AMRSMS)
}

// finishStepUp raises the session to acr 2 with method added to its amr
// (same sid: see docs/architecture.md, "Step-up") and resumes the flow.
func (h *Handler) finishStepUp(w http.ResponseWriter, r *http.Request, f *oauth.Flow, s *identity.Session, method string) error {
	ctx := r.Context()
	amr := slices.Clone(s.AMR)
	if !slices.Contains(amr, method) {
		amr = append(amr, method)
	}
	now := h.now()
	if err := h.cfg.Upgrader.UpgradeSession(ctx, s.ID, ACRMulti, amr, now); err != nil {
		if errors.Is(err, identity.ErrNotFound) {
			return &web.StatusError{Status: http.StatusForbidden, Key: "error.session", Err: err}
		}
		return err
	}
	s.ACR, s.AMR, s.AuthTime = ACRMulti, amr, now
	next, err := h.cfg.Flows.LoginDone(ctx, f.ID, s)
	if err != nil {
		return fmt.Errorf("login: finish step-up: %w", web.FlowError(err))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

func minutes(d time.Duration) int { return max(int((d+time.Minute-1)/time.Minute), 1) }

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(max(int(d.Seconds()+0.999), 1)))
}

// trimField trims a short form field and bounds its length (a number is at
// most a few dozen characters; the parser says what is wrong with it).
func trimField(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return strings.TrimSpace(s)
}

// DevSMSPage lists the last messages of the development sender, newest
// first (mounted at GET /dev/sms only with `serve --dev`).
func DevSMSPage(recent func() []identity.SentSMS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprintln(w, "Development SMS sender: the last messages, newest first. Only served with --dev.")
		for _, m := range recent() {
			fmt.Fprintf(w, "%s  %s  %s\n", m.At.Format(time.RFC3339), m.MaskedPhone, m.Message)
		}
	})
}
