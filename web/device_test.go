package web

import "testing"

func TestShortUserAgentKeepsOnlyFamilies(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome · Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge · Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari · iOS"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S9180 Build/UP1A.231005.007; wv) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.49", "WeChat · Android"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox · Linux"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari · macOS"},
		{"Go-http-client/1.1", ""},
		{"", ""},
	} {
		if got := shortUserAgent(tc.ua); got != tc.want {
			t.Errorf("shortUserAgent(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
	// No model or build string survives (SM-S9180 identifies a handset model).
	if got := shortUserAgent("Mozilla/5.0 (Linux; Android 14; SM-S9180) Chrome/120.0"); got != "Chrome · Android" {
		t.Errorf("got %q", got)
	}
}
