package console

import (
	"context"
	"errors"
	"html/template"
	"net"
	"net/http"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// The counter page (一窗): a registrar at a service-hall counter has checked
// the citizen's physical ID card and opens a counter session for them.
//
//	GET  /console/counter         the form: the terminal's code, the document, how the citizen confirms
//	POST /console/counter         open it (identity.Console.OpenCounter checks role and region)
//	POST /console/counter/status  the citizen's QR confirmation: waiting, or done
//	POST /console/counter/sms     the SMS code the citizen reads out
//
// The counter request's reference travels in POST bodies only.

// CounterProtocol is the protocol side of counter sessions (*oauth.Provider).
type CounterProtocol interface {
	CounterOpen(ctx context.Context, userCode, citizenID string, op oauth.CounterOperator) (*oauth.CounterInfo, error)
	CounterInfo(ctx context.Context, key string) (*oauth.CounterInfo, error)
	CounterConfirm(ctx context.Context, key string, s *identity.Session, method string, approve bool) error
}

// CounterSMS sends and checks the confirmation code (*identity.OTP, bound
// to the counter request).
type CounterSMS interface {
	SendStepUp(ctx context.Context, c *identity.Citizen, binding, clientIP string) (*identity.OTPSent, error)
	VerifyStepUp(ctx context.Context, c *identity.Citizen, binding, code string) error
}

// CounterConfig holds what the counter page uses; Protocol, NewTicket and
// QRCode are required, SMS is optional (no SMS choice without it).
type CounterConfig struct {
	Protocol CounterProtocol
	// NewTicket starts a QR ticket of purpose counter for the request.
	NewTicket func(ctx context.Context, key string) (string, error)
	// QRCode draws a ticket as inline SVG, and TicketURL is its address.
	QRCode    func(ticket, label string) (template.HTML, error)
	TicketURL func(ticket string) string
	SMS       CounterSMS
	ClientIP  func(*http.Request) string
}

// MountCounter adds the counter page.
func (h *Handler) MountCounter(mux *http.ServeMux, cc CounterConfig) error {
	if cc.Protocol == nil || cc.NewTicket == nil || cc.QRCode == nil || cc.TicketURL == nil {
		return errors.New("console: counter: Protocol, NewTicket, QRCode and TicketURL are required")
	}
	if cc.ClientIP == nil {
		cc.ClientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	c := &counter{h: h, cfg: cc}
	page := func(f func(w http.ResponseWriter, r *http.Request, op *identity.Operator) error) http.Handler {
		return h.cfg.UI.Page(h.signedIn(f))
	}
	mux.Handle("GET /console/counter", page(c.form))
	mux.Handle("POST /console/counter", page(c.open))
	mux.Handle("POST /console/counter/status", page(c.status))
	mux.Handle("POST /console/counter/sms", page(c.sms))
	return nil
}

type counter struct {
	h   *Handler
	cfg CounterConfig
}

func (c *counter) render(w http.ResponseWriter, r *http.Request, op *identity.Operator, status int, d web.ConsoleCounterData) error {
	d.ConsoleBase = c.h.base(r, op)
	if d.Step == "open" {
		d.DocTypes = docOptions(web.TextFor(web.Lang(r, nil)), r.PostFormValue("document_type"))
	}
	return c.h.cfg.UI.Render(w, r, web.PageConsoleCounter, web.View{Status: status, Data: d})
}

func (c *counter) form(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	return c.render(w, r, op, http.StatusOK, web.ConsoleCounterData{Step: "open", Method: "qr"})
}

func (c *counter) open(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	ctx := r.Context()
	t := web.TextFor(web.Lang(r, nil))
	userCode := oauth.NormalizeUserCode(r.PostFormValue("user_code"))
	method := r.PostFormValue("method")
	if method != "sms" || c.cfg.SMS == nil {
		method = "qr"
	}
	again := func(status int, msg string) error {
		d := web.ConsoleCounterData{Step: "open", Method: method, UserCode: userCode}
		d.Error = msg
		return c.render(w, r, op, status, d)
	}
	dt, err := parseDocType(r.PostFormValue("document_type"))
	if err != nil {
		return again(http.StatusBadRequest, t.T("console.why.invalid"))
	}
	var info *oauth.CounterInfo
	cit, err := c.h.cfg.Console.OpenCounter(ctx, op, dt, r.PostFormValue("number"), func(cit *identity.Citizen) (string, error) {
		if method == "sms" && cit.Phone == "" {
			return "", errNoPhone
		}
		var err error
		info, err = c.cfg.Protocol.CounterOpen(ctx, userCode, cit.ID, oauth.CounterOperator{ID: op.ID, Name: op.Name})
		if err != nil {
			return "", err
		}
		return info.ClientID, nil
	})
	switch {
	case errors.Is(err, oauth.ErrUnknownUserCode):
		return again(http.StatusBadRequest, t.T("counter.code.unknown"))
	case errors.Is(err, errNoPhone):
		return again(http.StatusBadRequest, t.T("counter.nophone"))
	case err != nil:
		if msg, ok := c.h.describe(r, err); ok {
			return again(http.StatusBadRequest, msg)
		}
		return err
	}
	d := web.ConsoleCounterData{Step: "confirm", Method: method, Key: info.Key, ClientName: info.ClientName, Citizen: maskName(cit.Name)}
	if method == "sms" {
		sent, err := c.cfg.SMS.SendStepUp(ctx, cit, info.Key, c.cfg.ClientIP(r))
		if err != nil {
			if msg, ok := c.h.describe(r, err); ok {
				return again(http.StatusBadRequest, msg)
			}
			return err
		}
		d.Phone = sent.MaskedPhone
		return c.render(w, r, op, http.StatusOK, d)
	}
	return c.showQR(w, r, op, d)
}

var errNoPhone = errors.New("console: counter: the citizen has no bound phone")

func (c *counter) showQR(w http.ResponseWriter, r *http.Request, op *identity.Operator, d web.ConsoleCounterData) error {
	ticket, err := c.cfg.NewTicket(r.Context(), d.Key)
	if err != nil {
		return err
	}
	if d.QR, err = c.cfg.QRCode(ticket, web.TextFor(web.Lang(r, nil)).T("qr.code.label")); err != nil {
		return err
	}
	d.TicketURL = c.cfg.TicketURL(ticket)
	return c.render(w, r, op, http.StatusOK, d)
}

// request loads the counter request of the form, opened by this operator.
func (c *counter) request(r *http.Request, op *identity.Operator) (*oauth.CounterInfo, error) {
	info, err := c.cfg.Protocol.CounterInfo(r.Context(), r.PostFormValue("key"))
	if errors.Is(err, oauth.ErrUnknownUserCode) || (err == nil && info.OperatorID != op.ID) {
		return nil, web.Error(http.StatusNotFound, "counter.code.unknown")
	}
	return info, err
}

// status shows whether the citizen has confirmed; while not, a fresh QR
// code (the last one may have expired: tickets live two minutes).
func (c *counter) status(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	info, err := c.request(r, op)
	if err != nil {
		return err
	}
	d := web.ConsoleCounterData{Step: "confirm", Method: "qr", Key: info.Key, ClientName: info.ClientName}
	switch info.Status {
	case "approved":
		d.Step = "done"
		return c.render(w, r, op, http.StatusOK, d)
	case "denied":
		d.Step = "open"
		d.Error = web.TextFor(web.Lang(r, nil)).T("qr.done.denied")
		return c.render(w, r, op, http.StatusOK, d)
	}
	cit, err := c.h.cfg.Console.Citizen(r.Context(), op, info.CitizenID)
	if err != nil {
		return err
	}
	d.Citizen = maskName(cit.Name)
	return c.showQR(w, r, op, d)
}

// sms checks the code the citizen received and confirms the request.
func (c *counter) sms(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	if c.cfg.SMS == nil {
		return web.Error(http.StatusNotFound, "error.notfound")
	}
	ctx := r.Context()
	info, err := c.request(r, op)
	if err != nil {
		return err
	}
	cit, err := c.h.cfg.Console.Citizen(ctx, op, info.CitizenID)
	if err != nil {
		return err
	}
	d := web.ConsoleCounterData{Step: "confirm", Method: "sms", Key: info.Key, ClientName: info.ClientName, Phone: maskPhone(cit.Phone)}
	if err := c.cfg.SMS.VerifyStepUp(ctx, cit.Citizen, info.Key, r.PostFormValue("code")); err != nil {
		var refusal *identity.OTPRefusal
		var fe *identity.FieldError
		if errors.As(err, &refusal) || errors.As(err, &fe) {
			d.Error = web.TextFor(web.Lang(r, nil)).T("counter.sms.wrong")
			return c.render(w, r, op, http.StatusBadRequest, d)
		}
		return err
	}
	if err := c.cfg.Protocol.CounterConfirm(ctx, info.Key, nil, "sms", true); err != nil {
		return err
	}
	d.Step = "done"
	return c.render(w, r, op, http.StatusOK, d)
}

// maskName shows only the last character of a name.
func maskName(name string) string {
	rs := []rune(name)
	if len(rs) <= 1 {
		return "*"
	}
	out := make([]rune, 0, len(rs))
	for range rs[:len(rs)-1] {
		out = append(out, '*')
	}
	return string(append(out, rs[len(rs)-1]))
}
