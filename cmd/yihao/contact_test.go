package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/mailgateway"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// startContactServer runs the server with the development SMS sender and
// mailer writing to buffers the test reads.
func startContactServer(t *testing.T) (*testServer, *smsConsole, *smsConsole) {
	sms, mail := &smsConsole{}, &smsConsole{}
	ts := startServer(t, func(c *Config) { c.smsOut, c.mailOut = sms, mail })
	return ts, sms, mail
}

// staleBrowser is a browser whose session for citizenID authenticated 20
// minutes ago: still live, too old for a change.
func (ts *testServer) staleBrowser(t *testing.T, citizenID string) *browser {
	now := time.Now()
	s := &identity.Session{ID: web.NewSessionID(), CitizenID: citizenID, AuthTime: now.Add(-20 * time.Minute), ACR: "urn:yihao:acr:1",
		AMR: []string{"pwd"}, Channel: "web", CreatedAt: now.Add(-20 * time.Minute), LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	if err := ts.app.eph.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	b := ts.browser()
	u, _ := url.Parse(ts.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookieDev, Value: s.ID, Path: "/"}})
	return b
}

func contactActions(t *testing.T, ts *testServer, citizenID string) []identity.AuditAction {
	t.Helper()
	page, err := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{CitizenID: citizenID, Actions: []identity.AuditAction{
		identity.AuditContactPhoneChanged, identity.AuditContactPhoneRemoved, identity.AuditContactPhoneKept,
		identity.AuditContactEmailChanged, identity.AuditContactEmailRemoved}})
	if err != nil {
		t.Fatal(err)
	}
	var out []identity.AuditAction
	for _, e := range page.Entries {
		out = append(out, e.Action)
		for k, v := range e.Detail {
			if strings.ContainsAny(v, "@+") || strings.Contains(v, "138") || strings.Contains(v, "139") {
				t.Errorf("audit detail %s=%q holds a contact", k, v)
			}
		}
	}
	slices.Reverse(out) // oldest first
	return out
}

func TestContactPhoneAndEmailEndToEnd(t *testing.T) {
	ts, sms, mail := startContactServer(t)
	cit, number := ts.citizen() // phone +8613900139000
	b := ts.browser()
	_, body := b.signInTo("/account", number)
	if !contains(body, `href="/account/contact"`) {
		t.Fatal("the profile does not link to /account/contact")
	}
	_, body = b.get(ts.URL + "/account/contact")

	// Change the phone: a code goes to the new phone.
	resp, body := b.post(ts.URL+"/account/contact/phone", url.Values{"csrf_token": {field(t, csrfRe, body)}, "phone": {"138 0013 8000"}})
	if resp.StatusCode != http.StatusOK || !contains(body, "138****8000") {
		t.Fatalf("code page: %d\n%.2000s", resp.StatusCode, body)
	}
	code := sms.next(t, 0)
	if !contains(sms.String(), "to 138****8000:") {
		t.Fatalf("the code did not go to the new phone:\n%s", sms.String())
	}
	resp, body = b.post(ts.URL+"/account/contact/phone/verify", url.Values{"csrf_token": {field(t, csrfRe, body)},
		"phone": {"+8613800138000"}, "code": {code}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account/contact" || !contains(body, "新手机号码已绑定") {
		t.Fatalf("after the code: %d %s\n%.2000s", resp.StatusCode, resp.Request.URL, body)
	}
	if c, _ := ts.app.sql.Citizen(context.Background(), cit.ID); c.Phone != "+8613800138000" {
		t.Fatalf("phone = %q", c.Phone)
	}
	// The old phone is told, masked, without a code.
	waitFor(t, func() bool { return contains(sms.String(), "to 139****9000:") })
	for _, line := range strings.Split(sms.String(), "\n") {
		if strings.Contains(line, "to 139****9000:") && (!strings.Contains(line, "已改为 138****8000") || smsCodeRe.MatchString(line)) {
			t.Fatalf("old phone's notice: %q", line)
		}
	}

	// Add an email address with a code from the development mailer.
	resp, body = b.post(ts.URL+"/account/contact/email", url.Values{"csrf_token": {field(t, csrfRe, body)}, "email": {"Zhang.San@Example.com"}})
	if resp.StatusCode != http.StatusOK || !contains(body, "Z***@example.com") {
		t.Fatalf("email code page: %d\n%.2000s", resp.StatusCode, body)
	}
	mailCode := mail.next(t, 0)
	if !contains(mail.String(), "to Z***@example.com:") || contains(mail.String(), "Zhang.San@") {
		t.Fatalf("mail console:\n%s", mail.String())
	}
	resp, body = b.post(ts.URL+"/account/contact/email/verify", url.Values{"csrf_token": {field(t, csrfRe, body)},
		"email": {"Zhang.San@example.com"}, "code": {mailCode}})
	if resp.StatusCode != http.StatusOK || !contains(body, "Z***@example.com") || contains(body, "Zhang.San@") {
		t.Fatalf("after the email code: %d\n%.2000s", resp.StatusCode, body)
	}
	if c, _ := ts.app.sql.Citizen(context.Background(), cit.ID); c.Email != "Zhang.San@example.com" {
		t.Fatalf("email = %q", c.Email)
	}
	// The (new) phone is told about the address; /dev/mail lists the message.
	waitFor(t, func() bool {
		return contains(sms.String(), "to 138****8000: 【一号】您一号账号绑定的电子邮箱已改为 Z***@example.com")
	})
	if _, dev := b.get(ts.URL + "/dev/mail"); !contains(dev, "Z***@example.com") || contains(dev, "Zhang.San@") {
		t.Fatalf("/dev/mail:\n%s", dev)
	}

	// A site granted the email scope reads the address at userinfo.
	site := newRP(t, ts, "mail-site", func(c *oauth.Client) { c.Scopes = append(c.Scopes, "email") })
	site.conf.Scopes = append(site.conf.Scopes, "email")
	tok, _ := site.exchange(site.login(b, number))
	ctx := oidc.InsecureIssuerURLContext(context.Background(), ts.URL)
	prov, err := oidc.NewProvider(ctx, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	info, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "Zhang.San@example.com" || !info.EmailVerified {
		t.Fatalf("userinfo: %+v, %v", info, err)
	}
	_, body = b.get(ts.URL + "/account/contact")

	// The phone stays: no passkey, and it is the way to recover.
	resp, body = b.post(ts.URL+"/account/contact/phone/remove", url.Values{"csrf_token": {field(t, csrfRe, body)}})
	if resp.StatusCode != http.StatusConflict || !contains(body, "通行密钥") {
		t.Fatalf("removing the last recovery factor: %d\n%.2000s", resp.StatusCode, body)
	}

	want := []identity.AuditAction{identity.AuditContactPhoneChanged, identity.AuditContactEmailChanged, identity.AuditContactPhoneKept}
	if got := contactActions(t, ts, cit.ID); !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

func TestContactChangeWithoutAFreshLoginChangesNothing(t *testing.T) {
	ts, sms, mail := startContactServer(t)
	cit, _ := ts.citizen()
	b := ts.staleBrowser(t, cit.ID)
	resp, body := b.get(ts.URL + "/account/contact")
	if resp.StatusCode != http.StatusOK || !contains(body, `id="contact-reauth"`) {
		t.Fatalf("stale session's page: %d\n%.2000s", resp.StatusCode, body)
	}
	token := field(t, csrfRe, body)
	for _, path := range []string{"/account/contact/phone", "/account/contact/phone/verify", "/account/contact/phone/remove",
		"/account/contact/email", "/account/contact/email/verify", "/account/contact/email/remove"} {
		resp, _ := b.post(ts.URL+path, url.Values{"csrf_token": {token}, "phone": {"13800138000"}, "email": {"li@example.com"}, "code": {"123456"}})
		if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("return") != "/account/contact" {
			t.Fatalf("POST %s with a stale login ended at %s (%d)", path, resp.Request.URL, resp.StatusCode)
		}
	}
	time.Sleep(100 * time.Millisecond) // deliveries run after the answer
	if sms.String() != "" || mail.String() != "" {
		t.Fatalf("something was sent:\n%s\n%s", sms.String(), mail.String())
	}
	if c, _ := ts.app.sql.Citizen(context.Background(), cit.ID); c.Phone != "+8613900139000" || c.Email != "" {
		t.Fatalf("changed: %q %q", c.Phone, c.Email)
	}
	if got := contactActions(t, ts, cit.ID); len(got) != 0 {
		t.Fatalf("audited %v", got)
	}
}

func TestContactEmailThroughTheMailWebhook(t *testing.T) {
	secret := strings.Repeat("m", 32)
	got := make(chan map[string]string, 4)
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(mailgateway.HeaderSignature) != "sha256="+mailgateway.Sign([]byte(secret), r.Header.Get(mailgateway.HeaderTimestamp), body) {
			t.Error("bad signature")
		}
		var m map[string]string
		_ = json.Unmarshal(body, &m)
		got <- m
	}))
	defer relay.Close()
	ts := startServer(t, func(c *Config) { c.MailWebhookURL, c.MailWebhookSecret = relay.URL, secret })
	_, number := ts.citizen()
	b := ts.browser()
	_, body := b.signInTo("/account/contact", number)
	resp, _ := b.post(ts.URL+"/account/contact/email", url.Values{"csrf_token": {field(t, csrfRe, body)}, "email": {"li@example.org"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case m := <-got:
		if m["to"] != "li@example.org" || !smsCodeRe.MatchString(m["body"]) || m["subject"] == "" {
			t.Fatalf("relay got %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing reached the relay")
	}
	if resp, _ := b.get(ts.URL + "/dev/mail"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/dev/mail with a real mailer: %d", resp.StatusCode)
	}
}

func TestMailConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name, url, secret, want string
	}{
		{"secret without url", "", strings.Repeat("s", 32), "YIHAO_MAIL_WEBHOOK_SECRET"},
		{"url without secret", "https://mail.example.gov.cn/send", "", "YIHAO_MAIL_WEBHOOK_SECRET"},
		{"short secret", "https://mail.example.gov.cn/send", "short", "YIHAO_MAIL_WEBHOOK_SECRET"},
		{"http url", "http://mail.example.gov.cn/send", strings.Repeat("s", 32), "YIHAO_MAIL_WEBHOOK_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			c.Dev, c.MailWebhookURL, c.MailWebhookSecret = true, tc.url, tc.secret
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %s", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Fatal("the error repeats the secret")
			}
		})
	}
	c := defaultConfig()
	c.Dev, c.MailWebhookURL, c.MailWebhookSecret = true, "https://mail.example.gov.cn/send", strings.Repeat("s", 32)
	if err := c.Validate(); err != nil {
		t.Fatalf("a good webhook: %v", err)
	}
}
