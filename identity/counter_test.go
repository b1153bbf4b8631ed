package identity

import (
	"errors"
	"testing"
)

// TestOpenCounter: only changers inside the citizen's region open a counter
// session, for an active account; bind runs only then; every attempt that
// names a person is audited with its outcome.
func TestOpenCounter(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := t.Context()
	clerk := f.operator(t, "clerk", "110105", RoleRegistrar)
	far := f.operator(t, "far", "44", RoleRegistrar)
	auditor := f.operator(t, "auditor", "", RoleAuditor)
	cit := f.citizen(t, chaoyang)
	bound := 0
	bind := func(c *Citizen) (string, error) {
		if c.ID != cit.ID {
			t.Fatalf("bind got %s", c.ID)
		}
		bound++
		return "counter-1", nil
	}
	last := func() *AuditEntry {
		f.audit.mu.Lock()
		defer f.audit.mu.Unlock()
		return f.audit.entries[len(f.audit.entries)-1]
	}

	if _, err := f.console.OpenCounter(ctx, auditor, "", chaoyang, bind); !errors.Is(err, ErrForbidden) {
		t.Fatalf("auditor: %v", err)
	}
	if _, err := f.console.OpenCounter(ctx, far, "", chaoyang, bind); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("out of region: %v", err)
	}
	if e := last(); e.Action != AuditCounterOpened || e.Detail["outcome"] != "out_of_region" || e.CitizenID != "" || e.Actor != ActorOperator+far.ID {
		t.Fatalf("out-of-region audit: %+v", e)
	}
	var ne *NumberError
	if _, err := f.console.OpenCounter(ctx, clerk, "", "110105", bind); !errors.As(err, &ne) {
		t.Fatalf("partial number: %v", err)
	}
	got, err := f.console.OpenCounter(ctx, clerk, "", chaoyang, bind)
	if err != nil || got.ID != cit.ID || bound != 1 {
		t.Fatalf("open: %v %v bound=%d", got, err, bound)
	}
	if e := last(); e.Detail["outcome"] != "opened" || e.Detail["client"] != "counter-1" || e.CitizenID != cit.ID {
		t.Fatalf("opened audit: %+v", e)
	}
	boom := errors.New("terminal code unknown")
	if _, err := f.console.OpenCounter(ctx, clerk, "", chaoyang, func(*Citizen) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("bind error: %v", err)
	}
	if err := f.console.Freeze(ctx, clerk, cit.ID, "lost card"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.console.OpenCounter(ctx, clerk, "", chaoyang, bind); !errors.Is(err, ErrConflict) || bound != 1 {
		t.Fatalf("frozen account: %v bound=%d", err, bound)
	}
	if e := last(); e.Detail["outcome"] != "inactive" {
		t.Fatalf("inactive audit: %+v", e)
	}
}
