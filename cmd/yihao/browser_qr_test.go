package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/yihao-gov/yihao/oauth"
)

// TestBrowserQRLogin: two browsers — a desktop and a phone, each its own
// Chromium with its own profile. The phone signs in; the desktop opens a
// site's login, chooses the QR code and shows it; the phone opens the code's
// URL and confirms; the desktop's script sees the confirmation by itself and
// continues to the site. Neither page has a console error or CSP violation
// (qrlogin.js runs under script-src 'self'; the SVG is inline markup).
func TestBrowserQRLogin(t *testing.T) {
	ts := startServer(t)
	r := newRP(t, ts, "web-qr", func(c *oauth.Client) { c.SkipConsent = true })
	_, number := ts.citizen()
	desktop, phone := newPage(t), newPage(t)

	phone.do(chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/oauth2/logout"]`)),
	)

	authURL, l := r.authorizeURL()
	desktop.do(chromedp.Navigate(authURL+"&ui_locales=en"),
		chromedp.WaitVisible(chromedp.ID("qr-login")),
		chromedp.Click(chromedp.ID("qr-login")),
		chromedp.WaitVisible(chromedp.CSS(`#qr-code svg.qr`)),
	)
	// The script started polling and says so.
	if _, err := chromedp.Run(desktop.ctx, chromedp.Poll[bool](`document.getElementById("qr-status").textContent.length > 0`)); err != nil {
		t.Fatalf("qrlogin.js did not run: %v", err)
	}
	ticketURL, err := chromedp.Run(desktop.ctx, chromedp.Evaluate[string](`document.querySelector("p.code").textContent`))
	if err != nil || !strings.HasPrefix(ticketURL, ts.URL+"/qr/") {
		t.Fatalf("ticket URL %q: %v", ticketURL, err)
	}

	phone.do(chromedp.Navigate(ticketURL+"?lang=en"),
		chromedp.WaitVisible(chromedp.ID("qr-origin")),
	)
	origin, err := chromedp.Run(phone.ctx, chromedp.Text(chromedp.ID("qr-origin")))
	if err != nil || !strings.Contains(origin, "Chrome · Linux") || !strings.Contains(origin, "127.0.0.0/24") {
		t.Fatalf("the phone shows %q (%v); want the desktop's browser family and network", origin, err)
	}
	phone.do(chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("qr-done")))

	// The desktop continues without a click.
	l = r.finish(l, desktop.callback())
	_, idt := r.exchange(l)
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(claims.AMR, []string{"qr", "pwd"}) {
		t.Errorf("amr = %v, want [qr pwd]", claims.AMR)
	}
	desktop.checkClean()
	phone.checkClean()
}
