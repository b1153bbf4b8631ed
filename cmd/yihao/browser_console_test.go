package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yihao-gov/yihao/identity"
)

// TestBrowserConsoleLookupAndFreeze drives the operator console in
// Chromium: sign-in with the password and a TOTP code computed here, a
// look-up by full number with a stated reason, the citizen's page with
// the number masked (never in the address or the text), and a freeze.
func TestBrowserConsoleLookupAndFreeze(t *testing.T) {
	ts := startServer(t)
	citizen, number := ts.citizen()
	clerk := ts.operator("browser.clerk", "110105", identity.RoleRegistrar)
	p := newPage(t)

	p.do(chromedp.Navigate(ts.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), clerk.Username),
		chromedp.SendKeys(chromedp.ID("password"), operatorPassword),
		chromedp.SendKeys(chromedp.ID("code"), clerk.TOTP.TOTPCode(time.Now())),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("number")),
		chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("reason"), "counter visit"),
		chromedp.Click(chromedp.CSS(`form[action="/console/lookup"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("citizen-status")),
	)
	if loc := p.location(); !strings.HasSuffix(loc, "/console/citizens/"+citizen.ID) || strings.Contains(loc, number) {
		t.Fatalf("after the look-up the browser is at %s", loc)
	}
	text, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, number) || !strings.Contains(text, citizen.Number.Masked()) {
		t.Fatal("the citizen's page does not show the number masked only")
	}

	p.do(chromedp.SendKeys(chromedp.ID("freeze-reason"), "reported stolen"),
		chromedp.Click(chromedp.CSS(`form[action$="/freeze"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice`))) // the confirmation after the redirect
	status, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.ID("citizen-status")))
	if err != nil || status != "frozen" && status != "已冻结" { // the browser's language decides
		t.Fatalf("the page shows the status %q (%v), want frozen", status, err)
	}
	if c, err := ts.app.sql.Citizen(context.Background(), citizen.ID); err != nil || c.Status != identity.StatusFrozen {
		t.Fatalf("citizen after the freeze: %+v, %v", c, err)
	}
	p.checkClean()
}
