// Package sealed is the at-rest form of an SSO session, shared by the Redis
// store and the embedded store so that both behave alike: the session is
// sealed with AES-256-GCM, and the names it is stored under are keyed hashes,
// so that neither the session id (the cookie value) nor the citizen's account
// id appears in clear in the backend.
//
// A sealed session carries everything that identifies the citizen and the
// login (ids, acr, amr, channel, user agent). What a store must read without
// the key stays beside it in clear: the absolute expiry (bound into the seal as
// associated data, so it cannot be extended), the last-seen time and the ids
// of the clients that joined (public client ids, appended atomically by the
// store).
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// KeySize is the length of the seal key: 32 bytes (AES-256).
const KeySize = 32

// version is the first byte of every sealed value, so a later format (or key
// rotation scheme) can be told apart.
const version = 1

// ErrOpen means a sealed value did not open: it was tampered with, stored
// under another name, or sealed with another key.
var ErrOpen = errors.New("sealed session does not open")

// Codec seals sessions and derives the names they are stored under. It is safe
// for concurrent use.
type Codec struct {
	aead  cipher.AEAD
	names sync.Pool // of hash.Hash: HMAC-SHA256 under the naming key
}

// New builds a codec from a 32-byte key. Two subkeys are derived from it with
// HKDF-SHA256: one seals, one names.
func New(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal key must be %d bytes, got %d", KeySize, len(key))
	}
	encKey, err := hkdf.Key(sha256.New, key, nil, "yihao session seal v1", 32)
	if err != nil {
		return nil, err
	}
	nameKey, err := hkdf.Key(sha256.New, key, nil, "yihao session names v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	c := &Codec{aead: aead}
	c.names.New = func() any { return hmac.New(sha256.New, nameKey) }
	return c, nil
}

// digest returns 128 bits of HMAC(tag || 0 || s), base64url: 22 characters.
func (c *Codec) digest(tag, s string) string {
	h := c.names.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(tag))
	h.Write([]byte{0})
	h.Write([]byte(s))
	var sum [sha256.Size]byte
	out := h.Sum(sum[:0])
	c.names.Put(h)
	return base64.RawURLEncoding.EncodeToString(out[:16])
}

// SessionDigest is the opaque name of session id inside a store's keys.
func (c *Codec) SessionDigest(id string) string { return c.digest("sid", id) }

// SessionName is the logical key of session id: "sess:{<digest>}". The braces
// are a Redis Cluster hash tag, so every key of one session shares a slot.
func (c *Codec) SessionName(id string) string { return SessionNameOf(c.SessionDigest(id)) }

// SessionNameOf is the logical key of a session by its digest.
func SessionNameOf(digest string) string { return "sess:{" + digest + "}" }

// CitizenName is the logical key of the index of a citizen's sessions.
func (c *Codec) CitizenName(citizenID string) string { return "cit:" + c.digest("cit", citizenID) }

// CheckClientID refuses a client id that is empty or holds a line break.
// RFC 6749 (appendix A.1) allows printable ASCII only; store/redis keeps one
// client id a line, and store/embedded refuses the same ids to behave alike.
func CheckClientID(id string) error {
	if id == "" || strings.ContainsAny(id, "\r\n") {
		return fmt.Errorf("client id %q is empty or holds a line break", id)
	}
	return nil
}

// payload is the sealed JSON: short names and unix seconds keep a session
// small in Redis.
type payload struct {
	ID        string   `json:"i"`
	CitizenID string   `json:"u"`
	AuthTime  int64    `json:"t,omitempty"`
	ACR       string   `json:"a,omitempty"`
	AMR       []string `json:"m,omitempty"`
	Channel   string   `json:"h,omitempty"`
	CreatedAt int64    `json:"c,omitempty"`
	UserAgent string   `json:"g,omitempty"`
}

// Unix is t in unix seconds, 0 for the zero time.
func Unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Time is the inverse of Unix.
func Time(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func aad(name string, expires int64) []byte {
	return strconv.AppendInt(append([]byte(name), 0), expires, 10)
}

// Seal seals the identifying part of s for storage under name, bound to the
// absolute expiry expires (unix seconds). Clients, LastSeen and ExpiresAt are
// not part of the sealed value: the store keeps them beside it.
func (c *Codec) Seal(name string, expires int64, s *identity.Session) ([]byte, error) {
	plain, err := json.Marshal(payload{
		ID:        s.ID,
		CitizenID: s.CitizenID,
		AuthTime:  Unix(s.AuthTime),
		ACR:       s.ACR,
		AMR:       s.AMR,
		Channel:   s.Channel,
		CreatedAt: Unix(s.CreatedAt),
		UserAgent: s.UserAgent,
	})
	if err != nil {
		return nil, err
	}
	ns := c.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+c.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return c.aead.Seal(out, out[1:1+ns], plain, aad(name, expires)), nil
}

// Open reverses Seal. It fills the sealed fields and ExpiresAt; the caller
// adds LastSeen and Clients. ErrOpen when the value was altered, moved to
// another name or expiry, or sealed with another key.
func (c *Codec) Open(name string, expires int64, sealed []byte) (*identity.Session, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < 1+ns+c.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := c.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad(name, expires))
	if err != nil {
		return nil, ErrOpen
	}
	var p payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	return &identity.Session{
		ID:        p.ID,
		CitizenID: p.CitizenID,
		AuthTime:  Time(p.AuthTime),
		ACR:       p.ACR,
		AMR:       p.AMR,
		Channel:   p.Channel,
		CreatedAt: Time(p.CreatedAt),
		ExpiresAt: Time(expires),
		UserAgent: p.UserAgent,
	}, nil
}
