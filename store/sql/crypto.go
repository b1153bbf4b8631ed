package sqlstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/yihao-gov/yihao/identity"
)

// Keys protect document numbers at rest.
//
// Encryption holds AES-256 keys (32 bytes each) by key id. New rows are
// encrypted with ActiveID; a row is always decrypted with the key id stored
// beside it, so rotating means adding a new key, making it active, and keeping
// the old one until every row has been re-encrypted.
//
// Index is the HMAC-SHA256 key (32 bytes) of the blind index through which
// CitizenByNumber finds a row. It must differ from every encryption key. It
// cannot be rotated without recomputing every index.
type Keys struct {
	ActiveID   string
	Encryption map[string][]byte
	Index      []byte
}

// numberAADPrefix versions the additional data of number ciphertexts.
const numberAADPrefix = "yihao/citizen-number/v1"

// keyLen is the length of every key: AES-256 and a 256-bit HMAC key.
const keyLen = 32

func (k Keys) isZero() bool {
	return k.ActiveID == "" && len(k.Encryption) == 0 && len(k.Index) == 0
}

// validate reports every problem with the keys, naming the key at fault but
// never its bytes.
func (k Keys) validate() error {
	var errs []error
	if k.ActiveID == "" {
		errs = append(errs, errors.New("keys: active encryption key id is empty"))
	} else if _, ok := k.Encryption[k.ActiveID]; !ok {
		errs = append(errs, fmt.Errorf("keys: active encryption key %q is not among the encryption keys", k.ActiveID))
	}
	ids := make([]string, 0, len(k.Encryption))
	for id := range k.Encryption {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		key := k.Encryption[id]
		switch {
		case id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n"):
			errs = append(errs, fmt.Errorf("keys: encryption key id %q must be 1 to 64 characters without spaces", id))
		case len(key) != keyLen:
			errs = append(errs, fmt.Errorf("keys: encryption key %q is %d bytes, want %d (AES-256)", id, len(key), keyLen))
		case len(k.Index) == keyLen && hmac.Equal(key, k.Index):
			errs = append(errs, fmt.Errorf("keys: encryption key %q equals the blind-index key; they must differ", id))
		}
	}
	if len(k.Index) != keyLen {
		errs = append(errs, fmt.Errorf("keys: blind-index key is %d bytes, want %d (HMAC-SHA256)", len(k.Index), keyLen))
	}
	return errors.Join(errs...)
}

// numberCrypto encrypts and indexes document numbers. A nil *numberCrypto
// (no keys configured) refuses every operation.
type numberCrypto struct {
	active string
	aeads  map[string]cipher.AEAD
	index  []byte
}

var errNoKeys = errors.New("no document-number keys configured (Config.Keys)")

func newNumberCrypto(k Keys) (*numberCrypto, error) {
	if k.isZero() {
		return nil, nil
	}
	if err := k.validate(); err != nil {
		return nil, err
	}
	c := &numberCrypto{active: k.ActiveID, aeads: make(map[string]cipher.AEAD, len(k.Encryption))}
	for id, key := range k.Encryption {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keys: encryption key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keys: encryption key %q: %w", id, err)
		}
		c.aeads[id] = aead
	}
	c.index = append([]byte(nil), k.Index...)
	return c, nil
}

// aad binds a ciphertext to its row: copying number_ct to another citizen
// or another document type makes it fail to decrypt.
func numberAAD(t identity.DocumentType, citizenID string) []byte {
	return []byte(numberAADPrefix + "\x00" + string(t) + "\x00" + citizenID)
}

// seal encrypts n for citizenID with the active key and returns the
// ciphertext (nonce || sealed) and the key id.
func (c *numberCrypto) seal(n identity.Number, citizenID string) (ct []byte, keyID string, err error) {
	if c == nil {
		return nil, "", errNoKeys
	}
	aead := c.aeads[c.active]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(n.Value())+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("read nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(n.Value()), numberAAD(n.Type(), citizenID)), c.active, nil
}

// open decrypts a stored number.
func (c *numberCrypto) open(t identity.DocumentType, citizenID, keyID string, ct []byte) (identity.Number, error) {
	if c == nil {
		return identity.Number{}, errNoKeys
	}
	aead, ok := c.aeads[keyID]
	if !ok {
		return identity.Number{}, fmt.Errorf("document number is sealed with key %q, which is not configured", keyID)
	}
	if len(ct) < aead.NonceSize()+aead.Overhead() {
		return identity.Number{}, errors.New("document number ciphertext is truncated")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], numberAAD(t, citizenID))
	if err != nil {
		return identity.Number{}, fmt.Errorf("document number does not decrypt with key %q (tampered or moved row)", keyID)
	}
	return identity.NewNumberUnchecked(t, string(pt)), nil
}

// blindIndex is HMAC-SHA256(Index, type ":" canonical value): equal numbers
// of the same type share it; the same digits under another type do not.
func (c *numberCrypto) blindIndex(n identity.Number) ([]byte, error) {
	if c == nil {
		return nil, errNoKeys
	}
	m := hmac.New(sha256.New, c.index)
	m.Write([]byte(string(n.Type()) + ":" + n.Value()))
	return m.Sum(nil), nil
}
