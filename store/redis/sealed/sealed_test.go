package sealed_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

var key = bytes.Repeat([]byte{7}, sealed.KeySize)

func newCodec(t *testing.T, key []byte) *sealed.Codec {
	t.Helper()
	c, err := sealed.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := newCodec(t, key)
	now := time.Unix(1_700_000_000, 0)
	in := &identity.Session{
		ID: "sid", CitizenID: "cit", AuthTime: now, ACR: "acr", AMR: []string{"pwd"},
		Channel: "app", CreatedAt: now, UserAgent: "ua",
		Clients: []string{"not sealed"}, LastSeen: now, ExpiresAt: now.Add(time.Hour),
	}
	name := c.SessionName(in.ID)
	box, err := c.Seal(name, in.ExpiresAt.Unix(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Open(name, in.ExpiresAt.Unix(), box)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if out.ID != in.ID || out.CitizenID != in.CitizenID || !out.AuthTime.Equal(in.AuthTime) ||
		out.ACR != in.ACR || !slices.Equal(out.AMR, in.AMR) || out.Channel != in.Channel ||
		!out.CreatedAt.Equal(in.CreatedAt) || out.UserAgent != in.UserAgent || !out.ExpiresAt.Equal(in.ExpiresAt) {
		t.Fatalf("Open = %+v, want %+v", out, in)
	}
	if out.Clients != nil || !out.LastSeen.IsZero() {
		t.Errorf("Clients and LastSeen are kept beside the seal, not in it: %+v", out)
	}
	zero, err := c.Seal(name, 1, &identity.Session{ID: "sid"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Open(name, 1, zero); err != nil || !out.AuthTime.IsZero() || !out.CreatedAt.IsZero() {
		t.Errorf("zero times = %+v, %v; want zero", out, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	c := newCodec(t, key)
	s := &identity.Session{ID: "sid", CitizenID: "cit"}
	name := c.SessionName("sid")
	box, err := c.Seal(name, 100, s)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(box)
	flipped[len(flipped)-1] ^= 0x80
	tests := []struct {
		name    string
		codec   *sealed.Codec
		at      string
		expires int64
		box     []byte
	}{
		{"a flipped bit", c, name, 100, flipped},
		{"another name", c, c.SessionName("other"), 100, box},
		{"another expiry", c, name, 101, box},
		{"another key", newCodec(t, bytes.Repeat([]byte{8}, sealed.KeySize)), name, 100, box},
		{"a truncated value", c, name, 100, box[:10]},
		{"nothing", c, name, 100, nil},
		{"an unknown version", c, name, 100, append([]byte{9}, box[1:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.codec.Open(tc.at, tc.expires, tc.box); !errors.Is(err, sealed.ErrOpen) {
				t.Fatalf("Open: %v, want ErrOpen", err)
			}
		})
	}
}

func TestNamesHideIDs(t *testing.T) {
	c := newCodec(t, key)
	n := c.SessionName("my-session-id")
	if n != c.SessionName("my-session-id") {
		t.Fatal("SessionName is not deterministic")
	}
	if bytes.Contains([]byte(n), []byte("my-session-id")) || n == c.SessionName("my-session-iD") {
		t.Fatalf("SessionName = %q", n)
	}
	if c.CitizenName("x") == newCodec(t, bytes.Repeat([]byte{8}, sealed.KeySize)).CitizenName("x") {
		t.Fatal("names do not depend on the key")
	}
	if len(c.SessionDigest("x")) != 22 {
		t.Fatalf("digest length %d, want 22", len(c.SessionDigest("x")))
	}
}

func TestNewWantsA32ByteKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := sealed.New(make([]byte, n)); err == nil {
			t.Errorf("New with %d bytes succeeded", n)
		}
	}
}
