package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/mailgateway"
	"github.com/yihao-gov/yihao/web/login"
)

// contact builds the citizen's phone and email use case (/account/contact).
// Phones change through the SMS codes' sender, when SMS is on. Email goes
// through the mail webhook when YIHAO_MAIL_WEBHOOK_URL is set, the
// development mailer under --dev (messages on the console and at /dev/mail),
// and otherwise nowhere: addresses then cannot be added. dev is the
// development mailer when that is the one in use.
func (a *app) contact(sms login.SMSCodes) (k *identity.Contact, dev *identity.DevMailer, err error) {
	k = &identity.Contact{Citizens: a.sql, Store: a.sql, Passkeys: a.sql, Audit: a.sql}
	switch {
	case a.cfg.MailWebhookURL != "":
		if k.Mailer, err = mailgateway.New(mailgateway.Config{URL: a.cfg.MailWebhookURL, Secret: []byte(a.cfg.MailWebhookSecret)}); err != nil {
			return nil, nil, err
		}
	case a.cfg.Dev:
		out := a.cfg.mailOut
		if out == nil {
			out = os.Stdout
		}
		dev = &identity.DevMailer{Out: out}
		k.Mailer = dev
	default:
		a.log.Info("email is off: set YIHAO_MAIL_WEBHOOK_URL (or run with --dev) to let citizens add an address")
	}
	// The same code machinery as SMS login (one secret, one store, shared
	// limits); without SMS, one that can only mail.
	if otp, ok := sms.(*identity.OTP); ok {
		k.Codes = otp
	} else if k.Mailer != nil {
		secret, err := a.otpSecret()
		if err != nil {
			return nil, nil, err
		}
		k.Codes = &identity.OTP{Citizens: a.sql, Store: a.eph, Limiter: a.eph, Secret: secret,
			IPLimit: identity.Limit{Max: a.cfg.LoginIPLimit, Window: 15 * time.Minute}}
	}
	log := a.log
	k.OnMailError = func(err error) { log.Warn("email delivery failed", "err", err) }
	return k, dev, nil
}

// devMailPage lists the development mailer's last messages (only with
// --dev), like /dev/sms.
func devMailPage(recent func() []identity.SentMail) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprintln(w, "Development mailer: the last messages, newest first. Only served with --dev.")
		for _, m := range recent() {
			fmt.Fprintf(w, "%s  %s  %s\n%s\n\n", m.At.Format(time.RFC3339), m.MaskedTo, m.Subject, m.Body)
		}
	})
}
