package qrlogin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/embedded"
)

func newTickets(t *testing.T) (*Tickets, *time.Time) {
	t.Helper()
	st, err := embedded.New(embedded.Config{SealKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	return &Tickets{State: st, Now: func() time.Time { return now }}, &now
}

func TestLoginTicketLifecycle(t *testing.T) {
	ctx := t.Context()
	tk, _ := newTickets(t)
	id, secret, err := tk.NewLogin(ctx, "flow-1", "Chrome · Windows", "203.0.113.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if ParseTicket(id) != id || len(secret) != 43 {
		t.Fatalf("ticket %q secret %d chars", id, len(secret))
	}
	status := func(secret string) string {
		t.Helper()
		st, err := tk.Status(ctx, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if got := status(secret); got != StatusPending {
		t.Fatalf("new ticket: %s", got)
	}
	if got := status("another-browser"); got != StatusExpired {
		t.Fatalf("status without the desktop secret: %s", got)
	}
	if _, err := tk.Redeem(ctx, id, secret); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("redeem before approval: %v", err)
	}
	phone := &identity.Session{ID: "sid-phone", CitizenID: "c1"}
	rec, err := tk.Decide(ctx, id, phone, true, nil)
	if err != nil || rec.Status != StatusApproved || rec.CitizenID != "c1" {
		t.Fatalf("decide: %+v %v", rec, err)
	}
	// Decided once: a second phone cannot change the answer.
	if _, err := tk.Decide(ctx, id, &identity.Session{ID: "x", CitizenID: "c2"}, false, nil); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("second decision: %v", err)
	}
	if got := status(secret); got != StatusApproved {
		t.Fatalf("after approval: %s", got)
	}
	if _, err := tk.Redeem(ctx, id, "wrong"); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("redeem with the wrong secret: %v", err)
	}
	got, err := tk.Redeem(ctx, id, secret)
	if err != nil || got.SessionID != "sid-phone" || got.Ref != "flow-1" {
		t.Fatalf("redeem: %+v %v", got, err)
	}
	if _, err := tk.Redeem(ctx, id, secret); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("second redemption: %v", err)
	}
	if got := status(secret); got != StatusExpired {
		t.Fatalf("after redemption: %s", got)
	}
}

func TestTicketExpiresAfterTwoMinutes(t *testing.T) {
	ctx := t.Context()
	tk, now := newTickets(t)
	id, secret, err := tk.NewLogin(ctx, "flow-1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(TicketTTL + time.Second)
	if _, err := tk.Pending(ctx, id); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("pending after 2 min: %v", err)
	}
	if _, err := tk.Decide(ctx, id, &identity.Session{ID: "s", CitizenID: "c"}, true, nil); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("decide after 2 min: %v", err)
	}
	if st, _ := tk.Status(ctx, id, secret); st != StatusExpired {
		t.Fatalf("status after 2 min: %s", st)
	}
}

func TestDeniedAndCounterTickets(t *testing.T) {
	ctx := t.Context()
	tk, _ := newTickets(t)
	id, secret, _ := tk.NewLogin(ctx, "flow-1", "", "")
	if _, err := tk.Decide(ctx, id, &identity.Session{ID: "s", CitizenID: "c"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := tk.Status(ctx, id, secret); st != StatusDenied {
		t.Fatalf("denied: %s", st)
	}
	if _, err := tk.Redeem(ctx, id, secret); !errors.Is(err, ErrUnknownTicket) {
		t.Fatalf("redeem denied: %v", err)
	}
	// A counter ticket: the hook's error turns an approval into a refusal,
	// and the desktop side (status, redeem) never sees it.
	cid, err := tk.NewCounter(ctx, "counter-key")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("counter refused")
	rec, err := tk.Decide(ctx, cid, &identity.Session{ID: "s", CitizenID: "c"}, true, func(r *Ticket, approve bool) error {
		if r.Ref != "counter-key" || !approve {
			t.Fatalf("hook got %+v %v", r, approve)
		}
		return boom
	})
	if !errors.Is(err, boom) || rec.Status != StatusDenied {
		t.Fatalf("counter decide: %+v %v", rec, err)
	}
	if st, _ := tk.Status(ctx, cid, ""); st != StatusExpired {
		t.Fatalf("counter ticket status: %s", st)
	}
}

func TestParseTicket(t *testing.T) {
	good := random43()
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"random", good, true},
		{"empty", "", false},
		{"short", good[:42], false},
		{"long", good + "A", false},
		{"padding", good[:42] + "=", false},
		{"std alphabet", strings.Replace(good, good[:1], "+", 1), false},
		{"space", " " + good[1:], false},
	} {
		if got := ParseTicket(tc.in) != ""; got != tc.ok {
			t.Errorf("%s: ok=%v, want %v", tc.name, got, tc.ok)
		}
	}
}

// FuzzParseTicket: whatever comes from a URL or form, ParseTicket returns
// either "" or its input, and what it accepts is 32 bytes of base64url.
func FuzzParseTicket(f *testing.F) {
	f.Add(random43())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("_", 43))
	f.Add("../../etc/passwd")
	f.Fuzz(func(t *testing.T, in string) {
		out := ParseTicket(in)
		if out != "" && (out != in || len(out) != 43 || key(out) == "") {
			t.Fatalf("ParseTicket(%q) = %q", in, out)
		}
	})
}
