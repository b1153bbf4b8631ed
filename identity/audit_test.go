package identity

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memAudit is an in-memory audit chain with the SQL store's behaviour
// (partition by citizen, seq from 1) so VerifyAudit and the use cases can be
// tested without a database. fail, when set, is returned by AppendAudit.
type memAudit struct {
	mu     sync.Mutex
	parts  int
	chains map[int][]*AuditEntry
	heads  map[int]AuditHead
	fail   error
}

func newMemAudit(parts int) *memAudit {
	return &memAudit{parts: parts, chains: map[int][]*AuditEntry{}, heads: map[int]AuditHead{}}
}

func (m *memAudit) AppendAudit(_ context.Context, e *AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	h := fnv.New32a()
	h.Write([]byte(e.CitizenID))
	p := int(h.Sum32() % uint32(m.parts))
	head, ok := m.heads[p]
	if !ok {
		head = AuditHead{Partition: p, Hash: AuditGenesis}
	}
	if e.At.IsZero() {
		e.At = testNow
	}
	e.At = AuditTime(e.At)
	e.Partition, e.Seq, e.PrevHash = p, head.Seq+1, head.Hash
	e.Hash = AuditHash(e.PrevHash, e)
	cp := *e
	m.chains[p] = append(m.chains[p], &cp)
	m.heads[p] = AuditHead{Partition: p, Seq: e.Seq, Hash: e.Hash}
	return nil
}

func (m *memAudit) AuditHeads(context.Context) ([]AuditHead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AuditHead
	for _, h := range m.heads {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b AuditHead) int { return a.Partition - b.Partition })
	return out, nil
}

func (m *memAudit) AuditChain(_ context.Context, p int, after int64, limit int) ([]*AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*AuditEntry
	for _, e := range m.chains[p] {
		if e.Seq > after && len(out) < limit {
			cp := *e
			out = append(out, &cp)
		}
	}
	return out, nil
}

// all returns every entry, in partition and seq order.
func (m *memAudit) all() []*AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*AuditEntry
	for p := range m.parts {
		out = append(out, m.chains[p]...)
	}
	return out
}

func TestAuditHash(t *testing.T) {
	base := AuditEntry{
		Action: AuditTokenIssued, CitizenID: "c_1", Actor: "client:tax", ClientID: "tax", GrantID: "g1",
		Detail: map[string]string{"scopes": "openid profile", "grant_type": "authorization_code"},
		At:     time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC), Partition: 3, Seq: 7,
	}
	h := AuditHash(AuditGenesis, &base)
	if len(h) != 32 {
		t.Fatalf("hash has %d bytes", len(h))
	}
	same := base
	same.At = base.At.In(time.FixedZone("CST", 8*3600)).Add(-789) // same microsecond, other zone
	same.Detail = map[string]string{"grant_type": "authorization_code", "scopes": "openid profile"}
	if !bytes.Equal(AuditHash(AuditGenesis, &same), h) {
		t.Error("the hash depends on the zone, sub-microsecond time or map order")
	}
	changes := map[string]func(e *AuditEntry){
		"partition": func(e *AuditEntry) { e.Partition = 4 },
		"seq":       func(e *AuditEntry) { e.Seq = 8 },
		"time":      func(e *AuditEntry) { e.At = e.At.Add(time.Microsecond) },
		"action":    func(e *AuditEntry) { e.Action = AuditUserinfoReleased },
		"citizen":   func(e *AuditEntry) { e.CitizenID = "c_2" },
		// Moving text between adjacent fields must change the hash.
		"field boundary": func(e *AuditEntry) { e.Actor, e.ClientID = "client:ta", "xtax" },
		"detail value": func(e *AuditEntry) {
			e.Detail = map[string]string{"scopes": "openid", "grant_type": "authorization_code"}
		},
		"detail pair": func(e *AuditEntry) {
			e.Detail = map[string]string{"scopes": "openid profile", "grant_type": "authorization_code", "x": ""}
		},
	}
	for name, change := range changes {
		e := base
		change(&e)
		if bytes.Equal(AuditHash(AuditGenesis, &e), h) {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	if bytes.Equal(AuditHash(h, &base), h) {
		t.Error("the hash does not depend on the previous hash")
	}
}

func TestAuditEntryValidate(t *testing.T) {
	tests := []struct {
		name string
		e    AuditEntry
		ok   bool
	}{
		{"minimal", AuditEntry{Action: AuditLoginSuccess}, true},
		{"no action", AuditEntry{CitizenID: "c_1"}, false},
		{"long id", AuditEntry{Action: AuditLoginSuccess, ClientID: strings.Repeat("a", MaxAuditField+1)}, false},
		{"NUL", AuditEntry{Action: AuditLoginSuccess, Actor: "a\x00b"}, false},
		{"bad UTF-8", AuditEntry{Action: AuditLoginSuccess, Detail: map[string]string{"k": "\xff"}}, false},
		{"empty detail key", AuditEntry{Action: AuditLoginSuccess, Detail: map[string]string{"": "v"}}, false},
	}
	for _, tt := range tests {
		err := tt.e.Validate()
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrAuditEntry)) {
			t.Errorf("%s: Validate = %v", tt.name, err)
		}
	}
}

func TestAuditIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":               "203.0.113.0/24",
		"::ffff:203.0.113.77":        "203.0.113.0/24",
		"2001:db8:1234:5678::1":      "2001:db8:1234::/48",
		"fe80::1%eth0":               "fe80::/48",
		"":                           "",
		"not an address":             "",
		"203.0.113.77:443":           "",
		" 198.51.100.9 ":             "198.51.100.0/24",
		"2001:db8:abcd:ef01:2:3:4:5": "2001:db8:abcd::/48",
	} {
		if got := AuditIP(in); got != want {
			t.Errorf("AuditIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// filledAudit is a chain of 4 partitions with n entries for each of 8 citizens.
func filledAudit(t *testing.T, n int) *memAudit {
	t.Helper()
	m := newMemAudit(4)
	for i := range n {
		for c := range 8 {
			e := &AuditEntry{Action: AuditLoginSuccess, CitizenID: "c_" + string(rune('a'+c)), At: testNow.Add(time.Duration(i) * time.Second),
				Detail: map[string]string{"i": string(rune('0' + i%10))}}
			if err := m.AppendAudit(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m
}

// longestChain returns the partition with the most entries.
func (m *memAudit) longestChain() int {
	best := 0
	for p, c := range m.chains {
		if len(c) > len(m.chains[best]) {
			best = p
		}
	}
	return best
}

func TestVerifyAudit(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(m *memAudit, p int) // p: the longest chain
		want   *AuditBreak              // Partition is filled in from p
	}{
		{name: "intact", tamper: func(*memAudit, int) {}},
		{
			name:   "deleted entry",
			tamper: func(m *memAudit, p int) { m.chains[p] = slices.Delete(m.chains[p], 4, 5) },
			want:   &AuditBreak{Seq: 5, Problem: AuditMissing},
		},
		{
			name:   "deleted last entry",
			tamper: func(m *memAudit, p int) { m.chains[p] = m.chains[p][:len(m.chains[p])-1] },
			want:   &AuditBreak{Problem: AuditMissing}, // Seq: the head's
		},
		{
			name:   "edited field",
			tamper: func(m *memAudit, p int) { m.chains[p][2].ClientID = "someone-else" },
			want:   &AuditBreak{Seq: 3, Problem: AuditEdited},
		},
		{
			name: "edited and rehashed, later link breaks",
			tamper: func(m *memAudit, p int) {
				e := m.chains[p][2]
				e.Detail = map[string]string{"i": "forged"}
				e.Hash = AuditHash(e.PrevHash, e)
			},
			want: &AuditBreak{Seq: 4, Problem: AuditEdited},
		},
		{
			name: "content of two entries swapped",
			tamper: func(m *memAudit, p int) {
				a, b := m.chains[p][5], m.chains[p][6]
				a.At, b.At = b.At, a.At
				a.Detail, b.Detail = b.Detail, a.Detail
				a.CitizenID, b.CitizenID = b.CitizenID, a.CitizenID
			},
			want: &AuditBreak{Seq: 6, Problem: AuditReordered},
		},
		{
			name: "two whole rows swapped, hashes included",
			tamper: func(m *memAudit, p int) {
				a, b := m.chains[p][5], m.chains[p][6]
				*a, *b = *b, *a
				a.Seq, b.Seq = 6, 7
			},
			want: &AuditBreak{Seq: 6, Problem: AuditReordered},
		},
		{
			name: "forged entry past the head",
			tamper: func(m *memAudit, p int) {
				last := m.chains[p][len(m.chains[p])-1]
				e := &AuditEntry{Action: AuditLoginSuccess, Partition: p, Seq: last.Seq + 1, PrevHash: last.Hash, At: testNow}
				e.Hash = AuditHash(e.PrevHash, e)
				m.chains[p] = append(m.chains[p], e)
			},
			want: &AuditBreak{Problem: AuditEdited}, // Seq: head+1
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := filledAudit(t, 20)
			p := m.longestChain()
			headSeq := m.heads[p].Seq
			tt.tamper(m, p)
			rep, err := VerifyAudit(t.Context(), m)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if rep.Break != nil {
					t.Fatalf("intact chain reported broken: %v", rep.Break)
				}
				if rep.Entries != 160 || rep.Partitions != 4 || len(rep.HeadsDigest) != 32 {
					t.Fatalf("report %+v", rep)
				}
				return
			}
			want := *tt.want
			want.Partition = p
			if want.Seq == 0 {
				want.Seq = headSeq
				if tt.name == "forged entry past the head" {
					want.Seq = headSeq + 1
				}
			}
			b := rep.Break
			if b == nil {
				t.Fatal("tampering not detected")
			}
			if b.Partition != want.Partition || b.Seq != want.Seq || b.Problem != want.Problem {
				t.Fatalf("break = %v, want partition %d seq %d %s", b, want.Partition, want.Seq, want.Problem)
			}
		})
	}
}

func TestLoginAndRegisterAreAudited(t *testing.T) {
	f := newLoginFixture(t)
	audit := newMemAudit(4)
	f.auth.Audit = audit
	f.auth.AccountLimit = Limit{Max: 2, Window: time.Minute}
	ctx := t.Context()

	if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "203.0.113.77"); err != nil {
		t.Fatal(err)
	}
	_, _ = f.auth.Login(ctx, aliceNumber, "wrong password here", "203.0.113.77")
	_, _ = f.auth.Login(ctx, "440524188001010014", alicePassword, "203.0.113.77") // unknown number
	_, _ = f.auth.Login(ctx, "1101", alicePassword, "203.0.113.77")               // malformed: not an attempt on an account
	for range 4 {
		_, _ = f.auth.Login(ctx, aliceNumber, "wrong password here", "203.0.113.77") // 2 refusals, then the limit
	}
	reg := &Registrar{Citizens: f.citizens, Hasher: f.auth.Hasher, Now: f.clock.Now, Audit: audit}
	bob, err := reg.Register(ctx, RegisterInput{Number: "440524188001010014", Name: "赵六", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, e := range audit.all() {
		if e.CitizenID != "" && e.CitizenID != f.alice.ID && e.CitizenID != bob.ID {
			t.Errorf("entry about an unexpected citizen %q", e.CitizenID)
		}
		who := "?"
		switch e.CitizenID {
		case f.alice.ID:
			who = "alice"
		case bob.ID:
			who = "bob"
		}
		got = append(got, string(e.Action)+" "+who+" "+e.Detail["reason"])
		for _, s := range append([]string{e.CitizenID, e.Actor, e.ClientID, e.IP}, mapValues(e.Detail)...) {
			if strings.Contains(s, "1101051949") || strings.Contains(s, "4405241880") || strings.Contains(s, "password") {
				t.Errorf("entry %s holds a number or password: %q", e.Action, s)
			}
		}
		if e.IP != "" && e.IP != "203.0.113.0/24" {
			t.Errorf("address %q not truncated", e.IP)
		}
	}
	slices.Sort(got)
	want := []string{
		"citizen.registered bob ",
		"login.failure ? rate_limited_account",
		"login.failure ? unknown_account",
		"login.failure alice bad_credentials",
		"login.failure alice bad_credentials",
		"login.success alice ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep, err := VerifyAudit(ctx, audit); err != nil || rep.Break != nil {
		t.Fatalf("VerifyAudit = %+v, %v", rep, err)
	}

	// A login that cannot be recorded does not succeed.
	audit.fail = ErrUnavailable
	if _, err := f.auth.Login(ctx, "440524188001010014", "a long enough passphrase", "203.0.113.77"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("login with the audit down: %v, want ErrUnavailable", err)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
