package main

// No enumeration, measured. For login, registration and password recovery,
// numbers of different kinds — unknown, registered, frozen, and for login a
// password an operator cleared, for recovery an account without a phone —
// get the same status and the same body (modulo the CSRF token, the number
// typed and a masked phone), and response times whose medians agree. The
// figures are logged (go test -v -run TestNoEnumerationMeasured).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

const enumTrials = 20

// enumClient posts forms without following redirects, so a 303 is compared
// as it is.
type enumClient struct {
	t    *testing.T
	ts   *testServer
	c    *http.Client
	csrf string
}

func newEnumClient(t *testing.T, ts *testServer, page string) *enumClient {
	jar, _ := cookiejar.New(nil)
	e := &enumClient{t: t, ts: ts, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := e.c.Get(ts.URL + page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	e.csrf = field(t, csrfRe, string(body))
	return e
}

// post returns a comparable form of the answer and how long it took.
func (e *enumClient) post(path, number string, form url.Values) (string, time.Duration) {
	e.t.Helper()
	form.Set("csrf_token", e.csrf)
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	start := time.Now()
	resp, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	resp.Body.Close()
	return fmt.Sprintf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), normalise(string(body), number)), took
}

// enumCase is one kind of number: its numbers, one per trial (reused,
// round-robin, when a measurement is taken again).
type enumCase struct {
	kind    string
	numbers []string
}

// measure runs trial i of every case in turn (rotating the order, so drift
// is shared), checks every answer equals the first one seen, and returns
// the median time per kind. round selects the numbers.
func measure(t *testing.T, what string, round int, cases []enumCase, try func(number string) (string, time.Duration)) map[string]time.Duration {
	t.Helper()
	times := map[string][]time.Duration{}
	var want, wantKind string
	for i := range enumTrials {
		for j := range cases {
			c := cases[(i+j)%len(cases)]
			got, took := try(c.numbers[(round*enumTrials+i)%len(c.numbers)])
			if want == "" {
				want, wantKind = got, c.kind
			} else if got != want {
				t.Fatalf("%s: a %s number is answered differently from a %s one:\n%.2500s\n---\n%.2500s", what, c.kind, wantKind, got, want)
			}
			times[c.kind] = append(times[c.kind], took)
		}
	}
	med := map[string]time.Duration{}
	for k, ds := range times {
		slices.Sort(ds)
		med[k] = ds[len(ds)/2]
	}
	return med
}

// compare says whether the medians agree: they must not differ by half an
// argon2id hash or more (the tell of a skipped password check), nor by a
// factor of 1.5 when the difference is above 2 ms (below that it is
// scheduling noise, far under what a remote observer can resolve).
func compare(t *testing.T, what string, cases []enumCase, med map[string]time.Duration, argon time.Duration) bool {
	t.Helper()
	var parts []string
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for _, c := range cases {
		m := med[c.kind]
		parts = append(parts, fmt.Sprintf("%s %.1fms", c.kind, float64(m.Microseconds())/1000))
		lo, hi = min(lo, m), max(hi, m)
	}
	diff, ratio := hi-lo, float64(hi)/float64(max(lo, 1))
	t.Logf("%s medians over %d trials: %s (spread %.1fms, ratio %.2f; argon2id hash %.1fms)",
		what, enumTrials, strings.Join(parts, ", "), float64(diff.Microseconds())/1000, ratio, float64(argon.Microseconds())/1000)
	return diff < argon/2 && (ratio < 1.5 || diff <= 2*time.Millisecond)
}

// measureTimes measures and compares, and on a disagreement measures again
// (up to three rounds): a real difference shows every time, a burst of
// load on a shared machine does not.
func measureTimes(t *testing.T, what string, cases []enumCase, argon time.Duration, try func(number string) (string, time.Duration)) {
	t.Helper()
	for round := range 3 {
		if compare(t, what, cases, measure(t, what, round, cases, try), argon) {
			return
		}
	}
	t.Errorf("%s: response times tell the kinds apart in three rounds out of three", what)
}

func TestNoEnumerationMeasured(t *testing.T) {
	ts, console := startSMSServer(t)
	ctx := context.Background()
	hasher := ts.app.hasher()
	hash, err := hasher.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	var argonTimes []time.Duration
	for range 5 {
		start := time.Now()
		_, _ = hasher.Verify(ctx, "not the password", hash)
		argonTimes = append(argonTimes, time.Since(start))
	}
	slices.Sort(argonTimes)
	argon := argonTimes[2]

	// Accounts are stored directly with one precomputed hash, so setting up
	// 80 of them costs no argon2id time.
	now := time.Now().UTC()
	accounts := func(region string, phone func(i int) string, status identity.Status, cleared bool) []string {
		var out []string
		for i := range enumTrials {
			number := validNumber(region, "19850101", i)
			n, err := identity.Parse(identity.ResidentID, number)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := identity.NewCitizenID()
			c := &identity.Citizen{ID: id, Number: n, Name: "王五", Phone: phone(i), Status: status,
				Level: identity.LevelSelfAsserted, CreatedAt: now, UpdatedAt: now}
			if err := ts.app.sql.CreateCitizen(ctx, c, hash); err != nil {
				t.Fatal(err)
			}
			if cleared {
				if err := ts.app.sql.ResetCitizenCredentials(ctx, id, "op_enum", now); err != nil {
					t.Fatal(err)
				}
			}
			out = append(out, number)
		}
		return out
	}
	phone := func(prefix string) func(int) string {
		return func(i int) string { return fmt.Sprintf("+86%s%08d", prefix, i) }
	}
	noPhone := func(int) string { return "" }
	var unknown, fresh []string
	for i := range enumTrials {
		unknown = append(unknown, validNumber("110107", "19900101", i))
	}
	for i := range 3 * enumTrials { // a new one for every registration
		fresh = append(fresh, validNumber("110108", "19950101", i))
	}
	var (
		known    = enumCase{"registered", accounts("110106", phone("138"), identity.StatusActive, false)}
		frozen   = enumCase{"frozen", accounts("110109", phone("137"), identity.StatusFrozen, false)}
		cleared  = enumCase{"operator-cleared", accounts("110111", phone("136"), identity.StatusActive, true)}
		nophone  = enumCase{"no-phone", accounts("110112", noPhone, identity.StatusActive, false)}
		unknownC = enumCase{"unknown", unknown}
	)

	// Login: a wrong password for everyone (the frozen accounts get their
	// right one: a frozen account must not tell that either).
	login := newEnumClient(t, ts, "/login")
	measureTimes(t, "login", []enumCase{unknownC, known, frozen, cleared}, argon, func(n string) (string, time.Duration) {
		pw := "not the password"
		if slices.Contains(frozen.numbers, n) {
			pw = testPassword
		}
		return login.post("/login", n, url.Values{"username": {n}, "password": {pw}})
	})

	// Registration: a new number and a taken one get the same redirect.
	reg := newEnumClient(t, ts, "/register")
	regCases := []enumCase{{"new", fresh}, known, frozen}
	measureTimes(t, "registration", regCases, argon, func(n string) (string, time.Duration) {
		return reg.post("/register", n, url.Values{"number": {n}, "name": {"赵六"}, "phone": {""},
			"password": {"a fine long password"}, "password_confirm": {"a fine long password"}})
	})

	// Recovery: asking for a code, then trying a wrong one.
	recCases := []enumCase{unknownC, known, frozen, nophone}
	rec := newEnumClient(t, ts, "/login/recover")
	measureTimes(t, "recovery: ask for a code", recCases, argon, func(n string) (string, time.Duration) {
		return rec.post("/login/recover", n, url.Values{"username": {n}})
	})
	measureTimes(t, "recovery: a wrong code", recCases, argon, func(n string) (string, time.Duration) {
		return rec.post("/login/recover/reset", n, url.Values{"username": {n}, "code": {"000000"}, "password": {"a fine long password"}})
	})

	// Only the registered accounts with a phone were sent anything (the
	// operator-cleared ones were not asked for a code).
	waitFor(t, func() bool { return len(console.codes()) >= enumTrials })
	time.Sleep(50 * time.Millisecond)
	if n := len(console.codes()); n != enumTrials {
		t.Errorf("%d codes delivered, want %d (one per registered account with a phone)", n, enumTrials)
	}
}
