package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/store/embedded"
	redisstore "github.com/yihao-gov/yihao/store/redis"
	sqlstore "github.com/yihao-gov/yihao/store/sql"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/account"
	"github.com/yihao-gov/yihao/web/consent"
	"github.com/yihao-gov/yihao/web/device"
	"github.com/yihao-gov/yihao/web/login"
	"github.com/yihao-gov/yihao/web/passkey"
)

// ephemeral is the short-lived-state backend: Redis, or the embedded store.
type ephemeral interface {
	identity.SessionStore
	identity.RateLimiter
	oauth.StateStore
	identity.OTPStore
	identity.SessionUpgrader
	Ping(ctx context.Context) error
	Close() error
}

// app is the wired program: storage opened, keys loaded.
type app struct {
	cfg     Config
	log     *slog.Logger
	sec     *secrets
	sql     *sqlstore.Store
	eph     ephemeral
	keys    *oauth.KeySet
	devKeys bool
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.LogFormat == "text" || (cfg.Dev && os.Getenv("YIHAO_LOG_FORMAT") == "") {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(web.LogHandler(h))
}

// openApp validates the configuration and opens SQL (and, with withEphemeral,
// Redis or the embedded store).
func openApp(ctx context.Context, cfg Config, logw io.Writer, withEphemeral bool) (*app, error) {
	created, err := cfg.ensureDevKeys()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	sec, err := cfg.secrets()
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, logw)
	if created {
		log.Warn("development keys generated; keep them, or existing data cannot be read", "dir", cfg.DataDir)
	}
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("YIHAO_DATA_DIR: %w", err)
		}
	}
	db, err := sqlstore.Open(ctx, sqlstore.Config{
		URL:    cfg.databaseURL(),
		Keys:   sqlstore.Keys{ActiveID: sec.numberActive, Encryption: sec.numberKeys, Index: sec.indexKey},
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("YIHAO_DATABASE_URL: %w", err)
	}
	a := &app{cfg: cfg, log: log, sec: sec, sql: db, devKeys: created}
	if withEphemeral {
		if cfg.RedisURL != "" {
			rs, err := redisstore.Open(ctx, redisstore.Config{URL: cfg.RedisURL, SealKey: sec.sessionSeal, IdleTimeout: cfg.SessionIdle, Logger: log})
			if err != nil {
				db.Close()
				return nil, fmt.Errorf("YIHAO_REDIS_URL: %w", err)
			}
			a.eph = rs
		} else {
			es, err := embedded.New(embedded.Config{SealKey: sec.sessionSeal, IdleTimeout: cfg.SessionIdle})
			if err != nil {
				db.Close()
				return nil, err
			}
			log.Warn("YIHAO_REDIS_URL is not set: sessions are kept in this process and will not survive a restart or be shared with other replicas")
			a.eph = es
		}
	}
	return a, nil
}

func (a *app) Close() {
	if a.eph != nil {
		a.eph.Close()
	}
	a.sql.Close()
}

// migrateIfAsked applies migrations when --migrate (or --dev) says so, and
// otherwise refuses to run on a schema that is behind.
func (a *app) migrateIfAsked(ctx context.Context) error {
	if a.cfg.Migrate || a.cfg.Dev || a.cfg.DatabaseURL == "" {
		return a.sql.Migrate(ctx)
	}
	pending, err := a.sql.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("database schema is behind (%d migrations pending): run `yihao migrate` or start with --migrate", len(pending))
	}
	return nil
}

func (a *app) loadKeys(ctx context.Context) error {
	ks, err := oauth.NewKeySet(a.sql, a.sec.signingKEK, nil)
	if err != nil {
		return err
	}
	if err := ks.Load(ctx); err != nil {
		return err
	}
	a.keys = ks
	return nil
}

// server is the assembled HTTP side.
type server struct {
	handler  http.Handler
	provider *oauth.Provider
	sessions *web.Sessions
}

func (a *app) buildServer(ctx context.Context) (*server, error) {
	secure := a.cfg.Issuer[:5] == "https"
	ui, err := web.New(web.Config{Logger: a.log, CSRFKey: a.sec.csrfKey, Secure: secure, Origin: originOf(a.cfg.Issuer)})
	if err != nil {
		return nil, err
	}
	sessions := &web.Sessions{Store: a.eph, Secure: secure, IdleTimeout: a.cfg.SessionIdle, Lifetime: a.cfg.SessionLifetime}
	pages := &web.LogoutPages{UI: ui, Sessions: sessions}
	provider, err := oauth.New(oauth.Config{
		Issuer:                a.cfg.Issuer,
		GlobalSecret:          a.sec.globalSecret,
		PairwiseSalt:          a.sec.pairwiseSalt,
		AuthorizeCodeLifespan: a.cfg.CodeTTL,
		AccessTokenLifespan:   a.cfg.AccessTokenTTL,
		RefreshTokenLifespan:  a.cfg.RefreshTokenTTL,
		AccessTokenAlg:        a.cfg.AccessTokenAlg,
		AllowHTTPLoopback:     a.cfg.Dev,
	}, oauth.Deps{
		Clients: a.sql, Grants: a.sql, Consents: a.sql, State: a.eph, Sessions: a.eph, Citizens: a.sql,
		Keys: a.keys, Browser: sessions, Pages: pages, Logger: a.log, Audit: a.sql,
	})
	if err != nil {
		return nil, err
	}
	hasher := a.hasher()
	auth := &identity.Authenticator{Citizens: a.signInCitizens(), Hasher: hasher, Limiter: a.eph, LimitKeySecret: a.sec.limitKey,
		IPLimit: identity.Limit{Max: a.cfg.LoginIPLimit, Window: 15 * time.Minute}, Audit: a.sql}
	reg := &identity.Registrar{Citizens: a.sql, Hasher: hasher, Audit: a.sql}
	sms, devSMS, err := a.smsCodes()
	if err != nil {
		return nil, fmt.Errorf("YIHAO_SMS_WEBHOOK_URL: %w", err)
	}
	levels, err := a.assurance(sms)
	if err != nil {
		return nil, fmt.Errorf("YIHAO_VERIFY_URL: %w", err)
	}
	contact, devMail, err := a.contact(sms)
	if err != nil {
		return nil, fmt.Errorf("YIHAO_MAIL_WEBHOOK_URL: %w", err)
	}
	// Password recovery, and the lockout's way back (recovery.go).
	rec := a.recovery(sms, provider, auth)
	signIn := unlockingSessions{Sessions: sessions, citizens: a.sql, auth: auth, log: a.log}
	lh, err := login.New(login.Config{
		UI: ui, Sessions: signIn, Flows: provider, Citizens: a.sql,
		Authenticator: authAdapter{auth}, Registrar: regAdapter{reg}, SMS: sms, Upgrader: a.eph, Recovery: rec, TOTP: levels.totp,
	})
	if err != nil {
		return nil, err
	}
	ch, err := consent.New(consent.Config{UI: ui, Sessions: sessions, Flows: provider})
	if err != nil {
		return nil, err
	}
	dh, err := device.New(device.Config{UI: ui, Sessions: sessions, Devices: provider})
	if err != nil {
		return nil, err
	}
	// Passkeys need a domain name (WebAuthn refuses IP addresses): with an
	// issuer such as http://127.0.0.1:8080 they are off, with one log line.
	pk, err := passkey.New(passkey.Config{
		UI: ui, Sessions: signIn, Flows: provider, Citizens: a.signInCitizens(), Passkeys: a.sql, State: a.eph,
		Issuer: a.cfg.Issuer, DecoyKey: a.sec.limitKey, Logger: a.log, Levels: levels.levels,
	})
	if err != nil {
		a.log.Warn("passkeys are off", "reason", err.Error())
	}
	acctCfg := account.Config{UI: ui, Sessions: sessions, SessionList: a.eph, Citizens: a.sql,
		Protocol: provider, Clients: a.sql, Activity: account.FromAudit(a.sql), LevelURL: "/account/level", TOTPURL: "/account/totp", Contact: contact}
	if pk != nil {
		acctCfg.PasskeysURL = "/account/passkeys"
	}
	acct, err := account.New(acctCfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	provider.Mount(mux)
	ui.Mount(mux)
	lh.Mount(mux)
	if devSMS != nil {
		mux.Handle("GET /dev/sms", login.DevSMSPage(devSMS.Recent))
	}
	if devMail != nil {
		mux.Handle("GET /dev/mail", devMailPage(devMail.Recent))
	}
	ch.Mount(mux)
	if err := a.mountConsole(mux, ui, provider, secure); err != nil {
		return nil, err
	}
	acct.Mount(mux)
	if err := a.mountAssurance(mux, ui, sessions, levels, acctCfg.PasskeysURL); err != nil {
		return nil, err
	}
	if pk != nil {
		pk.Mount(mux)
	}
	dh.Mount(mux)
	if err := a.mountQR(mux, ui, provider, sessions, sms, secure); err != nil {
		return nil, err
	}
	mux.Handle("POST /logout", ui.Page(func(w http.ResponseWriter, r *http.Request) error {
		s, err := sessions.RequestSession(r)
		if err == nil {
			if err := provider.EndSession(r.Context(), s.ID); err != nil && !errors.Is(err, identity.ErrNotFound) {
				return err
			}
		} else if !errors.Is(err, identity.ErrNotFound) {
			return err
		}
		sessions.ClearCookie(w)
		pages.LoggedOut(w, r)
		return nil
	}))
	// Anything else is a localized 404 page (JSON for clients that ask for it).
	mux.Handle("/", ui.Page(func(http.ResponseWriter, *http.Request) error {
		return web.Error(http.StatusNotFound, "error.notfound")
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "no-store")
		if err := a.sql.Ping(ctx); err != nil {
			http.Error(w, "sql: unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := a.eph.Ping(ctx); err != nil {
			http.Error(w, "sessions: unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return &server{handler: web.RequestID(mux), provider: provider, sessions: sessions}, nil
}

func originOf(issuer string) string {
	// scheme://host of the issuer
	for i := len("https://"); i < len(issuer); i++ {
		if issuer[i] == '/' {
			return issuer[:i]
		}
	}
	return issuer
}
