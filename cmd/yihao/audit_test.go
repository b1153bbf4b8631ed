package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/identity"
)

// auditFlags point a one-shot command at ts's database and keys.
func auditFlags(ts *testServer) []string {
	f := []string{"--dev", "--data-dir", ts.app.cfg.DataDir, "--issuer", ts.URL, "--log-level", "error"}
	if ts.app.cfg.DatabaseURL != "" {
		f = append(f, "--database-url", ts.app.cfg.DatabaseURL)
	}
	return f
}

// TestAuditTrailOfALogin follows a citizen through a code-flow login, a
// userinfo call, an introspection and a logout, and expects each in the
// audit chain, the chain to verify with `yihao audit verify`, and the ID
// number nowhere in it.
func TestAuditTrailOfALogin(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "audit-site")
	citizen, number := ts.citizen()
	br := ts.browser()
	tok, idt := site.exchange(site.login(br, number))

	ctx := oidc.InsecureIssuerURLContext(context.Background(), ts.URL)
	prov, err := oidc.NewProvider(ctx, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if got := site.introspect(tok.AccessToken); got["active"] != true {
		t.Fatalf("introspect: %v", got)
	}
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"https://audit-site.example/bye"}}
	if resp, _ := br.get(ts.URL + "/oauth2/logout?" + q.Encode()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	_ = idt.Claims(&claims)

	page, err := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{CitizenID: citizen.ID})
	if err != nil {
		t.Fatal(err)
	}
	byAction := map[identity.AuditAction]*identity.AuditEntry{}
	for _, e := range page.Entries {
		if byAction[e.Action] == nil {
			byAction[e.Action] = e
		}
	}
	for _, a := range []identity.AuditAction{identity.AuditLoginSuccess, identity.AuditTokenIssued, identity.AuditUserinfoReleased, identity.AuditTokenIntrospected, identity.AuditSessionEnded} {
		if byAction[a] == nil {
			var got []string
			for _, e := range page.Entries {
				got = append(got, string(e.Action))
			}
			t.Fatalf("no %s entry for the citizen; entries: %v", a, got)
		}
	}
	issued := byAction[identity.AuditTokenIssued]
	if issued.ClientID != "audit-site" || issued.GrantID == "" || issued.SessionID != claims.SID ||
		!slices.Contains(strings.Fields(issued.Detail["scopes"]), "openid") || issued.Detail["grant_type"] != "authorization_code" {
		t.Errorf("token.issued = %+v", issued)
	}
	if ui := byAction[identity.AuditUserinfoReleased]; !slices.Contains(strings.Fields(ui.Detail["claims"]), "name") || ui.GrantID != issued.GrantID {
		t.Errorf("userinfo.released = %+v", ui)
	}
	if in := byAction[identity.AuditTokenIntrospected]; in.Actor != identity.ActorClient+"audit-site" || in.ClientID != "audit-site" {
		t.Errorf("token.introspected = %+v", in)
	}
	if se := byAction[identity.AuditSessionEnded]; se.SessionID != claims.SID {
		t.Errorf("session.ended = %+v", se)
	}
	if li := byAction[identity.AuditLoginSuccess]; li.IP != "127.0.0.0/24" {
		t.Errorf("login.success address %q, want the truncated loopback network", li.IP)
	}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"audit", "verify"}, auditFlags(ts)...), nil, &out, &errOut); err != nil {
		t.Fatalf("yihao audit verify: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "audit chain intact") {
		t.Errorf("verify printed %q", out.String())
	}

	// Every stored field, as the export writes them: no ID number.
	out.Reset()
	if err := run(context.Background(), append([]string{"audit", "export"}, auditFlags(ts)...), nil, &out, &errOut); err != nil {
		t.Fatalf("yihao audit export: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < len(page.Entries) {
		t.Fatalf("export wrote %d lines, the citizen alone has %d entries", len(lines), len(page.Entries))
	}
	for _, l := range lines {
		var e auditLine
		if err := json.Unmarshal([]byte(l), &e); err != nil || len(e.Hash) != 64 {
			t.Fatalf("export line %q: %v", l, err)
		}
		for _, secret := range []string{number, number[6:], strings.ToLower(number), tok.AccessToken[:20], tok.RefreshToken} {
			if strings.Contains(l, secret) {
				t.Fatalf("audit entry holds a number or token: %s", l)
			}
		}
	}

	// The citizen's own history, as the export with --citizen writes it.
	out.Reset()
	if err := run(context.Background(), append([]string{"audit", "export", "--citizen", citizen.ID}, auditFlags(ts)...), nil, &out, &errOut); err != nil {
		t.Fatalf("yihao audit export --citizen: %v", err)
	}
	if n := strings.Count(out.String(), "\n"); n != len(page.Entries) {
		t.Errorf("--citizen export: %d lines, want %d", n, len(page.Entries))
	}
}
