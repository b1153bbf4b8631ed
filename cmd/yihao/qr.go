package main

import (
	"net/http"

	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/console"
	"github.com/yihao-gov/yihao/web/login"
	"github.com/yihao-gov/yihao/web/qrlogin"
)

// mountQR adds QR login (/login/qr, /qr/{ticket}) and the console's counter
// page (/console/counter), which shares the QR tickets.
func (a *app) mountQR(mux *http.ServeMux, ui *web.UI, provider *oauth.Provider, sessions *web.Sessions, sms login.SMSCodes, secure bool) error {
	tickets := &qrlogin.Tickets{State: a.eph}
	qh, err := qrlogin.New(qrlogin.Config{UI: ui, Sessions: sessions, Flows: provider, Tickets: tickets, Citizens: a.sql,
		Store: a.eph, Limiter: a.eph, Counter: provider, Audit: a.sql, Issuer: a.cfg.Issuer, Secure: secure})
	if err != nil {
		return err
	}
	qh.Mount(mux)
	ch, err := console.New(console.Config{UI: ui, Console: a.console(provider), State: a.eph, Clients: a.sql,
		Protocol: provider, Secure: secure, Logger: a.log})
	if err != nil {
		return err
	}
	cc := console.CounterConfig{Protocol: provider, NewTicket: tickets.NewCounter, QRCode: qh.QRCode, TicketURL: qh.TicketURL}
	if sms != nil {
		cc.SMS = sms
	}
	return ch.MountCounter(mux, cc)
}
