package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := newFlags("yihao serve", stderr)
	fs.BoolVar(&cfg.Demo, "demo", false, "create a demo client and a demo citizen and print how to log in (YIHAO_DEMO)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until the server stops (yihao bench --cpuprofile)")
	if err := loadConfig(fs, args, &cfg); err != nil {
		return err
	}
	start := time.Now()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if os.Getenv("GOMEMLIMIT") == "" && cfg.RedisURL != "" {
		// With Redis holding the short-lived state, a soft heap limit keeps
		// the collector ahead of bursts (argon2id buffers, token bursts);
		// GOMEMLIMIT overrides it. Not with the embedded store: it keeps
		// every live token in this heap, and a limit below that would only
		// make the collector run without pause.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	a, err := openApp(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.migrateIfAsked(ctx); err != nil {
		return err
	}
	if err := a.loadKeys(ctx); err != nil {
		return err
	}
	srv, err := a.buildServer(ctx)
	if err != nil {
		return err
	}
	if a.cfg.Demo {
		if err := a.demo(ctx, stdout); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("YIHAO_LISTEN: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	a.log.Info("yihao listening", "addr", ln.Addr().String(), "issuer", a.cfg.Issuer, "ready_in", time.Since(start).String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	srv.provider.Wait()
	a.log.Info("yihao stopped")
	return err
}

// defaultMemoryLimit is the soft Go heap limit of `yihao serve`.
const defaultMemoryLimit = 40 << 20

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := newFlags("yihao migrate", stderr)
	if err := loadConfig(fs, args, &cfg); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr, false)
	if err != nil {
		return err
	}
	defer a.Close()
	pending, err := a.sql.Pending(ctx)
	if err != nil {
		return err
	}
	if err := a.sql.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s)\n", len(pending))
	for _, p := range pending {
		fmt.Fprintln(stdout, "  ", p)
	}
	return nil
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := sub(args, "rotate", "generate")
	if err != nil {
		return err
	}
	if verb == "generate" {
		fmt.Fprintf(stdout, "YIHAO_MASTER_KEY=%s\nYIHAO_INDEX_KEY=%s\nYIHAO_NUMBER_KEYS=k%s=%s\n", randKey(), randKey(), time.Now().UTC().Format("20060102"), randKey())
		return nil
	}
	cfg := defaultConfig()
	fs := newFlags("yihao keys rotate", stderr)
	if err := loadConfig(fs, rest, &cfg); err != nil {
		return err
	}
	a, err := openMigrated(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.loadKeys(ctx); err != nil {
		return err
	}
	ids, err := a.keys.Rotate(ctx)
	if err != nil {
		return err
	}
	// Retired keys stay published until every token they signed has expired.
	keep := cfg.AccessTokenTTL
	if keep < 10*time.Minute {
		keep = 10 * time.Minute
	}
	pruned, err := a.keys.Prune(ctx, time.Now().Add(-2*keep))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing keys: %s (previous keys stay published; %d long-retired key(s) removed)\n", strings.Join(ids, ", "), pruned)
	return nil
}

// openMigrated opens SQL for a one-shot command, migrating first when asked.
func openMigrated(ctx context.Context, cfg Config, stderr io.Writer) (*app, error) {
	a, err := openApp(ctx, cfg, stderr, false)
	if err != nil {
		return nil, err
	}
	if err := a.migrateIfAsked(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func cmdClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := sub(args, "create", "list", "get", "delete")
	if err != nil {
		return err
	}
	cfg := defaultConfig()
	fs := newFlags("yihao client "+verb, stderr)
	var (
		c                                   oauth.Client
		secret, subjectType                 string
		redirects, postLogout, grants, scps stringList
	)
	if verb == "create" || verb == "get" || verb == "delete" {
		fs.StringVar(&c.ID, "id", "", "client id (required)")
	}
	if verb == "create" {
		fs.StringVar(&secret, "secret", "", "client secret (at least 32 characters); generated and printed once when omitted")
		fs.StringVar(&c.Name, "name", "", "display name shown to citizens (required)")
		fs.Var(&redirects, "redirect-uri", "exact redirect URI (repeatable)")
		fs.Var(&postLogout, "post-logout-redirect-uri", "exact post-logout redirect URI (repeatable)")
		fs.StringVar(&c.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel logout URI")
		fs.Var(&grants, "grant-type", "authorization_code, refresh_token, client_credentials or "+oauth.DeviceGrantType+" or "+oauth.CounterGrantType+" (repeatable; default authorization_code+refresh_token)")
		fs.Var(&scps, "scope", "allowed scope (repeatable or space separated; default openid profile offline_access)")
		fs.BoolVar(&c.Public, "public", false, "public client (no secret; PKCE required)")
		fs.StringVar(&c.TokenEndpointAuthMethod, "token-endpoint-auth-method", "", "client_secret_basic (default), client_secret_post or none")
		fs.StringVar(&subjectType, "subject-type", "pairwise", "pairwise or public")
		fs.StringVar(&c.SectorIdentifier, "sector", "", "pairwise sector (default: host of the first redirect URI)")
		fs.BoolVar(&c.AllowIDCard, "allow-idcard", false, "may request the idcard scope (the citizen still consents)")
		fs.BoolVar(&c.SkipConsent, "skip-consent", false, "first-party client: no consent screen")
		fs.StringVar(&c.IDTokenSignedResponseAlg, "id-token-alg", "RS256", "RS256 or ES256")
		fs.StringVar(&c.Channel, "channel", "", "the service channel the site is: web, app, miniapp, kiosk, counter or api (default: as the login's)")
		fs.IntVar(&c.MinLevel, "min-level", 0, "minimum real-name level (1-3) of citizens the site may receive")
		fs.StringVar(&c.MinACR, "min-acr", "", "minimum acr of the logins the site may receive: "+oauth.ACRPassword+", "+oauth.ACRMulti+" or "+oauth.ACRInPerson+" (a step-up reaches it)")
	}
	if err := loadConfig(fs, rest, &cfg); err != nil {
		return err
	}
	a, err := openMigrated(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if verb != "list" && c.ID == "" {
		return errors.New("--id: required")
	}
	switch verb {
	case "list":
		cs, err := a.sql.Clients(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", c.ID, c.Name, strings.Join(c.RedirectURIs, " "))
		}
		return nil
	case "get":
		got, err := a.sql.Client(ctx, c.ID)
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("--id: no client %q", c.ID)
		}
		if err != nil {
			return err
		}
		got.SecretHash = nil
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(got)
	case "delete":
		err := a.sql.DeleteClient(ctx, c.ID)
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("--id: no client %q", c.ID)
		}
		if err == nil {
			fmt.Fprintf(stdout, "deleted client %s\n", c.ID)
		}
		return err
	}
	// create
	c.RedirectURIs, c.PostLogoutRedirectURIs, c.SubjectType = redirects, postLogout, subjectType
	c.GrantTypes = grants
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, s := range scps {
		c.Scopes = append(c.Scopes, strings.Fields(s)...)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "offline_access"}
	}
	if err := validateClient(&c); err != nil {
		return err
	}
	printed := ""
	if !c.Public {
		if secret == "" {
			if secret, err = oauth.GenerateSecret(); err != nil {
				return err
			}
			printed = secret
		} else if len(secret) < oauth.MinSecretLength {
			return fmt.Errorf("--secret: must be at least %d characters (or omit it to generate one)", oauth.MinSecretLength)
		}
		c.SecretHash = oauth.HashSecret(secret)
	} else if secret != "" {
		return errors.New("--secret: a public client has no secret")
	}
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := a.sql.CreateClient(ctx, &c); err != nil {
		if errors.Is(err, identity.ErrAlreadyExists) {
			return fmt.Errorf("--id: client %q already exists", c.ID)
		}
		return err
	}
	fmt.Fprintf(stdout, "created client %s\n", c.ID)
	if printed != "" {
		fmt.Fprintf(stdout, "client secret (shown once, store it now): %s\n", printed)
	}
	return nil
}

func validateClient(c *oauth.Client) error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("--name: required"))
	}
	for _, g := range c.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" && g != "client_credentials" && g != oauth.DeviceGrantType && g != oauth.CounterGrantType {
			errs = append(errs, fmt.Errorf("--grant-type: %q is not supported (implicit and password are refused per RFC 9700)", g))
		}
	}
	needsRedirect := false
	for _, g := range c.GrantTypes {
		if g == "authorization_code" {
			needsRedirect = true
		}
	}
	if needsRedirect && len(c.RedirectURIs) == 0 {
		errs = append(errs, errors.New("--redirect-uri: at least one is required for authorization_code"))
	}
	for _, u := range append(append([]string{}, c.RedirectURIs...), c.PostLogoutRedirectURIs...) {
		if err := checkURI(u); err != nil {
			errs = append(errs, fmt.Errorf("--redirect-uri %q: %v", u, err))
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkURI(c.BackchannelLogoutURI); err != nil {
			errs = append(errs, fmt.Errorf("--backchannel-logout-uri: %v", err))
		}
	}
	for _, s := range c.Scopes {
		if !oneOf(s, "openid", "profile", "phone", "idcard", "offline_access") && strings.ContainsAny(s, " \"\\") {
			errs = append(errs, fmt.Errorf("--scope: %q is not a valid scope", s))
		}
		if s == "idcard" && !c.AllowIDCard {
			errs = append(errs, errors.New("--scope idcard: requires --allow-idcard"))
		}
	}
	if c.SubjectType != "pairwise" && c.SubjectType != "public" {
		errs = append(errs, errors.New("--subject-type: must be pairwise or public"))
	}
	if c.IDTokenSignedResponseAlg != "RS256" && c.IDTokenSignedResponseAlg != "ES256" {
		errs = append(errs, errors.New("--id-token-alg: must be RS256 or ES256"))
	}
	if !oneOf(c.TokenEndpointAuthMethod, "", "client_secret_basic", "client_secret_post", "none") {
		errs = append(errs, errors.New("--token-endpoint-auth-method: must be client_secret_basic, client_secret_post or none"))
	}
	if c.Public {
		c.TokenEndpointAuthMethod = "none"
	} else if c.TokenEndpointAuthMethod == "none" {
		errs = append(errs, errors.New("--token-endpoint-auth-method none: only with --public"))
	}
	if c.Channel != "" && !slices.Contains(oauth.Channels, c.Channel) {
		errs = append(errs, fmt.Errorf("--channel: %q is not one of %s", c.Channel, strings.Join(oauth.Channels, ", ")))
	}
	if c.MinLevel < 0 || c.MinLevel > 3 {
		errs = append(errs, errors.New("--min-level: must be 0 to 3"))
	}
	if c.MinACR != "" && oauth.ACRRank(c.MinACR) == 0 {
		errs = append(errs, errors.New("--min-acr: must be "+oauth.ACRPassword+", "+oauth.ACRMulti+" or "+oauth.ACRInPerson))
	}
	return errors.Join(errs...)
}

func checkURI(raw string) error {
	u, err := parseAbsURL(raw)
	if err != nil {
		return err
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	if u.User != nil {
		return errors.New("must not carry user information")
	}
	return nil
}

func cmdCitizen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	verb, rest, err := sub(args, "create", "get")
	if err != nil {
		return err
	}
	cfg := defaultConfig()
	fs := newFlags("yihao citizen "+verb, stderr)
	var number, docType, name, phone string
	var pwStdin bool
	fs.StringVar(&number, "id-number", "", "document number (required)")
	fs.StringVar(&docType, "document-type", "resident_id", "resident_id|residence_permit|foreign_permanent_resident|hk_macao_permit|taiwan_permit|passport")
	if verb == "create" {
		fs.StringVar(&name, "name", "", "full name (required)")
		fs.StringVar(&phone, "phone", "", "mobile phone number")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	}
	if err := loadConfig(fs, rest, &cfg); err != nil {
		return err
	}
	n, err := identity.Parse(identity.DocumentType(docType), number)
	if err != nil {
		return fmt.Errorf("--id-number: %w", err)
	}
	a, err := openMigrated(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if verb == "get" {
		c, err := a.sql.CitizenByNumber(ctx, n)
		if errors.Is(err, identity.ErrNotFound) {
			return errors.New("--id-number: no citizen with this number")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "id:       %s\nnumber:   %s (%s)\nname:     %s\nphone:    %s\nstatus:   %s\nlevel:    %d\ncreated:  %s\n",
			c.ID, c.Number.Masked(), c.Number.Type(), c.Name, c.Phone, c.Status, c.Level, c.CreatedAt.Format(time.RFC3339))
		return nil
	}
	password := ""
	if pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("--password-stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	c, err := a.register(ctx, n, name, phone, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created citizen %s (%s)\n", c.ID, c.Number.Masked())
	return nil
}
