package web

import (
	"net/http/httptest"
	"testing"
)

// FuzzAcceptLanguage: any header gives one of our languages or nothing.
func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "en", "zh-CN,zh;q=0.9,en;q=0.8", "en;q=abc, zh;q=0", "*", ";;,,q=", "en-US;q=1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		switch got := acceptLanguage(h); got {
		case "", LangZH, LangEN:
		default:
			t.Fatalf("acceptLanguage(%q) = %q", h, got)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", h)
		WantsJSON(r)
	})
}
