package main

import (
	"net/http"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/verifygateway"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/assurance"
	"github.com/yihao-gov/yihao/web/login"
)

// assuranceParts are the use cases of the two assurance axes: the level
// (raised by the verification service or a passkey) and the TOTP factor.
type assuranceParts struct {
	levels *identity.Leveler // always: a passkey raises level 2 to 3
	verify bool              // levels can raise 1 to 2 (a verifier and SMS codes)
	totp   *identity.TOTPFactor
}

// assurance builds them. The verification service is the HTTP adapter when
// YIHAO_VERIFY_URL is set, the development verifier under --dev, and
// otherwise absent: the level page then only shows the level. Raising to
// level 2 also needs SMS codes (the phone is confirmed by one).
func (a *app) assurance(sms login.SMSCodes) (*assuranceParts, error) {
	p := &assuranceParts{
		levels: &identity.Leveler{Citizens: a.sql, Limiter: a.eph, Audit: a.sql},
		totp:   &identity.TOTPFactor{Repo: a.sql, Limiter: a.eph, Audit: a.sql},
	}
	switch {
	case a.cfg.VerifyURL != "":
		v, err := verifygateway.New(verifygateway.Config{URL: a.cfg.VerifyURL, Secret: []byte(a.cfg.VerifySecret)})
		if err != nil {
			return nil, err
		}
		p.levels.Verifier, p.levels.VerifierName = v, "http"
	case a.cfg.Dev:
		p.levels.Verifier, p.levels.VerifierName = &identity.DevVerifier{}, "dev"
	default:
		a.log.Info("online real-name verification is off: set YIHAO_VERIFY_URL (or run with --dev) to offer it")
	}
	if otp, ok := sms.(*identity.OTP); ok && p.levels.Verifier != nil {
		p.levels.Codes, p.verify = otp, true
	} else if p.levels.Verifier != nil {
		a.log.Info("online real-name verification is off: it confirms the phone with an SMS code, and SMS is off")
	}
	return p, nil
}

// mountAssurance adds /account/level and /account/totp.
func (a *app) mountAssurance(mux *http.ServeMux, ui *web.UI, sessions *web.Sessions, p *assuranceParts, passkeysURL string) error {
	cfg := assurance.Config{UI: ui, Sessions: sessions, Citizens: a.sql, TOTP: p.totp, PasskeysURL: passkeysURL}
	if p.verify {
		cfg.Levels = p.levels
	}
	h, err := assurance.New(cfg)
	if err != nil {
		return err
	}
	h.Mount(mux)
	return nil
}
