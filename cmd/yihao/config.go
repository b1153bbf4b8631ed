package main

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Config is Yihao's one configuration struct: loaded once here from flags,
// YIHAO_* environment variables and an optional JSON file (flags win over the
// environment, the environment over the file), validated before anything
// listens, then narrowed into each package's own small config.
type Config struct {
	Listen          string        `json:"listen"`           // YIHAO_LISTEN
	Issuer          string        `json:"issuer"`           // YIHAO_ISSUER
	DatabaseURL     string        `json:"database_url"`     // YIHAO_DATABASE_URL
	RedisURL        string        `json:"redis_url"`        // YIHAO_REDIS_URL
	DataDir         string        `json:"data_dir"`         // YIHAO_DATA_DIR
	MasterKey       string        `json:"master_key"`       // YIHAO_MASTER_KEY: base64 32 bytes
	NumberKeys      string        `json:"number_keys"`      // YIHAO_NUMBER_KEYS: id=base64[,id=base64…], first is active
	IndexKey        string        `json:"index_key"`        // YIHAO_INDEX_KEY: base64 32 bytes
	SessionIdle     time.Duration `json:"session_idle"`     // YIHAO_SESSION_IDLE
	SessionLifetime time.Duration `json:"session_lifetime"` // YIHAO_SESSION_LIFETIME
	AccessTokenTTL  time.Duration `json:"access_token_ttl"` // YIHAO_ACCESS_TOKEN_TTL
	RefreshTokenTTL time.Duration `json:"refresh_token_ttl"`
	CodeTTL         time.Duration `json:"code_ttl"`
	AccessTokenAlg  string        `json:"access_token_alg"` // YIHAO_ACCESS_TOKEN_ALG
	ArgonMemoryKiB  uint          `json:"argon_memory_kib"` // YIHAO_ARGON_MEMORY_KIB
	ArgonTime       uint          `json:"argon_time"`
	LoginIPLimit    int64         `json:"login_ip_limit"` // YIHAO_LOGIN_IP_LIMIT: login attempts per IP per 15 minutes (service halls share one address)
	LoginLockout    int64         `json:"login_lockout"`  // YIHAO_LOGIN_LOCKOUT: consecutive password failures that lock password sign-in (NIST: at most 100)
	LogFormat       string        `json:"log_format"`     // YIHAO_LOG_FORMAT: json|text
	LogLevel        string        `json:"log_level"`      // YIHAO_LOG_LEVEL: debug|info|warn|error
	Migrate         bool          `json:"migrate"`        // YIHAO_MIGRATE: run migrations at serve start
	Dev             bool          `json:"dev"`            // YIHAO_DEV
	Demo            bool          `json:"demo"`           // YIHAO_DEMO
	// SMS codes: a gateway webhook (see package smsgateway). Without one
	// (and without --dev) SMS login is not offered.
	SMSWebhookURL    string `json:"sms_webhook_url"`    // YIHAO_SMS_WEBHOOK_URL
	SMSWebhookSecret string `json:"sms_webhook_secret"` // YIHAO_SMS_WEBHOOK_SECRET: HMAC key, 32+ characters
	// Real-name verification service (see package verifygateway). Without
	// one (and without --dev) citizens cannot raise their level online.
	VerifyURL    string `json:"verify_url"`    // YIHAO_VERIFY_URL
	VerifySecret string `json:"verify_secret"` // YIHAO_VERIFY_SECRET: HMAC key, 32+ characters
	// Email (see package mailgateway): codes to a new address and security
	// notices. Without one (and without --dev) addresses cannot be added.
	MailWebhookURL    string `json:"mail_webhook_url"`    // YIHAO_MAIL_WEBHOOK_URL
	MailWebhookSecret string `json:"mail_webhook_secret"` // YIHAO_MAIL_WEBHOOK_SECRET: HMAC key, 32+ characters

	smsOut  io.Writer // the development SMS sender's console (default stdout); tests set it
	mailOut io.Writer // the development mailer's console (default stdout); tests set it
}

func defaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		DataDir:         "yihao-data",
		SessionIdle:     30 * time.Minute,
		SessionLifetime: 12 * time.Hour,
		AccessTokenTTL:  10 * time.Minute,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		CodeTTL:         60 * time.Second,
		AccessTokenAlg:  "ES256",
		ArgonMemoryKiB:  19456,
		ArgonTime:       2,
		LoginIPLimit:    1000,
		LoginLockout:    100,
		LogFormat:       "json",
		LogLevel:        "info",
	}
}

// bindFlags registers the flags shared by every subcommand that opens storage.
func (c *Config) bindFlags(fs *flag.FlagSet, configFile *string) {
	fs.StringVar(configFile, "config", os.Getenv("YIHAO_CONFIG"), "JSON configuration file (YIHAO_CONFIG)")
	fs.StringVar(&c.Listen, "listen", c.Listen, "listen address (YIHAO_LISTEN)")
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "issuer URL, https in production (YIHAO_ISSUER)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "SQL database URL: sqlite path, postgres://…, mysql://… (YIHAO_DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL; empty runs the in-process session store (YIHAO_REDIS_URL)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded database and development keys (YIHAO_DATA_DIR)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "SSO session idle timeout (YIHAO_SESSION_IDLE)")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", c.SessionLifetime, "SSO session absolute lifetime (YIHAO_SESSION_LIFETIME)")
	fs.DurationVar(&c.AccessTokenTTL, "access-token-ttl", c.AccessTokenTTL, "access token lifetime (YIHAO_ACCESS_TOKEN_TTL)")
	fs.DurationVar(&c.RefreshTokenTTL, "refresh-token-ttl", c.RefreshTokenTTL, "refresh token lifetime (YIHAO_REFRESH_TOKEN_TTL)")
	fs.DurationVar(&c.CodeTTL, "code-ttl", c.CodeTTL, "authorization code lifetime (YIHAO_CODE_TTL)")
	fs.StringVar(&c.AccessTokenAlg, "access-token-alg", c.AccessTokenAlg, "ES256 or RS256 (YIHAO_ACCESS_TOKEN_ALG)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json or text (YIHAO_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (YIHAO_LOG_LEVEL)")
	fs.Int64Var(&c.LoginIPLimit, "login-ip-limit", c.LoginIPLimit, "login attempts allowed per client IP per 15 minutes (YIHAO_LOGIN_IP_LIMIT)")
	fs.Int64Var(&c.LoginLockout, "login-lockout", c.LoginLockout, "consecutive password failures that lock password sign-in until an SMS, passkey or recovery sign-in, 1..100 (YIHAO_LOGIN_LOCKOUT)")
	fs.StringVar(&c.SMSWebhookURL, "sms-webhook-url", c.SMSWebhookURL, "SMS gateway webhook URL; its secret only from YIHAO_SMS_WEBHOOK_SECRET or the file (YIHAO_SMS_WEBHOOK_URL)")
	fs.StringVar(&c.MailWebhookURL, "mail-webhook-url", c.MailWebhookURL, "mail relay webhook URL; its secret only from YIHAO_MAIL_WEBHOOK_SECRET or the file (YIHAO_MAIL_WEBHOOK_URL)")
	fs.StringVar(&c.VerifyURL, "verify-url", c.VerifyURL, "real-name verification service URL; its secret only from YIHAO_VERIFY_SECRET or the file (YIHAO_VERIFY_URL)")
	fs.BoolVar(&c.Migrate, "migrate", c.Migrate, "apply database migrations at start (YIHAO_MIGRATE)")
	fs.BoolVar(&c.Dev, "dev", c.Dev, "development: generated keys in the data dir, http issuer on localhost, text logs (YIHAO_DEV)")
}

// load applies the file, then the environment, then re-parses the flags so
// they win.
func loadConfig(fs *flag.FlagSet, args []string, c *Config) error {
	var file string
	c.bindFlags(fs, &file)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("YIHAO_CONFIG: %w", err)
		}
		if err := json.Unmarshal(data, c); err != nil {
			return fmt.Errorf("YIHAO_CONFIG %s: %w", file, err)
		}
	}
	if err := c.fromEnv(); err != nil {
		return err
	}
	return fs.Parse(args) // flags override file and environment
}

func (c *Config) fromEnv() error {
	str := map[string]*string{
		"YIHAO_LISTEN": &c.Listen, "YIHAO_ISSUER": &c.Issuer, "YIHAO_DATABASE_URL": &c.DatabaseURL,
		"YIHAO_REDIS_URL": &c.RedisURL, "YIHAO_DATA_DIR": &c.DataDir, "YIHAO_MASTER_KEY": &c.MasterKey,
		"YIHAO_NUMBER_KEYS": &c.NumberKeys, "YIHAO_INDEX_KEY": &c.IndexKey, "YIHAO_ACCESS_TOKEN_ALG": &c.AccessTokenAlg,
		"YIHAO_LOG_FORMAT": &c.LogFormat, "YIHAO_LOG_LEVEL": &c.LogLevel,
		"YIHAO_SMS_WEBHOOK_URL": &c.SMSWebhookURL, "YIHAO_SMS_WEBHOOK_SECRET": &c.SMSWebhookSecret,
		"YIHAO_VERIFY_URL": &c.VerifyURL, "YIHAO_VERIFY_SECRET": &c.VerifySecret,
		"YIHAO_MAIL_WEBHOOK_URL": &c.MailWebhookURL, "YIHAO_MAIL_WEBHOOK_SECRET": &c.MailWebhookSecret,
	}
	for k, p := range str {
		if v, ok := os.LookupEnv(k); ok {
			*p = v
		}
	}
	dur := map[string]*time.Duration{
		"YIHAO_SESSION_IDLE": &c.SessionIdle, "YIHAO_SESSION_LIFETIME": &c.SessionLifetime,
		"YIHAO_ACCESS_TOKEN_TTL": &c.AccessTokenTTL, "YIHAO_REFRESH_TOKEN_TTL": &c.RefreshTokenTTL, "YIHAO_CODE_TTL": &c.CodeTTL,
	}
	var errs []error
	for k, p := range dur {
		if v, ok := os.LookupEnv(k); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration like 30m", k, v))
				continue
			}
			*p = d
		}
	}
	if v, ok := os.LookupEnv("YIHAO_LOGIN_IP_LIMIT"); ok {
		if _, err := fmt.Sscan(v, &c.LoginIPLimit); err != nil {
			errs = append(errs, fmt.Errorf("YIHAO_LOGIN_IP_LIMIT: %q is not a number", v))
		}
	}
	if v, ok := os.LookupEnv("YIHAO_LOGIN_LOCKOUT"); ok {
		if _, err := fmt.Sscan(v, &c.LoginLockout); err != nil {
			errs = append(errs, fmt.Errorf("YIHAO_LOGIN_LOCKOUT: %q is not a number", v))
		}
	}
	boolean := map[string]*bool{"YIHAO_MIGRATE": &c.Migrate, "YIHAO_DEV": &c.Dev, "YIHAO_DEMO": &c.Demo}
	for k, p := range boolean {
		if v, ok := os.LookupEnv(k); ok {
			*p = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
		}
	}
	return errors.Join(errs...)
}

// Validate collects every problem, each naming its setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(setting, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, a...)))
	}
	if c.Issuer == "" {
		if c.Dev {
			// localhost rather than an IP address: WebAuthn (passkeys) refuses IP hosts.
			host, port, _ := net.SplitHostPort(c.Listen)
			if host == "" || host == "0.0.0.0" || host == "127.0.0.1" || host == "::" || host == "::1" {
				host = "localhost"
			}
			c.Issuer = "http://" + net.JoinHostPort(host, port)
		} else {
			bad("YIHAO_ISSUER", "is required (the public https URL of this server)")
		}
	}
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		switch {
		case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			bad("YIHAO_ISSUER", "must be an absolute URL without query or fragment")
		case strings.HasSuffix(c.Issuer, "/"):
			bad("YIHAO_ISSUER", "must not end with a slash")
		case u.Scheme != "https" && !(c.Dev && u.Scheme == "http" && isLoopback(u.Hostname())):
			bad("YIHAO_ISSUER", "must use https (http is allowed only with --dev on localhost)")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || !oneOf(u.Scheme, "redis", "rediss", "unix", "redis-sentinel", "redis-cluster") {
			bad("YIHAO_REDIS_URL", "scheme must be redis, rediss, unix, redis-sentinel or redis-cluster")
		}
	}
	if c.SessionIdle <= 0 {
		bad("YIHAO_SESSION_IDLE", "must be positive")
	}
	if c.SessionLifetime < c.SessionIdle {
		bad("YIHAO_SESSION_LIFETIME", "must be at least the idle timeout (%s)", c.SessionIdle)
	}
	if c.CodeTTL <= 0 || c.CodeTTL > 10*time.Minute {
		bad("YIHAO_CODE_TTL", "must be between 1s and 10m")
	}
	if c.AccessTokenTTL <= 0 {
		bad("YIHAO_ACCESS_TOKEN_TTL", "must be positive")
	}
	if !oneOf(c.AccessTokenAlg, "ES256", "RS256") {
		bad("YIHAO_ACCESS_TOKEN_ALG", "must be ES256 or RS256")
	}
	if !oneOf(c.LogFormat, "json", "text") {
		bad("YIHAO_LOG_FORMAT", "must be json or text")
	}
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") {
		bad("YIHAO_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.LoginIPLimit < 1 {
		bad("YIHAO_LOGIN_IP_LIMIT", "must be at least 1")
	}
	if c.LoginLockout < 1 || c.LoginLockout > 100 {
		bad("YIHAO_LOGIN_LOCKOUT", "must be between 1 and 100 (NIST SP 800-63B allows at most 100 consecutive failures)")
	}
	switch {
	case c.SMSWebhookURL != "":
		if _, err := parseAbsURL(c.SMSWebhookURL); err != nil {
			bad("YIHAO_SMS_WEBHOOK_URL", "%v", err)
		}
		if len(c.SMSWebhookSecret) < 32 {
			bad("YIHAO_SMS_WEBHOOK_SECRET", "is required with YIHAO_SMS_WEBHOOK_URL: at least 32 random characters")
		}
	case c.SMSWebhookSecret != "":
		bad("YIHAO_SMS_WEBHOOK_SECRET", "is set but YIHAO_SMS_WEBHOOK_URL is not")
	}
	switch {
	case c.VerifyURL != "":
		if _, err := parseAbsURL(c.VerifyURL); err != nil {
			bad("YIHAO_VERIFY_URL", "%v", err)
		}
		if len(c.VerifySecret) < 32 {
			bad("YIHAO_VERIFY_SECRET", "is required with YIHAO_VERIFY_URL: at least 32 random characters")
		}
	case c.VerifySecret != "":
		bad("YIHAO_VERIFY_SECRET", "is set but YIHAO_VERIFY_URL is not")
	}
	switch {
	case c.MailWebhookURL != "":
		if _, err := parseAbsURL(c.MailWebhookURL); err != nil {
			bad("YIHAO_MAIL_WEBHOOK_URL", "%v", err)
		}
		if len(c.MailWebhookSecret) < 32 {
			bad("YIHAO_MAIL_WEBHOOK_SECRET", "is required with YIHAO_MAIL_WEBHOOK_URL: at least 32 random characters")
		}
	case c.MailWebhookSecret != "":
		bad("YIHAO_MAIL_WEBHOOK_SECRET", "is set but YIHAO_MAIL_WEBHOOK_URL is not")
	}
	if c.ArgonMemoryKiB < 19456 || c.ArgonTime < 2 {
		bad("YIHAO_ARGON_MEMORY_KIB", "argon2id below the OWASP minimum (m=19456 KiB, t=2)")
	}
	if c.MasterKey == "" && c.NumberKeys == "" && c.IndexKey == "" && c.Dev {
		// keys are generated in the data dir by ensureDevKeys
	} else {
		if _, err := decodeKey(c.MasterKey); err != nil {
			bad("YIHAO_MASTER_KEY", "%v", err)
		}
		if _, err := decodeKey(c.IndexKey); err != nil {
			bad("YIHAO_INDEX_KEY", "%v", err)
		}
		if _, _, err := parseNumberKeys(c.NumberKeys); err != nil {
			bad("YIHAO_NUMBER_KEYS", "%v", err)
		}
	}
	return errors.Join(errs...)
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func isLoopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("is required in production: 32 random bytes, base64 (yihao keys generate prints a set)")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("is not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("must be 32 bytes, got %d", len(b))
	}
	return b, nil
}

// parseNumberKeys reads "id=base64,id=base64"; the first key is the active one.
func parseNumberKeys(s string) (string, map[string][]byte, error) {
	if s == "" {
		return "", nil, errors.New("is required in production: id=base64 of 32 bytes, the first active")
	}
	keys := map[string][]byte{}
	active := ""
	for _, part := range strings.Split(s, ",") {
		id, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" {
			return "", nil, errors.New("each entry must be id=base64")
		}
		k, err := decodeKey(val)
		if err != nil {
			return "", nil, fmt.Errorf("key %q %v", id, err)
		}
		if active == "" {
			active = id
		}
		keys[id] = k
	}
	return active, keys, nil
}

// secrets are the derived key material packages receive.
type secrets struct {
	numberActive string
	numberKeys   map[string][]byte
	indexKey     []byte
	signingKEK   []byte
	sessionSeal  []byte
	globalSecret []byte
	pairwiseSalt []byte
	csrfKey      []byte
	limitKey     []byte
}

func (c *Config) secrets() (*secrets, error) {
	master, err := decodeKey(c.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("YIHAO_MASTER_KEY: %w", err)
	}
	idx, err := decodeKey(c.IndexKey)
	if err != nil {
		return nil, fmt.Errorf("YIHAO_INDEX_KEY: %w", err)
	}
	active, nk, err := parseNumberKeys(c.NumberKeys)
	if err != nil {
		return nil, fmt.Errorf("YIHAO_NUMBER_KEYS: %w", err)
	}
	derive := func(label string) []byte {
		k, err := hkdf.Key(sha256.New, master, nil, "yihao "+label, 32)
		if err != nil {
			panic(err) // only for invalid lengths, which are constants here
		}
		return k
	}
	return &secrets{
		numberActive: active, numberKeys: nk, indexKey: idx,
		signingKEK: derive("signing-key-kek"), sessionSeal: derive("session-seal"),
		globalSecret: derive("token-hmac"), pairwiseSalt: derive("pairwise-subject"), csrfKey: derive("csrf"), limitKey: derive("rate-limit-keys"),
	}, nil
}

// ensureDevKeys generates development keys into the data dir once and loads
// them; production refuses to start without configured keys (Validate).
func (c *Config) ensureDevKeys() (bool, error) {
	if !c.Dev || c.MasterKey != "" || c.IndexKey != "" || c.NumberKeys != "" {
		return false, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("YIHAO_DATA_DIR: %w", err)
	}
	path := filepath.Join(c.DataDir, "dev-keys.json")
	var k devKeys
	created := false
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &k); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		k = devKeys{MasterKey: randKey(), IndexKey: randKey(), NumberKeys: "dev1=" + randKey()}
		out, _ := json.MarshalIndent(k, "", "  ")
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return false, err
		}
		created = true
	default:
		return false, err
	}
	c.MasterKey, c.IndexKey, c.NumberKeys = k.MasterKey, k.IndexKey, k.NumberKeys
	return created, nil
}

type devKeys struct {
	MasterKey  string `json:"master_key"`
	IndexKey   string `json:"index_key"`
	NumberKeys string `json:"number_keys"`
}

func randKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (c *Config) databaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "yihao.db")
}

// settingNames lists every environment variable, for the README and --help.
func settingNames() []string {
	names := []string{"YIHAO_CONFIG", "YIHAO_LISTEN", "YIHAO_ISSUER", "YIHAO_DATABASE_URL", "YIHAO_REDIS_URL", "YIHAO_DATA_DIR",
		"YIHAO_MASTER_KEY", "YIHAO_NUMBER_KEYS", "YIHAO_INDEX_KEY", "YIHAO_SESSION_IDLE", "YIHAO_SESSION_LIFETIME",
		"YIHAO_ACCESS_TOKEN_TTL", "YIHAO_REFRESH_TOKEN_TTL", "YIHAO_CODE_TTL", "YIHAO_ACCESS_TOKEN_ALG",
		"YIHAO_LOG_FORMAT", "YIHAO_LOG_LEVEL", "YIHAO_LOGIN_IP_LIMIT", "YIHAO_MIGRATE", "YIHAO_DEV", "YIHAO_DEMO",
		"YIHAO_SMS_WEBHOOK_URL", "YIHAO_SMS_WEBHOOK_SECRET", "YIHAO_VERIFY_URL", "YIHAO_VERIFY_SECRET",
		"YIHAO_MAIL_WEBHOOK_URL", "YIHAO_MAIL_WEBHOOK_SECRET"}
	sort.Strings(names)
	return names
}
