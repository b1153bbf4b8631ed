package login

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

func registerForm() url.Values {
	return url.Values{"flow": {"f1"}, "number": {"11010519491231002X"}, "name": {"张小明"}, "phone": {""},
		"password": {"long enough pw"}, "password_confirm": {"long enough pw"}}
}

func TestRegisterNewAndExistingLookTheSame(t *testing.T) {
	type answer struct {
		status   int
		location string
		done     string
	}
	answers := map[string]answer{}
	for name, err := range map[string]error{
		"new":      nil,
		"existing": fmt.Errorf("register: %w", identity.ErrAlreadyRegistered),
	} {
		e := newEnv(t)
		e.reg.err = err
		b := e.browser(t)
		b.get("/register?flow=f1")
		w := b.post("/register", registerForm())
		if e.reg.calls != 1 {
			t.Fatalf("%s: Register called %d times", name, e.reg.calls)
		}
		done := b.get(w.Header().Get("Location"))
		answers[name] = answer{w.Code, w.Header().Get("Location"),
			tokenRE.ReplaceAllString(done.Body.String(), "")}
		if done.Code != http.StatusOK || !strings.Contains(done.Body.String(), "您的账号已经可以使用") {
			t.Errorf("%s: done page %d", name, done.Code)
		}
	}
	if answers["new"] != answers["existing"] {
		t.Errorf("new and existing registrations differ:\n%+v\n%+v", answers["new"], answers["existing"])
	}
	if a := answers["new"]; a.status != http.StatusSeeOther || a.location != "/register/done?flow=f1" ||
		!strings.Contains(a.done, `href="/login?flow=f1"`) {
		t.Errorf("answer = %+v", a)
	}
}

func TestRegisterFieldErrors(t *testing.T) {
	_, numErr := identity.ParseAny("110105194912310021")
	if numErr == nil {
		t.Fatal("bad check character accepted")
	}
	tests := []struct {
		name      string
		err       error
		form      func(url.Values)
		wantID    string // the element id of the field's error
		wantText  string
		wantCalls int
	}{
		{name: "passwords differ", form: func(f url.Values) { f.Set("password_confirm", "other") },
			wantID: "confirm-error", wantText: "两次输入的密码不一致", wantCalls: 0},
		{name: "number", err: numErr, wantID: "number-error",
			wantText: numErr.(interface{ Localize(string) string }).Localize("zh-CN"), wantCalls: 1},
		{name: "name", err: &identity.FieldError{Field: "name"}, wantID: "name-error",
			wantText: (&identity.FieldError{Field: "name"}).Localize("zh-CN"), wantCalls: 1},
		{name: "several at once", err: errors.Join(numErr, &identity.FieldError{Field: "name", Reason: identity.FieldRequired}),
			wantID: "name-error", wantText: "姓名：必填", wantCalls: 1},
		{name: "password policy", err: &identity.PasswordError{Reason: identity.PasswordTooShort, Min: 8},
			wantID: "password-error", wantText: "密码至少需要 8 个字符", wantCalls: 1},
		{name: "phone", err: &identity.FieldError{Field: "phone"}, wantID: "phone-error",
			wantText: (&identity.FieldError{Field: "phone"}).Localize("zh-CN"), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.reg.err = tt.err
			b := e.browser(t)
			b.get("/register?flow=f1")
			f := registerForm()
			if tt.form != nil {
				tt.form(f)
			}
			w := b.post("/register", f)
			body := html.UnescapeString(w.Body.String())
			if w.Code != http.StatusBadRequest {
				t.Errorf("status = %d", w.Code)
			}
			if !strings.Contains(body, `id="`+tt.wantID+`">`+tt.wantText) {
				t.Errorf("no %s with %q:\n%s", tt.wantID, tt.wantText, body)
			}
			if e.reg.calls != tt.wantCalls {
				t.Errorf("Register called %d times", e.reg.calls)
			}
			if strings.Contains(body, "long enough pw") {
				t.Error("password echoed")
			}
			if !strings.Contains(body, `value="张小明"`) || !strings.Contains(body, `href="/login?flow=f1"`) {
				t.Error("form not refilled, or no way back to the flow's login")
			}
		})
	}
}

func TestRegisterCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get("/register")
	f := registerForm()
	f.Set("csrf_token", "")
	if w := b.post("/register", f); w.Code != http.StatusForbidden || e.reg.calls != 0 {
		t.Errorf("status %d, Register called %d times", w.Code, e.reg.calls)
	}
}
