package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"os"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/smsgateway"
	"github.com/yihao-gov/yihao/web/login"
)

// smsCodes builds the SMS one-time-code use case: with the webhook sender
// when YIHAO_SMS_WEBHOOK_URL is set, with the development sender (codes on
// the console and at /dev/sms) under --dev, and otherwise not at all — SMS
// login and step-up are then simply not offered. dev is the development
// sender when that is the one in use.
func (a *app) smsCodes() (codes login.SMSCodes, dev *identity.DevSender, err error) {
	var sender identity.Sender
	switch {
	case a.cfg.SMSWebhookURL != "":
		sender, err = smsgateway.New(smsgateway.Config{URL: a.cfg.SMSWebhookURL, Secret: []byte(a.cfg.SMSWebhookSecret)})
		if err != nil {
			return nil, nil, err
		}
	case a.cfg.Dev:
		out := a.cfg.smsOut
		if out == nil {
			out = os.Stdout
		}
		dev = &identity.DevSender{Out: out}
		sender = dev
	default:
		a.log.Info("SMS login is off: set YIHAO_SMS_WEBHOOK_URL (or run with --dev) to offer it")
		return nil, nil, nil
	}
	secret, err := a.otpSecret()
	if err != nil {
		return nil, nil, err
	}
	log := a.log
	otp := &identity.OTP{
		Citizens: a.signInCitizens(), Store: a.eph, Sender: sender, Limiter: a.eph, Secret: secret,
		IPLimit:     identity.Limit{Max: a.cfg.LoginIPLimit, Window: 15 * time.Minute},
		OnSendError: func(err error) { log.Warn("SMS delivery failed", "err", err) },
	}
	return otp, dev, nil
}

// otpSecret keys one-time codes and the keys they are stored under (the
// same for every use case, so a code's entry and limits are shared).
func (a *app) otpSecret() ([]byte, error) {
	master, err := decodeKey(a.cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, master, nil, "yihao otp", 32)
}
