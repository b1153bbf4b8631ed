package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/login"
)

// recovery builds password recovery on the SMS codes (nil, not offered,
// when SMS is off) and sets the password lockout of auth from the
// configuration. ender is the provider: recovery ends the citizen's
// sessions and revokes their tokens through it.
func (a *app) recovery(sms login.SMSCodes, ender identity.SessionEnder, auth *identity.Authenticator) login.Recovery {
	auth.Lockout = identity.Limit{Max: a.cfg.LoginLockout, Window: identity.DefaultLockout.Window}
	otp, ok := sms.(*identity.OTP)
	if !ok || otp == nil {
		return nil
	}
	return &identity.Recovery{
		Citizens: a.signInCitizens(), Codes: otp, Hasher: auth.Hasher, Sessions: ender, Unlock: auth,
		Resets: a.sql, Audit: a.sql,
	}
}

// unlockingSessions starts sessions like web.Sessions and, after a sign-in
// by another factor than the password (an SMS code, a passkey), unlocks the
// citizen's password sign-in: NIST SP 800-63B's path back for a citizen an
// attacker locked out. A failure to unlock is logged; the sign-in stands.
type unlockingSessions struct {
	*web.Sessions
	citizens interface {
		Citizen(ctx context.Context, id string) (*identity.Citizen, error)
	}
	auth *identity.Authenticator
	log  *slog.Logger
}

func (s unlockingSessions) Start(w http.ResponseWriter, r *http.Request, citizenID, acr string, amr []string, channel string) (*identity.Session, error) {
	sess, err := s.Sessions.Start(w, r, citizenID, acr, amr, channel)
	if err != nil || len(amr) == 0 || slices.Contains(amr, login.AMRPassword) {
		return sess, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	c, err := s.citizens.Citizen(ctx, citizenID)
	if err == nil {
		err = s.auth.Unlock(ctx, c.Number)
	}
	if err != nil {
		s.log.Warn("could not unlock password sign-in after another factor", "citizen", citizenID, "err", err)
	}
	return sess, nil
}
