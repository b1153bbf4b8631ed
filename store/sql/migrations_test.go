package sqlstore

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func wantPending(t *testing.T, s *Store, want []string) {
	t.Helper()
	got, err := s.Pending(t.Context())
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Pending = %q, want %q", got, want)
	}
}

func countRows(t *testing.T, s *Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.WithContext(t.Context()).Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// The fixtures written between migration steps, and read back at the end.
var (
	migT0          = time.Date(2025, 12, 31, 23, 59, 59, 999999000, time.UTC)
	migCitizen     = &identity.Citizen{ID: "cit-m", Number: identity.NewNumberUnchecked(identity.ResidentID, "11010519491231002X"), Name: "王五", Phone: "8613900000000", Status: identity.StatusFrozen, Level: identity.LevelInPerson, CreatedAt: migT0, UpdatedAt: migT0.Add(time.Second)}
	migClient      = &oauth.Client{ID: "shebao", SecretHash: []byte{1, 2, 3}, Name: "社保", RedirectURIs: []string{"https://shebao.gov.example/cb"}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}, MinLevel: 2, CreatedAt: migT0, UpdatedAt: migT0}
	migGrant       = &oauth.Grant{ID: "g-m", ClientID: "shebao", CitizenID: "cit-m", SessionID: "sid-m", Scopes: []string{"openid", "offline_access"}, CreatedAt: migT0}
	migRefresh     = &oauth.RefreshToken{Signature: "rt-m", GrantID: "g-m", AccessSignature: "at-m", Request: []byte("{}"), CreatedAt: migT0, ExpiresAt: migT0.Add(24 * time.Hour)}
	migConsent     = &oauth.Consent{CitizenID: "cit-m", ClientID: "shebao", Scopes: []string{"openid"}, GrantedAt: migT0}
	migSigningKey  = &oauth.SigningKey{ID: "es-m", Algorithm: "ES256", Sealed: []byte("sealed"), CreatedAt: migT0}
	migPasswordPHC = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"
)

// TestMigrationsStepByStep applies the migrations one at a time, writing
// data between steps, then re-runs Migrate and checks every row survived.
func TestMigrationsStepByStep(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := openStore(t, b.url(t), testKeys(t))
		ids := MigrationIDs()
		wantPending(t, s, ids)

		// Data written after each step, using only the tables that exist then.
		writes := map[string]func() error{
			"0001_citizens": func() error { return s.CreateCitizen(ctx, migCitizen, migPasswordPHC) },
			"0002_clients":  func() error { return s.CreateClient(ctx, migClient) },
			"0003_grants": func() error {
				if err := s.CreateGrant(ctx, migGrant); err != nil {
					return err
				}
				return s.CreateRefreshToken(ctx, migRefresh)
			},
			"0004_consents":     func() error { return s.SaveConsent(ctx, migConsent) },
			"0005_signing_keys": func() error { return s.AddSigningKey(ctx, migSigningKey) },
			"0006_passkeys": func() error {
				if err := s.CreateUserHandle(ctx, "cit-m", []byte("handle-m")); err != nil {
					return err
				}
				return s.AddPasskey(ctx, &identity.Passkey{ID: []byte("cred-m"), CitizenID: "cit-m", PublicKey: []byte("pk"), SignCount: 7, CreatedAt: migT0})
			},
			"0007_audit_chain": func() error {
				return s.AppendAudit(ctx, &identity.AuditEntry{Action: identity.AuditLoginSuccess, CitizenID: "cit-m", At: migT0})
			},
			"0008_operators": func() error {
				op := &identity.Operator{ID: "op-m", Username: "clerk", Name: "m", Roles: []identity.Role{identity.RoleRegistrar},
					Region: "1101", PasswordHash: migPasswordPHC, TOTP: identity.TOTPSecretFromBytes([]byte("totp-m")), CreatedAt: migT0}
				if err := s.CreateOperator(ctx, op); err != nil {
					return err
				}
				if err := s.BindClientOperator(ctx, "shebao", "op-m"); err != nil {
					return err
				}
				return s.CreateApproval(ctx, &identity.Approval{ID: "ap-m", Action: identity.ApproveUnfreeze, Target: "cit-m", RequestedBy: "op-m", RequestedAt: migT0})
			},
			"0009_citizen_merges": func() error {
				// A reversed merge record (the citizen rows stay as they are).
				return s.db.WithContext(ctx).Create(&mergeRow{ID: "mg-m", MergedID: "cit-m", SurvivorID: "cit-m", PrevStatus: "active",
					MovedConsents: "[]", DroppedConsents: "[]", MergedAt: migT0, UnmergedAt: &migT0}).Error
			},
			"0010_assurance": func() error {
				if err := s.SetLevel(ctx, "cit-m", identity.LevelInPerson, identity.LevelMethodPasskey, migCitizen.UpdatedAt); err != nil {
					return err
				}
				// Directly: UpdateClient writes every column, also later ones.
				if err := s.db.WithContext(ctx).Exec("UPDATE clients SET min_acr = ? WHERE id = ?", "urn:yihao:acr:2", "shebao").Error; err != nil {
					return err
				}
				return s.PutPendingTOTP(ctx, &identity.TOTPCredential{CitizenID: "cit-m", ID: "e-m", Secret: identity.TOTPSecretFromBytes([]byte("totp-c")), CreatedAt: migT0})
			},
			"0012_client_channel": func() error {
				return s.db.WithContext(ctx).Exec("UPDATE clients SET channel = ? WHERE id = ?", "miniapp", "shebao").Error
			},
			"0011_citizen_email": func() error {
				// Directly, so updated_at keeps the value compared below.
				return s.db.WithContext(ctx).Exec("UPDATE citizens SET email = ? WHERE id = ?", "wang@example.com", "cit-m").Error
			},
		}
		for i, id := range ids {
			if err := s.migrateTo(ctx, id); err != nil {
				t.Fatalf("migrate to %s: %v", id, err)
			}
			wantPending(t, s, ids[i+1:])
			if w := writes[id]; w != nil {
				if err := w(); err != nil {
					t.Fatalf("write after %s: %v", id, err)
				}
			}
		}
		if len(writes) != len(ids) {
			t.Fatalf("a migration has no test data: %d steps, %d writes", len(ids), len(writes))
		}

		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		wantPending(t, s, nil)
		if n := countRows(t, s, "schema_migrations"); n != int64(len(ids)) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(ids))
		}

		c, err := s.CitizenByNumber(ctx, migCitizen.Number)
		if err != nil {
			t.Fatalf("CitizenByNumber: %v", err)
		}
		if c.ID != migCitizen.ID || c.Number.Value() != migCitizen.Number.Value() || c.Name != migCitizen.Name ||
			c.Status != migCitizen.Status || c.Level != migCitizen.Level || !c.UpdatedAt.Equal(migCitizen.UpdatedAt) {
			t.Errorf("citizen = %+v, want %+v", c, migCitizen)
		}
		if h, err := s.PasswordHash(ctx, "cit-m"); err != nil || h != migPasswordPHC {
			t.Errorf("PasswordHash = %q, %v", h, err)
		}
		if c.LevelMethod != identity.LevelMethodPasskey || !c.LevelAt.Equal(migCitizen.UpdatedAt) {
			t.Errorf("citizen level method %q at %v", c.LevelMethod, c.LevelAt)
		}
		if c.Email != "wang@example.com" || c.Phone != migCitizen.Phone {
			t.Errorf("citizen phone %q, email %q", c.Phone, c.Email)
		}
		if tc, err := s.CitizenTOTP(ctx, "cit-m"); err != nil || tc.ID != "e-m" || string(tc.Secret.Bytes()) != "totp-c" {
			t.Errorf("CitizenTOTP = %+v, %v", tc, err)
		}
		if cl, err := s.Client(ctx, "shebao"); err != nil || cl.MinLevel != 2 || cl.MinACR != "urn:yihao:acr:2" || cl.Channel != "miniapp" || !slices.Equal(cl.RedirectURIs, migClient.RedirectURIs) {
			t.Errorf("Client = %+v, %v", cl, err)
		}
		if g, err := s.SessionGrants(ctx, "sid-m"); err != nil || len(g) != 1 || !g[0].CreatedAt.Equal(migT0) {
			t.Errorf("SessionGrants = %v, %v", g, err)
		}
		if rt, err := s.RefreshToken(ctx, "rt-m"); err != nil || !rt.Active || !rt.ExpiresAt.Equal(migRefresh.ExpiresAt) {
			t.Errorf("RefreshToken = %+v, %v", rt, err)
		}
		if co, err := s.Consent(ctx, "cit-m", "shebao"); err != nil || !slices.Equal(co.Scopes, migConsent.Scopes) {
			t.Errorf("Consent = %+v, %v", co, err)
		}
		if ks, err := s.SigningKeys(ctx); err != nil || len(ks) != 1 || ks[0].ID != "es-m" {
			t.Errorf("SigningKeys = %v, %v", ks, err)
		}
		if p, err := s.Passkey(ctx, []byte("cred-m")); err != nil || p.CitizenID != "cit-m" || p.SignCount != 7 {
			t.Errorf("Passkey = %+v, %v", p, err)
		}
		if m, err := s.MergesInto(ctx, "cit-m"); err != nil || len(m) != 0 {
			t.Errorf("MergesInto = %v, %v (the merge record is reversed)", m, err)
		}
		for table, want := range map[string]int64{"citizen_merges": 1, "citizens": 1, "passwords": 1, "clients": 1, "grants": 1, "refresh_tokens": 1, "consents": 1, "signing_keys": 1} {
			if n := countRows(t, s, table); n != want {
				t.Errorf("%s has %d rows, want %d", table, n, want)
			}
		}
	})
}

// Two processes starting at once both run Migrate; the lock makes one do the
// work and the other find nothing left to do.
func TestMigrateConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		u := b.url(t)
		stores := []*Store{openStore(t, u, Keys{}), openStore(t, u, Keys{}), openStore(t, u, Keys{})}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
		}
		wantPending(t, stores[0], nil)
		if n := countRows(t, stores[0], "schema_migrations"); n != int64(len(migrations)) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
		}
	})
}

func TestMigrateToUnknownStep(t *testing.T) {
	s := openStore(t, backends()[0].url(t), Keys{})
	if err := s.migrateTo(t.Context(), "9999_nope"); err == nil {
		t.Fatal("no error for an unknown migration")
	}
	wantPending(t, s, MigrationIDs())
}

// Every dialect gets a statement for every step, with no placeholder left.
func TestMigrationStatementsRender(t *testing.T) {
	for _, d := range []string{DialectSQLite, DialectPostgres, DialectMySQL} {
		for _, m := range migrations {
			stmts := m.stmts(d)
			if len(stmts) == 0 {
				t.Errorf("%s on %s: no statements", m.id, d)
			}
			for _, st := range stmts {
				if i := slices.Index([]byte(st), '{'); i >= 0 {
					t.Errorf("%s on %s: unrendered placeholder in %q", m.id, d, st)
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, m := range migrations {
		if seen[m.id] {
			t.Errorf("migration id %s repeats", m.id)
		}
		seen[m.id] = true
		if i > 0 && m.id <= migrations[i-1].id {
			t.Errorf("migration %s is not after %s", m.id, migrations[i-1].id)
		}
	}
}

// A database that does not answer is an error, never "everything pending".
func TestPendingOnAClosedStore(t *testing.T) {
	s := openStore(t, backends()[0].url(t), Keys{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.Pending(t.Context()); err == nil {
		t.Fatalf("Pending on a closed store = %q, nil", ids)
	}
}
