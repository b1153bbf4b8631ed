package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// OperatorStore is what the operator suite needs: the operator, approval
// and citizen-admin ports, and the citizen repository to make citizens.
type OperatorStore interface {
	identity.CitizenRepository
	identity.OperatorRepository
	identity.ApprovalRepository
	identity.CitizenAdmin
}

func sqlOperator(id, username, region string, roles ...identity.Role) *identity.Operator {
	return &identity.Operator{
		ID: id, Username: username, Name: "操作员 " + username, Roles: roles, Region: region,
		Status: identity.OperatorActive, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		TOTP:      identity.TOTPSecretFromBytes([]byte("12345678901234567890")),
		CreatedAt: sqlAt(0), UpdatedAt: sqlAt(0),
	}
}

// RunOperatorRepository checks identity.OperatorRepository,
// ApprovalRepository and CitizenAdmin. newStore must return an empty store
// on every call.
func RunOperatorRepository(t *testing.T, newStore func(t *testing.T) OperatorStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[OperatorStore]{
		{"create then load by id and username; the TOTP secret survives sealing", func(t *testing.T, s OperatorStore) {
			o := sqlOperator("op-1", "clerk.chaoyang", "110105", identity.RoleRegistrar, identity.RoleAuditor)
			sqlMust(t, "CreateOperator", s.CreateOperator(t.Context(), o))
			for _, load := range []func() (*identity.Operator, error){
				func() (*identity.Operator, error) { return s.Operator(t.Context(), "op-1") },
				func() (*identity.Operator, error) { return s.OperatorByUsername(t.Context(), "clerk.chaoyang") },
			} {
				got, err := load()
				sqlMust(t, "load", err)
				if got.ID != o.ID || got.Username != o.Username || got.Name != o.Name || got.Region != "110105" ||
					got.Status != identity.OperatorActive || got.PasswordHash != o.PasswordHash ||
					!slices.Equal(got.Roles, o.Roles) {
					t.Fatalf("got %+v, want %+v", got, o)
				}
				at := time.Unix(59, 0)
				if got.TOTP.TOTPCode(at) != "287082" {
					t.Fatal("TOTP secret changed in storage")
				}
				sqlSameTime(t, "CreatedAt", got.CreatedAt, o.CreatedAt)
			}
		}},
		{"username is unique; unknown ids are ErrNotFound", func(t *testing.T, s OperatorStore) {
			sqlMust(t, "create", s.CreateOperator(t.Context(), sqlOperator("op-1", "alice", "")))
			sqlWantErr(t, "same username", s.CreateOperator(t.Context(), sqlOperator("op-2", "alice", "")), identity.ErrAlreadyExists)
			_, err := s.Operator(t.Context(), "op-2")
			sqlWantErr(t, "Operator(op-2)", err, identity.ErrNotFound)
			_, err = s.OperatorByUsername(t.Context(), "bob")
			sqlWantErr(t, "OperatorByUsername(bob)", err, identity.ErrNotFound)
			sqlWantErr(t, "UpdateOperator(none)", s.UpdateOperator(t.Context(), sqlOperator("op-9", "x", "")), identity.ErrNotFound)
		}},
		{"update replaces roles, region and status; list orders by username", func(t *testing.T, s OperatorStore) {
			sqlMust(t, "create b", s.CreateOperator(t.Context(), sqlOperator("op-b", "bob", "44", identity.RoleRegistrar)))
			sqlMust(t, "create a", s.CreateOperator(t.Context(), sqlOperator("op-a", "alice", "", identity.RoleAdministrator)))
			o, err := s.Operator(t.Context(), "op-b")
			sqlMust(t, "load", err)
			o.Roles, o.Region, o.Status, o.UpdatedAt = []identity.Role{identity.RoleAuditor}, "4405", identity.OperatorDisabled, sqlAt(time.Hour)
			sqlMust(t, "UpdateOperator", s.UpdateOperator(t.Context(), o))
			got, err := s.Operator(t.Context(), "op-b")
			sqlMust(t, "reload", err)
			if got.Region != "4405" || got.Status != identity.OperatorDisabled || !slices.Equal(got.Roles, []identity.Role{identity.RoleAuditor}) {
				t.Fatalf("after update %+v", got)
			}
			sqlSameTime(t, "UpdatedAt", got.UpdatedAt, sqlAt(time.Hour))
			all, err := s.Operators(t.Context())
			sqlMust(t, "Operators", err)
			if len(all) != 2 || all[0].Username != "alice" || all[1].Username != "bob" {
				t.Fatalf("Operators = %d rows", len(all))
			}
		}},
		{"a TOTP step is used once, and only moving forward, even under a race", func(t *testing.T, s OperatorStore) {
			sqlMust(t, "create", s.CreateOperator(t.Context(), sqlOperator("op-1", "alice", "")))
			errs := sqlRace(8, func(int) error { return s.UseTOTPStep(t.Context(), "op-1", 1000) })
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else {
					sqlWantErr(t, "losing UseTOTPStep", err, identity.ErrConflict)
				}
			}
			if won != 1 {
				t.Fatalf("%d of 8 uses of one step won", won)
			}
			sqlWantErr(t, "older step", s.UseTOTPStep(t.Context(), "op-1", 999), identity.ErrConflict)
			sqlMust(t, "next step", s.UseTOTPStep(t.Context(), "op-1", 1001))
			sqlWantErr(t, "unknown operator", s.UseTOTPStep(t.Context(), "op-9", 5), identity.ErrNotFound)
		}},
		{"client bindings", func(t *testing.T, s OperatorStore) {
			sqlMust(t, "create a", s.CreateOperator(t.Context(), sqlOperator("op-a", "alice", "")))
			sqlMust(t, "create b", s.CreateOperator(t.Context(), sqlOperator("op-b", "bob", "")))
			_, err := s.ClientOperator(t.Context(), "api")
			sqlWantErr(t, "unbound", err, identity.ErrNotFound)
			sqlWantErr(t, "bind to nobody", s.BindClientOperator(t.Context(), "api", "op-z"), identity.ErrNotFound)
			sqlMust(t, "bind", s.BindClientOperator(t.Context(), "api", "op-a"))
			sqlMust(t, "rebind", s.BindClientOperator(t.Context(), "api", "op-b"))
			got, err := s.ClientOperator(t.Context(), "api")
			sqlMust(t, "ClientOperator", err)
			if got != "op-b" {
				t.Fatalf("ClientOperator = %q, want op-b", got)
			}
		}},
		{"approvals: pending list, one decision wins, params kept", func(t *testing.T, s OperatorStore) {
			a := &identity.Approval{ID: "ap-1", Action: identity.ApproveOperatorChange, Target: "op-x", Region: "11",
				Params: map[string]string{"roles": "registrar auditor", "region": "1101"}, Reason: "扩大范围",
				RequestedBy: "op-a", RequestedAt: sqlAt(0), Status: identity.ApprovalPending}
			sqlMust(t, "CreateApproval", s.CreateApproval(t.Context(), a))
			sqlMust(t, "CreateApproval 2", s.CreateApproval(t.Context(), &identity.Approval{ID: "ap-2",
				Action: identity.ApproveUnfreeze, Target: "cit-1", Region: "110105", Reason: "r", RequestedBy: "op-a", RequestedAt: sqlAt(time.Minute)}))
			pending, err := s.PendingApprovals(t.Context())
			sqlMust(t, "PendingApprovals", err)
			if len(pending) != 2 || pending[0].ID != "ap-1" || pending[0].Params["region"] != "1101" || pending[0].Reason != "扩大范围" {
				t.Fatalf("pending = %+v", pending)
			}
			errs := sqlRace(6, func(i int) error {
				return s.DecideApproval(t.Context(), "ap-1", identity.ApprovalApproved, "op-b", sqlAt(time.Hour))
			})
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else {
					sqlWantErr(t, "losing decision", err, identity.ErrConflict)
				}
			}
			if won != 1 {
				t.Fatalf("%d decisions won", won)
			}
			got, err := s.Approval(t.Context(), "ap-1")
			sqlMust(t, "Approval", err)
			if got.Status != identity.ApprovalApproved || got.DecidedBy != "op-b" {
				t.Fatalf("decided = %+v", got)
			}
			sqlSameTime(t, "DecidedAt", got.DecidedAt, sqlAt(time.Hour))
			sqlWantErr(t, "decide unknown", s.DecideApproval(t.Context(), "ap-9", identity.ApprovalRejected, "op-b", sqlAt(0)), identity.ErrNotFound)
			pending, _ = s.PendingApprovals(t.Context())
			if len(pending) != 1 || pending[0].ID != "ap-2" {
				t.Fatalf("pending after decision = %d", len(pending))
			}
		}},
		{"citizen admin: phone, credential reset marked until a new password", func(t *testing.T, s OperatorStore) {
			sqlMust(t, "CreateCitizen", s.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), "$argon2id$old"))
			sqlMust(t, "bind phone", s.SetCitizenPhone(t.Context(), "cit-1", "+8613800138000"))
			c, _ := s.Citizen(t.Context(), "cit-1")
			if c.Phone != "+8613800138000" {
				t.Fatalf("phone = %q", c.Phone)
			}
			sqlMust(t, "unbind phone", s.SetCitizenPhone(t.Context(), "cit-1", ""))
			sqlWantErr(t, "phone of nobody", s.SetCitizenPhone(t.Context(), "cit-9", ""), identity.ErrNotFound)
			_, err := s.CitizenCredentialsReset(t.Context(), "cit-1")
			sqlWantErr(t, "never reset", err, identity.ErrNotFound)
			sqlMust(t, "reset", s.ResetCitizenCredentials(t.Context(), "cit-1", "op-a", sqlAt(time.Hour)))
			_, err = s.PasswordHash(t.Context(), "cit-1")
			sqlWantErr(t, "password after reset", err, identity.ErrNotFound)
			at, err := s.CitizenCredentialsReset(t.Context(), "cit-1")
			sqlMust(t, "CitizenCredentialsReset", err)
			sqlSameTime(t, "reset at", at, sqlAt(time.Hour))
			sqlMust(t, "reset again", s.ResetCitizenCredentials(t.Context(), "cit-1", "op-b", sqlAt(2*time.Hour)))
			sqlMust(t, "new password", s.SetPasswordHash(t.Context(), "cit-1", "$argon2id$new"))
			_, err = s.CitizenCredentialsReset(t.Context(), "cit-1")
			sqlWantErr(t, "after a new password", err, identity.ErrNotFound)
			sqlWantErr(t, "reset nobody", s.ResetCitizenCredentials(t.Context(), "cit-9", "op-a", sqlAt(0)), identity.ErrNotFound)
		}},
	})
}
