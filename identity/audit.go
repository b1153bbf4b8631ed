package identity

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditAction names what an audit entry records.
type AuditAction string

// The actions of the audit trail. Actions are stored as text; new ones may be
// added, existing ones are never renamed (old entries keep their hash).
const (
	AuditLoginSuccess      AuditAction = "login.success"
	AuditLoginFailure      AuditAction = "login.failure"
	AuditCitizenRegistered AuditAction = "citizen.registered"
	AuditTokenIssued       AuditAction = "token.issued"
	AuditUserinfoReleased  AuditAction = "userinfo.released"
	AuditTokenIntrospected AuditAction = "token.introspected"
	AuditSessionEnded      AuditAction = "session.ended"
	AuditConsentGranted    AuditAction = "consent.granted"
	AuditConsentRevoked    AuditAction = "consent.revoked"
	AuditGrantRevoked      AuditAction = "grant.revoked"
)

// Actor kinds, the prefix of AuditEntry.Actor ("citizen:c_…", "client:tax-portal").
const (
	ActorCitizen  = "citizen:"
	ActorClient   = "client:"
	ActorOperator = "operator:"
	ActorSystem   = "system"
	// ActorAnonymous: nobody authenticated (a failed login).
	ActorAnonymous = "anonymous"
)

// AuditEntry is one link of the audit chain.
//
// It holds identifiers only: citizen ids, client ids, grant and session ids,
// a truncated client address and short facts in Detail (scope and claim
// names, a failure reason). Never a document number, password, code, token,
// secret or claim value: the chain cannot be edited, so nothing that must
// stay secret may ever be written to it.
type AuditEntry struct {
	// Set by the caller.
	Action    AuditAction
	CitizenID string // the citizen the entry is about; "" when unknown (a failed login for an unknown number)
	Actor     string // who acted: ActorCitizen+id, ActorClient+id, ActorOperator+id or ActorSystem
	ClientID  string // the service site involved, if any
	SessionID string // the SSO session (sid), if any
	GrantID   string // the grant (fosite request id), if any
	IP        string // the client address, truncated (see AuditIP)
	// Detail holds short facts; keys and values are plain words
	// ("scopes": "openid profile", "reason": "bad_password").
	Detail map[string]string
	// At is when it happened; zero lets the log set its clock. Kept to the
	// microsecond, UTC.
	At time.Time

	// Set by the log on append.
	Partition int    // the chain the entry is in
	Seq       int64  // its position in that chain, from 1, without gaps
	PrevHash  []byte // Hash of entry Seq-1 of the partition; 32 zero bytes for Seq 1
	Hash      []byte // AuditHash(PrevHash, entry)
}

// Limits on entry fields, so every backend stores them unchanged.
const (
	MaxAuditField  = 200 // ids, actor, action
	MaxAuditDetail = 32  // detail pairs
	MaxAuditValue  = 1000
)

// ErrAuditEntry is returned (wrapped) by AuditLog.AppendAudit for an entry
// that cannot be stored as given (no action, a field too long, invalid UTF-8).
var ErrAuditEntry = errors.New("invalid audit entry")

// Validate checks the caller-set fields (see ErrAuditEntry).
func (e *AuditEntry) Validate() error {
	if e.Action == "" {
		return auditErr("no action")
	}
	for _, f := range []string{string(e.Action), e.CitizenID, e.Actor, e.ClientID, e.SessionID, e.GrantID, e.IP} {
		if len(f) > MaxAuditField || !cleanText(f) {
			return auditErr("a field is too long or not plain text")
		}
	}
	if len(e.Detail) > MaxAuditDetail {
		return auditErr("too many detail pairs")
	}
	for k, v := range e.Detail {
		if k == "" || len(k) > MaxAuditField || len(v) > MaxAuditValue || !cleanText(k) || !cleanText(v) {
			return auditErr("a detail pair is too long or not plain text")
		}
	}
	return nil
}

func auditErr(what string) error { return &auditEntryError{what} }

type auditEntryError struct{ what string }

func (e *auditEntryError) Error() string { return "identity: " + ErrAuditEntry.Error() + ": " + e.what }
func (e *auditEntryError) Unwrap() error { return ErrAuditEntry }

// cleanText is valid UTF-8 without NUL (which PostgreSQL text refuses).
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// AuditTime normalises a time as the chain keeps it: UTC, microseconds.
func AuditTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// auditHashVersion starts every hashed record; a future encoding gets a new one.
const auditHashVersion = "yihao-audit-v1"

// AuditHash is SHA-256(prev || canonical(e)). The canonical encoding is the
// version tag and then, each as a length-prefixed (uvarint) string, the
// partition, seq, time (RFC 3339 with microseconds, UTC), action, citizen,
// actor, client, session, grant, address, the number of detail pairs and
// the pairs sorted by key. Length prefixes make it unambiguous: no two
// different entries encode alike.
func AuditHash(prev []byte, e *AuditEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	var buf []byte
	put := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	put(auditHashVersion)
	put(strconv.Itoa(e.Partition))
	put(strconv.FormatInt(e.Seq, 10))
	put(AuditTime(e.At).Format("2006-01-02T15:04:05.000000Z"))
	put(string(e.Action))
	put(e.CitizenID)
	put(e.Actor)
	put(e.ClientID)
	put(e.SessionID)
	put(e.GrantID)
	put(e.IP)
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	put(strconv.Itoa(len(keys)))
	for _, k := range keys {
		put(k)
		put(e.Detail[k])
	}
	h.Write(buf)
	return h.Sum(nil)
}

// AuditGenesis is the PrevHash of the first entry of every partition.
var AuditGenesis = make([]byte, sha256.Size)

// AuditIP truncates a client address for the audit trail: an IPv4 address
// to its /24, IPv6 to its /48, written as a prefix ("203.0.113.0/24"). It
// tells which network a login came from without identifying the device.
// Anything unparsable becomes "".
func AuditIP(raw string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(addr, bits).Masked().String()
}

// AuditQuery selects entries for AuditEntries. Every set field must match.
type AuditQuery struct {
	CitizenID string        // one citizen's history (the common case; indexed)
	ClientID  string        // one service site
	Actions   []AuditAction // any of these
	Since     time.Time     // at or after (zero: no bound)
	Until     time.Time     // before (zero: no bound)
	Limit     int           // page size; zero means 50, at most 500
	Cursor    string        // AuditPage.Next of the previous page; "" for the first
}

// AuditPage is one page of entries, newest first.
type AuditPage struct {
	Entries []*AuditEntry
	Next    string // cursor of the following page; "" when this is the last
}

// AuditHead is the recorded end of one partition's chain.
type AuditHead struct {
	Partition int
	Seq       int64  // the last entry's seq; 0 for an empty chain
	Hash      []byte // the last entry's hash; AuditGenesis for an empty chain
}

// AuditLog is the append-only audit chain (SQL). Entries are spread over
// partitions, each a hash chain of its own with its own head, so appends for
// different citizens do not wait for each other; one citizen's entries go to
// one partition. Errors: ErrAuditEntry (wrapped) for an entry that cannot be
// stored, ErrUnavailable (wrapped) when the database does not answer.
type AuditLog interface {
	// AppendAudit adds e at the end of its partition's chain in one
	// transaction and sets At (when zero), Partition, Seq, PrevHash and Hash.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditEntries returns the entries matching q, newest first, one page
	// at a time. A malformed cursor is ErrAuditEntry.
	AuditEntries(ctx context.Context, q AuditQuery) (AuditPage, error)
	// AuditHeads returns the recorded head of every partition that has one,
	// by partition.
	AuditHeads(ctx context.Context) ([]AuditHead, error)
	// AuditChain returns up to limit entries of a partition with seq >
	// afterSeq, in seq order, exactly as stored (hashes included). It never
	// checks anything: VerifyAudit does.
	AuditChain(ctx context.Context, partition int, afterSeq int64, limit int) ([]*AuditEntry, error)
}

// AuditRecorder is the one method the use cases need.
type AuditRecorder interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
}

// recordAudit appends e when rec is set (the use cases' Audit is optional).
func recordAudit(ctx context.Context, rec AuditRecorder, e *AuditEntry) error {
	if rec == nil {
		return nil
	}
	if err := rec.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("identity: audit %s: %w", e.Action, err)
	}
	return nil
}
