package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash: a stored password hash is not an argon2id PHC string
// this package can verify (or its parameters are out of bounds).
var ErrMalformedHash = errors.New("identity: malformed password hash")

// Argon2id defaults: OWASP's minimum (m=19 MiB, t=2, p=1).
const (
	DefaultArgon2Memory  uint32 = 19 * 1024 // KiB
	DefaultArgon2Time    uint32 = 2
	DefaultArgon2Threads uint8  = 1
)

// Bounds on the parameters Verify accepts, so a corrupted or hostile stored
// hash cannot make one verification take gigabytes or minutes.
const (
	maxVerifyMemory uint32 = 1 << 20 // KiB = 1 GiB
	maxVerifyTime   uint32 = 64
	minSaltLen             = 8
	maxSaltLen             = 64
	minKeyLen              = 16
	maxKeyLen              = 128
)

// PasswordHasher hashes passwords with argon2id into PHC strings
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", unpadded standard
// base64). The zero value uses the defaults. Each hash holds Memory KiB
// while it runs, so at most MaxConcurrent run at once and the rest wait
// (honouring their context): peak memory stays near MaxConcurrent × Memory.
//
// Set the fields before first use and do not copy a PasswordHasher after.
type PasswordHasher struct {
	Memory        uint32 // KiB; 0 means DefaultArgon2Memory
	Time          uint32 // passes; 0 means DefaultArgon2Time
	Threads       uint8  // lanes; 0 means DefaultArgon2Threads
	SaltLength    uint32 // bytes; 0 means 16
	KeyLength     uint32 // bytes; 0 means 32
	MaxConcurrent int    // hashes at once; 0 means 2 × GOMAXPROCS

	once sync.Once
	sem  chan struct{}
}

// NewPasswordHasher returns a hasher with the default parameters.
func NewPasswordHasher() *PasswordHasher {
	return &PasswordHasher{Memory: DefaultArgon2Memory, Time: DefaultArgon2Time, Threads: DefaultArgon2Threads}
}

type argon2Params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func (h *PasswordHasher) params() (memory, time uint32, threads uint8, saltLen, keyLen uint32) {
	memory, time, threads, saltLen, keyLen = h.Memory, h.Time, h.Threads, h.SaltLength, h.KeyLength
	if memory == 0 {
		memory = DefaultArgon2Memory
	}
	if time == 0 {
		time = DefaultArgon2Time
	}
	if threads == 0 {
		threads = DefaultArgon2Threads
	}
	if saltLen == 0 {
		saltLen = 16
	}
	if keyLen == 0 {
		keyLen = 32
	}
	return
}

// acquire takes a hashing slot, or gives up when ctx ends.
func (h *PasswordHasher) acquire(ctx context.Context) (release func(), err error) {
	h.once.Do(func() {
		n := h.MaxConcurrent
		if n <= 0 {
			n = 2 * runtime.GOMAXPROCS(0)
		}
		h.sem = make(chan struct{}, n)
	})
	select {
	case h.sem <- struct{}{}:
		return func() { <-h.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("identity: waiting to hash a password: %w", ctx.Err())
	}
}

// Hash returns the PHC string of password with a fresh random salt.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	memory, time, threads, saltLen, keyLen := h.params()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("identity: password salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	key := argon2.IDKey([]byte(password), salt, time, memory, threads, keyLen)
	return encodePHC(argon2Params{memory: memory, time: time, threads: threads, salt: salt, key: key}), nil
}

// Verify reports whether password matches the PHC string phc, comparing in
// constant time. It returns ErrMalformedHash (wrapped) for a hash it cannot
// read, and the context's error when ctx ends while waiting for a slot.
func (h *PasswordHasher) Verify(ctx context.Context, password, phc string) (bool, error) {
	p, err := decodePHC(phc)
	if err != nil {
		return false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// NeedsRehash reports whether phc was made with other parameters than the
// hasher's current ones (or cannot be read), so that a successful login
// should store a fresh hash.
func (h *PasswordHasher) NeedsRehash(phc string) bool {
	p, err := decodePHC(phc)
	if err != nil {
		return true
	}
	memory, time, threads, saltLen, keyLen := h.params()
	return p.memory != memory || p.time != time || p.threads != threads ||
		uint32(len(p.salt)) != saltLen || uint32(len(p.key)) != keyLen
}

var b64 = base64.RawStdEncoding

func encodePHC(p argon2Params) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

func decodePHC(phc string) (argon2Params, error) {
	var p argon2Params
	bad := func(what string) (argon2Params, error) {
		return argon2Params{}, fmt.Errorf("%w: %s", ErrMalformedHash, what)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("parameters")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + k)
		}
		switch k {
		case "m":
			p.memory, seen = uint32(n), seen|1
		case "t":
			p.time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return bad("parameter p")
			}
			p.threads, seen = uint8(n), seen|4
		default:
			return bad("unknown parameter " + k)
		}
	}
	if seen != 7 {
		return bad("missing parameter")
	}
	if p.threads == 0 || p.time == 0 || p.time > maxVerifyTime || p.memory < 8*uint32(p.threads) || p.memory > maxVerifyMemory {
		return bad("parameters out of bounds")
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < minSaltLen || len(p.salt) > maxSaltLen {
		return bad("salt")
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
		return bad("hash")
	}
	return p, nil
}
