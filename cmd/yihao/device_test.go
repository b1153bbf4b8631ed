package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/oauth"
)

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"`)

// hidden collects a page's hidden form fields.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], strings.ReplaceAll(m[2], "&amp;", "&"))
	}
	return v
}

func devicePoll(t *testing.T, ts *testServer, clientID, deviceCode string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {oauth.DeviceGrantType}, "device_code": {deviceCode}, "client_id": {clientID}}
	resp, err := http.PostForm(ts.URL+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDeviceFlow: a kiosk (public client) gets a user code; the citizen
// approves on their phone; the kiosk's polling gets tokens whose lineage
// leads back to the phone's SSO session.
func TestDeviceFlow(t *testing.T) {
	ts := startServer(t)
	kiosk := newRP(t, ts, "kiosk", func(c *oauth.Client) {
		c.Public = true
		c.TokenEndpointAuthMethod = "none"
		c.GrantTypes = []string{oauth.DeviceGrantType, "refresh_token"}
	})
	kiosk.conf.Endpoint.DeviceAuthURL = ts.URL + "/oauth2/device_authorization"
	_, number := ts.citizen()
	ctx := context.Background()

	da, err := kiosk.conf.DeviceAuth(ctx, oauth2.SetAuthURLParam("scope", "openid profile"))
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	if len(da.UserCode) != 9 || da.VerificationURI != ts.URL+"/device" || da.Interval != 5 {
		t.Fatalf("device authorization response %+v", da)
	}

	// Before approval: authorization_pending, then slow_down when polling too fast.
	if status, out := devicePoll(t, ts, "kiosk", da.DeviceCode); status != 400 || out["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v", status, out)
	}
	if status, out := devicePoll(t, ts, "kiosk", da.DeviceCode); status != 400 || out["error"] != "slow_down" {
		t.Fatalf("fast poll: %d %v", status, out)
	}

	// The citizen opens the complete verification URI on the phone, signs in, approves.
	phone := ts.browser()
	resp, body := phone.get(da.VerificationURIComplete)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("verification without a session went to %s", resp.Request.URL)
	}
	form := hidden(body)
	form.Set("username", number)
	form.Set("password", testPassword)
	resp, body = phone.post(ts.URL+"/login", form)
	if resp.Request.URL.Path != "/device" || !strings.Contains(body, da.UserCode) {
		t.Fatalf("after login: %s\n%.800s", resp.Request.URL, body)
	}
	// A wrong code is refused with a message, nothing else happens.
	bad := hidden(body)
	bad.Set("user_code", "BBBB-BBBB")
	if resp, _ := phone.post(ts.URL+"/device", bad); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown user code: status %d", resp.StatusCode)
	}
	form = hidden(body)
	form.Set("user_code", strings.ToLower(strings.ReplaceAll(da.UserCode, "-", "")))
	resp, body = phone.post(ts.URL+"/device", form)
	if resp.StatusCode != 200 || !strings.Contains(body, "Site kiosk") {
		t.Fatalf("confirm page: %d\n%.800s", resp.StatusCode, body)
	}
	form = hidden(body)
	form.Set("decision", "allow")
	if resp, _ = phone.post(ts.URL+"/device/decide", form); resp.StatusCode != 200 {
		t.Fatalf("decide: status %d", resp.StatusCode)
	}

	// The kiosk's poll now gets tokens (x/oauth2 waits the interval).
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := kiosk.conf.DeviceAccessToken(pctx, da)
	if err != nil {
		t.Fatalf("device access token: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := kiosk.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	var claims struct {
		SID     string `json:"sid"`
		Channel string `json:"channel"`
	}
	_ = idt.Claims(&claims)
	if claims.SID == "" || claims.Channel != "kiosk" {
		t.Fatalf("device id token claims %+v", claims)
	}
	// The device code is single use.
	if status, out := devicePoll(t, ts, "kiosk", da.DeviceCode); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("second redemption: %d %v", status, out)
	}
	// Lineage: signing out on the phone ends the kiosk's tokens too.
	resp, body = phone.get(ts.URL + "/oauth2/logout")
	form = hidden(body)
	form.Set("confirm", "yes")
	phone.post(ts.URL+"/oauth2/logout", form)
	ts.srv.provider.Wait()
	introspector := newRP(t, ts, "rs")
	if got := introspector.introspect(tok.AccessToken); got["active"] != false {
		t.Fatalf("kiosk token still active after the phone signed out: %v", got)
	}
}

func TestDeviceFlowDenied(t *testing.T) {
	ts := startServer(t)
	kiosk := newRP(t, ts, "tv", func(c *oauth.Client) {
		c.Public = true
		c.TokenEndpointAuthMethod = "none"
		c.GrantTypes = []string{oauth.DeviceGrantType}
	})
	kiosk.conf.Endpoint.DeviceAuthURL = ts.URL + "/oauth2/device_authorization"
	_, number := ts.citizen()
	da, err := kiosk.conf.DeviceAuth(context.Background(), oauth2.SetAuthURLParam("scope", "openid"))
	if err != nil {
		t.Fatal(err)
	}
	phone := ts.browser()
	_, body := phone.get(da.VerificationURIComplete)
	form := hidden(body)
	form.Set("username", number)
	form.Set("password", testPassword)
	_, body = phone.post(ts.URL+"/login", form)
	form = hidden(body)
	form.Set("user_code", da.UserCode)
	_, body = phone.post(ts.URL+"/device", form)
	form = hidden(body)
	form.Set("decision", "deny")
	phone.post(ts.URL+"/device/decide", form)
	if status, out := devicePoll(t, ts, "tv", da.DeviceCode); status != http.StatusForbidden || out["error"] != "access_denied" {
		t.Fatalf("denied device: %d %v", status, out)
	}
	// A client not registered for the grant cannot start it.
	other := newRP(t, ts, "web-only")
	other.conf.Endpoint.DeviceAuthURL = ts.URL + "/oauth2/device_authorization"
	if _, err := other.conf.DeviceAuth(context.Background()); err == nil {
		t.Fatal("a client without the device grant got a device code")
	}
}

// TestDeviceFlowHoldsClientMinimums: a device site registered with a minimum
// real-name level or acr gets nothing from a session below it.
func TestDeviceFlowHoldsClientMinimums(t *testing.T) {
	ts := startServer(t)
	for _, c := range []struct {
		id     string
		mutate func(*oauth.Client)
	}{
		{"tv-level", func(c *oauth.Client) { c.MinLevel = 2 }},
		{"tv-acr", func(c *oauth.Client) { c.MinACR = oauth.ACRMulti }},
	} {
		kiosk := newRP(t, ts, c.id, func(cl *oauth.Client) {
			cl.Public, cl.TokenEndpointAuthMethod, cl.GrantTypes = true, "none", []string{oauth.DeviceGrantType}
			c.mutate(cl)
		})
		kiosk.conf.Endpoint.DeviceAuthURL = ts.URL + "/oauth2/device_authorization"
		_, number := ts.citizen() // level 1, password login: acr 1
		da, err := kiosk.conf.DeviceAuth(context.Background(), oauth2.SetAuthURLParam("scope", "openid"))
		if err != nil {
			t.Fatal(err)
		}
		phone := ts.browser()
		_, body := phone.get(da.VerificationURIComplete)
		form := hidden(body)
		form.Set("username", number)
		form.Set("password", testPassword)
		_, body = phone.post(ts.URL+"/login", form)
		form = hidden(body)
		form.Set("user_code", da.UserCode)
		_, body = phone.post(ts.URL+"/device", form)
		form = hidden(body)
		form.Set("decision", "allow")
		phone.post(ts.URL+"/device/decide", form)
		if status, out := devicePoll(t, ts, c.id, da.DeviceCode); status != http.StatusForbidden || out["error"] != "access_denied" {
			t.Fatalf("%s: a session below the site's minimum got %d %v", c.id, status, out)
		}
	}
}
