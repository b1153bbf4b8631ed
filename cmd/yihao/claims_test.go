package main

import (
	"encoding/base64"
	"strings"
	"testing"
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
