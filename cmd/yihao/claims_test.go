package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/yihao-gov/yihao/oauth"
)

// TestAccessTokenNumericDates: auth_time in access tokens (also after a
// refresh, when the claims come back from storage) is an integer NumericDate.
func TestAccessTokenNumericDates(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "dates")
	_, number := ts.citizen()
	tok, _ := site.exchange(site.login(ts.browser(), number))
	refreshed, err := site.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{tok.AccessToken, refreshed.AccessToken} {
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
		if strings.Contains(string(payload), "e+") || !strings.Contains(string(payload), `"auth_time":1`) {
			t.Fatalf("access token claims %s: want integer NumericDates", payload)
		}
	}
}

// TestChannelClaim: a site registered as a mini-program gets channel
// "miniapp" in its tokens whatever the login; one without a channel gets the
// login's ("web"); a back-end service's own tokens say "api".
func TestChannelClaim(t *testing.T) {
	ts := startServer(t)
	mini := newRP(t, ts, "mini", func(c *oauth.Client) { c.Channel = "miniapp" })
	portal := newRP(t, ts, "portal-web")
	_, number := ts.citizen()
	br := ts.browser()
	channelOf := func(raw string) string {
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
		var c struct {
			Channel string `json:"channel"`
		}
		_ = json.Unmarshal(payload, &c)
		return c.Channel
	}
	tok, _ := mini.exchange(mini.login(br, number))
	if got := channelOf(tok.Extra("id_token").(string)); got != "miniapp" {
		t.Errorf("mini-program id token channel %q", got)
	}
	if got := channelOf(tok.AccessToken); got != "miniapp" {
		t.Errorf("mini-program access token channel %q", got)
	}
	tok, _ = portal.exchange(portal.login(br, ""))
	if got := channelOf(tok.Extra("id_token").(string)); got != "web" {
		t.Errorf("web site id token channel %q", got)
	}
	cc := clientcredentials.Config{ClientID: portal.conf.ClientID, ClientSecret: portal.conf.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"api.read"}, AuthStyle: oauth2.AuthStyleInHeader}
	svc, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := channelOf(svc.AccessToken); got != "api" {
		t.Errorf("client_credentials access token channel %q", got)
	}
}
