package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// Passkey is one WebAuthn credential of a citizen: the credential record of
// the WebAuthn specification (§4, "credential record"), plus what the
// account centre shows. The public key is not secret; the private key never
// leaves the authenticator.
type Passkey struct {
	// ID is the credential id the authenticator chose (raw bytes, at most
	// 1023 by the specification). It is globally unique in the store.
	ID        []byte
	CitizenID string
	// PublicKey is the COSE-encoded credential public key.
	PublicKey         []byte
	AttestationType   string // none, basic_full, self, …
	AttestationFormat string // packed, tpm, none, …
	Transports        []string
	AAGUID            []byte // the authenticator model (16 bytes, often zero)
	Attachment        string // platform or cross-platform, as the browser reported it
	// SignCount is the highest signature counter seen. Authenticators that
	// do not keep a counter always send 0.
	SignCount      uint32
	UserPresent    bool
	UserVerified   bool
	BackupEligible bool // a synced ("multi-device") passkey
	BackupState    bool // currently backed up
	Name           string
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until first used
}

// PasskeyNameMaxRunes bounds the name a citizen gives a passkey.
const PasskeyNameMaxRunes = 64

// UserHandleLen is the length in bytes of a WebAuthn user handle (the
// user.id of the specification, at most 64 bytes). It is random: the
// authenticator stores it and returns it at every discoverable login, so it
// must never be the ID number or anything derived from it.
const UserHandleLen = 32

// NewUserHandle returns a fresh random user handle.
func NewUserHandle() []byte {
	b := make([]byte, UserHandleLen)
	rand.Read(b)
	return b
}

// PasskeyRepository keeps passkeys and the per-citizen WebAuthn user handle
// (SQL). Errors are identity's sentinels, wrapped: ErrNotFound,
// ErrAlreadyExists, ErrConflict, ErrUnavailable.
type PasskeyRepository interface {
	// CreateUserHandle records citizenID's user handle. ErrAlreadyExists
	// when the citizen already has one (or, by chance, the handle is
	// taken); ErrNotFound when there is no such citizen.
	CreateUserHandle(ctx context.Context, citizenID string, handle []byte) error
	// UserHandle returns the citizen's user handle, or ErrNotFound.
	UserHandle(ctx context.Context, citizenID string) ([]byte, error)
	// CitizenByUserHandle returns the id of the citizen owning handle, or
	// ErrNotFound.
	CitizenByUserHandle(ctx context.Context, handle []byte) (citizenID string, err error)

	// AddPasskey stores p (p.ID, p.CitizenID and p.PublicKey set).
	// ErrAlreadyExists when the credential id is already stored (for any
	// citizen); ErrNotFound when the citizen does not exist.
	AddPasskey(ctx context.Context, p *Passkey) error
	// Passkeys lists a citizen's passkeys, oldest first.
	Passkeys(ctx context.Context, citizenID string) ([]*Passkey, error)
	// Passkey loads one passkey by credential id, or ErrNotFound.
	Passkey(ctx context.Context, credentialID []byte) (*Passkey, error)
	// UpdatePasskeyUse records a successful assertion: the new signature
	// counter, the backup state and the time. It is one conditional write:
	// ErrConflict when the stored counter is not below signCount (a
	// regression: the credential may be cloned; nothing is written), except
	// that 0 after 0 is accepted (an authenticator without a counter).
	// ErrNotFound when there is no such passkey.
	UpdatePasskeyUse(ctx context.Context, credentialID []byte, signCount uint32, backupState bool, at time.Time) error
	// RenamePasskey sets the name of one of citizenID's passkeys.
	// ErrNotFound when the citizen has no such passkey.
	RenamePasskey(ctx context.Context, citizenID string, credentialID []byte, name string) error
	// DeletePasskey removes one of citizenID's passkeys. ErrNotFound when
	// the citizen has no such passkey (another citizen's is never touched).
	DeletePasskey(ctx context.Context, citizenID string, credentialID []byte) error
}

// ErrSignCountRegressed: an assertion carried a signature counter that is
// not above the stored one. The credential may have been cloned; the login
// is refused.
var ErrSignCountRegressed = errors.New("identity: passkey signature counter went backwards")

// EnsureUserHandle returns the citizen's WebAuthn user handle, creating a
// random one the first time. Two concurrent first calls agree on one handle.
func EnsureUserHandle(ctx context.Context, repo PasskeyRepository, citizenID string) ([]byte, error) {
	h, err := repo.UserHandle(ctx, citizenID)
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("identity: user handle: %w", err)
	}
	fresh := NewUserHandle()
	switch err := repo.CreateUserHandle(ctx, citizenID, fresh); {
	case err == nil:
		return fresh, nil
	case errors.Is(err, ErrAlreadyExists):
		// Another request created it first: use theirs.
		h, err := repo.UserHandle(ctx, citizenID)
		if err != nil {
			return nil, fmt.Errorf("identity: user handle: %w", err)
		}
		return h, nil
	default:
		return nil, fmt.Errorf("identity: create user handle: %w", err)
	}
}

// RecordPasskeyUse stores the counter of a verified assertion, turning the
// store's ErrConflict into ErrSignCountRegressed. The caller refuses the
// login on that error and logs it (without the credential id's owner's
// number: the citizen id is enough).
func RecordPasskeyUse(ctx context.Context, repo PasskeyRepository, credentialID []byte, signCount uint32, backupState bool, at time.Time) error {
	err := repo.UpdatePasskeyUse(ctx, credentialID, signCount, backupState, at)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w: %w", ErrSignCountRegressed, err)
	default:
		return fmt.Errorf("identity: record passkey use: %w", err)
	}
}
