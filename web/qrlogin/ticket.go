package qrlogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// State-store kinds of QR tickets.
const (
	KindTicket   oauth.StateKind = "qr"  // hash(ticket) → ticket record; used once when redeemed
	KindDecision oauth.StateKind = "qrd" // hash(ticket) → ""; used once by the phone's decision
)

// TicketTTL is how long a ticket can be scanned, decided and redeemed.
const TicketTTL = 2 * time.Minute

// Purposes of a ticket.
const (
	PurposeLogin   = "login"   // a desktop browser's login flow
	PurposeCounter = "counter" // a counter session opened by an operator
)

// Ticket statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
	StatusExpired  = "expired" // gone, used, or never existed: the desktop is told no more
)

// ErrUnknownTicket is a ticket that is malformed, expired, used or decided
// already; pages show one message for all of them.
var ErrUnknownTicket = errors.New("qrlogin: unknown or expired ticket")

// Ticket is the state-store record. It holds ids and coarse facts only: the
// desktop's browser family and /24 network, never its address or agent
// string, and the SHA-256 of the desktop secret, never the secret.
type Ticket struct {
	Purpose    string    `json:"p"`
	Ref        string    `json:"r"` // the flow id (login) or the counter request key (counter)
	Browser    string    `json:"b,omitempty"`
	Network    string    `json:"n,omitempty"`
	SecretHash []byte    `json:"h,omitempty"`
	Status     string    `json:"s"`
	CitizenID  string    `json:"c,omitempty"`
	SessionID  string    `json:"sid,omitempty"` // the phone's session that approved
	Expires    time.Time `json:"e"`
}

const ticketLen = 43 // 32 random bytes, base64url without padding

// ParseTicket accepts a ticket id from a URL or form: exactly 43 characters
// of base64url (256 bits). Anything else is "" — never an error message
// that repeats the input.
func ParseTicket(raw string) string {
	if len(raw) != ticketLen {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != raw {
		return ""
	}
	return raw
}

func random43() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// key is the state-store key of a ticket: the store never holds the value
// that travels in the QR code.
func key(ticketID string) string {
	sum := sha256.Sum256([]byte("yihao-qr-ticket:" + ticketID))
	return hex.EncodeToString(sum[:])
}

func secretHash(secret string) []byte {
	sum := sha256.Sum256([]byte("yihao-qr-desktop:" + secret))
	return sum[:]
}

// Tickets keeps QR tickets in the state store (Redis or the embedded store),
// so every replica sees the same ticket and each step happens once.
type Tickets struct {
	State oauth.StateStore
	Now   func() time.Time
}

func (t *Tickets) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// newTicket stores a pending ticket and returns its id.
func (t *Tickets) newTicket(ctx context.Context, rec *Ticket) (string, error) {
	id := random43()
	rec.Status = StatusPending
	rec.Expires = t.now().Add(TicketTTL)
	if err := t.save(ctx, id, rec, TicketTTL); err != nil {
		return "", err
	}
	if err := t.State.PutState(ctx, KindDecision, key(id), nil, TicketTTL, ""); err != nil {
		return "", fmt.Errorf("qrlogin: store ticket: %w", err)
	}
	return id, nil
}

// NewLogin starts a ticket for a desktop's login flow. It returns the ticket
// id (for the QR code) and the desktop secret (for the desktop's cookie).
func (t *Tickets) NewLogin(ctx context.Context, flowID, browser, network string) (id, secret string, err error) {
	secret = random43()
	id, err = t.newTicket(ctx, &Ticket{Purpose: PurposeLogin, Ref: flowID, Browser: browser, Network: network, SecretHash: secretHash(secret)})
	return id, secret, err
}

// NewCounter starts a ticket the citizen scans to confirm a counter session.
func (t *Tickets) NewCounter(ctx context.Context, counterKey string) (string, error) {
	return t.newTicket(ctx, &Ticket{Purpose: PurposeCounter, Ref: counterKey})
}

func (t *Tickets) save(ctx context.Context, id string, rec *Ticket, ttl time.Duration) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := t.State.PutState(ctx, KindTicket, key(id), data, ttl, ""); err != nil {
		return fmt.Errorf("qrlogin: store ticket: %w", err)
	}
	return nil
}

// load returns a live ticket and its time left: ErrUnknownTicket when it is
// malformed, gone, expired or already redeemed.
func (t *Tickets) load(ctx context.Context, raw string) (string, *Ticket, time.Duration, error) {
	id := ParseTicket(raw)
	if id == "" {
		return "", nil, 0, ErrUnknownTicket
	}
	data, used, err := t.State.State(ctx, KindTicket, key(id))
	if errors.Is(err, identity.ErrNotFound) {
		return "", nil, 0, ErrUnknownTicket
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("qrlogin: load ticket: %w", err)
	}
	var rec Ticket
	if json.Unmarshal(data, &rec) != nil || used {
		return "", nil, 0, ErrUnknownTicket
	}
	left := rec.Expires.Sub(t.now())
	if left <= 0 {
		return "", nil, 0, ErrUnknownTicket
	}
	return id, &rec, left, nil
}

// Pending returns a ticket the phone may still decide.
func (t *Tickets) Pending(ctx context.Context, raw string) (*Ticket, error) {
	_, rec, _, err := t.load(ctx, raw)
	if err != nil {
		return nil, err
	}
	if rec.Status != StatusPending {
		return nil, ErrUnknownTicket
	}
	return rec, nil
}

// Decide records the phone's answer, once: of two phones deciding the same
// ticket (one scanned over the other's shoulder) exactly one is recorded.
// before, when set, runs after the claim and before the answer is stored
// (the counter records the answer in its request there); its error leaves
// the ticket decided as denied.
func (t *Tickets) Decide(ctx context.Context, raw string, s *identity.Session, approve bool, before func(*Ticket, bool) error) (*Ticket, error) {
	id, rec, left, err := t.load(ctx, raw)
	if err != nil {
		return nil, err
	}
	if rec.Status != StatusPending {
		return nil, ErrUnknownTicket
	}
	if err := t.State.UseState(ctx, KindDecision, key(id)); err != nil {
		if errors.Is(err, identity.ErrConflict) || errors.Is(err, identity.ErrNotFound) {
			return nil, ErrUnknownTicket
		}
		return nil, fmt.Errorf("qrlogin: decide: %w", err)
	}
	rec.Status = StatusDenied
	if approve {
		rec.Status = StatusApproved
		rec.CitizenID, rec.SessionID = s.CitizenID, s.ID
	}
	var ferr error
	if before != nil {
		if ferr = before(rec, approve); ferr != nil {
			rec.Status, rec.CitizenID, rec.SessionID = StatusDenied, "", ""
		}
	}
	if err := t.save(ctx, id, rec, left); err != nil {
		return nil, err
	}
	return rec, ferr
}

// Status is what the desktop's poll sees. A wrong or missing desktop secret
// sees StatusExpired, as if the ticket did not exist.
func (t *Tickets) Status(ctx context.Context, raw, secret string) (string, error) {
	_, rec, _, err := t.load(ctx, raw)
	if errors.Is(err, ErrUnknownTicket) {
		return StatusExpired, nil
	}
	if err != nil {
		return "", err
	}
	if rec.Purpose != PurposeLogin || !secretOK(rec, secret) {
		return StatusExpired, nil
	}
	return rec.Status, nil
}

func secretOK(rec *Ticket, secret string) bool {
	return secret != "" && len(rec.SecretHash) == sha256.Size && subtle.ConstantTimeCompare(rec.SecretHash, secretHash(secret)) == 1
}

// Redeem hands an approved login ticket to the desktop that holds its
// secret, exactly once (UseState): a second redemption, another browser, a
// pending, denied or expired ticket all get ErrUnknownTicket.
func (t *Tickets) Redeem(ctx context.Context, raw, secret string) (*Ticket, error) {
	id, rec, _, err := t.load(ctx, raw)
	if err != nil {
		return nil, err
	}
	if rec.Purpose != PurposeLogin || !secretOK(rec, secret) || rec.Status != StatusApproved {
		return nil, ErrUnknownTicket
	}
	if err := t.State.UseState(ctx, KindTicket, key(id)); err != nil {
		if errors.Is(err, identity.ErrConflict) || errors.Is(err, identity.ErrNotFound) {
			return nil, ErrUnknownTicket
		}
		return nil, fmt.Errorf("qrlogin: redeem: %w", err)
	}
	return rec, nil
}
