package qr

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The format information of level M for masks 0–7, as tabulated in ISO/IEC
// 18004 Annex C (after the 101010000010010 XOR mask).
func TestFormatBits(t *testing.T) {
	want := []string{"101010000010010", "101000100100101", "101111001111100", "101101101001011",
		"100010111111001", "100000011001110", "100111110010111", "100101010100000"}
	for m, w := range want {
		if got := bin(formatBits(m), 15); got != w {
			t.Errorf("mask %d: format %s, want %s", m, got, w)
		}
	}
}

// Version information, ISO/IEC 18004 Annex D.
func TestVersionBits(t *testing.T) {
	for ver, w := range map[int]string{7: "000111110010010100", 8: "001000010110111100", 40: "101000110001101001"} {
		if got := bin(versionBits(ver), 18); got != w {
			t.Errorf("version %d: %s, want %s", ver, got, w)
		}
	}
}

func bin(v, n int) string {
	var b strings.Builder
	for i := n - 1; i >= 0; i-- {
		b.WriteByte('0' + byte(v>>i&1))
	}
	return b.String()
}

// The worked example of a 1-M symbol ("HELLO WORLD" in alphanumeric mode):
// its 16 data codewords and the 10 error-correction codewords they give.
func TestReedSolomon(t *testing.T) {
	data := []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17}
	want := []byte{196, 35, 39, 119, 235, 215, 231, 226, 93, 23}
	got := rsRemainder(data, rsGenerator(10))
	if string(got) != string(want) {
		t.Fatalf("ecc %v, want %v", got, want)
	}
}

func TestCapacityPicksTheSmallestVersion(t *testing.T) {
	// Byte-mode capacities at level M.
	for _, tc := range []struct{ ver, max int }{{1, 14}, {2, 26}, {5, 84}, {6, 106}, {9, 180}, {10, 213}, {40, 2331}} {
		c, err := Encode(strings.Repeat("a", tc.max))
		if err != nil || c.Version != tc.ver {
			t.Errorf("%d bytes: version %v (%v), want %d", tc.max, c, err, tc.ver)
		}
		if tc.ver < 40 {
			if c, _ := Encode(strings.Repeat("a", tc.max+1)); c.Version != tc.ver+1 {
				t.Errorf("%d bytes: version %d, want %d", tc.max+1, c.Version, tc.ver+1)
			}
		}
	}
	if _, err := Encode(strings.Repeat("a", 2332)); err != ErrTooLong {
		t.Errorf("2332 bytes: %v, want ErrTooLong", err)
	}
}

func TestAlignmentPositions(t *testing.T) {
	for ver, want := range map[int][]int{1: nil, 2: {6, 18}, 7: {6, 22, 38}, 15: {6, 26, 48, 70}, 32: {6, 34, 60, 86, 112, 138}, 40: {6, 30, 58, 86, 114, 142, 170}} {
		got := alignmentPositions(ver)
		if len(got) != len(want) {
			t.Errorf("version %d: %v, want %v", ver, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("version %d: %v, want %v", ver, got, want)
				break
			}
		}
	}
}

// The function patterns every symbol has: three finders, the timing lines,
// the dark module, and the format information read back as the mask used.
func TestStructure(t *testing.T) {
	for _, s := range []string{"x", "https://id.example.gov.cn/qr/0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", strings.Repeat("z", 500)} {
		c, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		n := c.Size
		for _, corner := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
			for dy := 0; dy < 7; dy++ {
				for dx := 0; dx < 7; dx++ {
					d := max(abs(dx-3), abs(dy-3))
					if got := c.Dark(corner[0]+dx, corner[1]+dy); got != (d != 2) {
						t.Fatalf("v%d finder at %v wrong at +%d,+%d", c.Version, corner, dx, dy)
					}
				}
			}
		}
		for i := 8; i < n-8; i++ {
			if c.Dark(i, 6) != (i%2 == 0) || c.Dark(6, i) != (i%2 == 0) {
				t.Fatalf("v%d timing wrong at %d", c.Version, i)
			}
		}
		if !c.Dark(8, n-8) {
			t.Fatalf("v%d: no dark module", c.Version)
		}
		var f int
		for i := 0; i < 8; i++ { // second copy, bits 0–7 along row 8
			if c.Dark(n-1-i, 8) {
				f |= 1 << i
			}
		}
		for i := 8; i < 15; i++ {
			if c.Dark(8, n-15+i) {
				f |= 1 << i
			}
		}
		if f != formatBits(c.Mask) {
			t.Fatalf("v%d: format %s, want mask %d", c.Version, bin(f, 15), c.Mask)
		}
	}
}

// Golden symbols: each was checked once with an independent decoder (zbarimg
// from zbar-tools read back the exact text), then fixed here module by
// module. -update rewrites them; check the new ones with a decoder before
// committing.
func TestGolden(t *testing.T) {
	for name, s := range map[string]string{
		"v1":  "yihao",
		"v5":  "https://id.example.gov.cn/qr/q3Xb7T1vQm0kZf9sYw2LrA8nJc5HdE4uPg6iOt-_xyz",
		"v10": strings.Repeat("一号一窗一网", 11),
	} {
		c, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name+".golden")
		got := strings.ReplaceAll(c.String(), " ", ".")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s: symbol differs from %s:\n%s", name, path, got)
		}
		if name != "v"+itoa(c.Version) {
			t.Errorf("%s: version %d", name, c.Version)
		}
	}
}

func itoa(v int) string {
	if v < 10 {
		return string('0' + byte(v))
	}
	return itoa(v/10) + string('0'+byte(v%10))
}

func TestSVG(t *testing.T) {
	c, _ := Encode("yihao")
	svg := c.SVG(`a "label" <x>`)
	if !strings.HasPrefix(svg, "<svg ") || !strings.Contains(svg, `viewBox="0 0 29 29"`) ||
		!strings.Contains(svg, `aria-label="a &quot;label&quot; &lt;x&gt;"`) || strings.Count(svg, "h1v1h-1z") == 0 {
		t.Fatalf("svg: %.300s", svg)
	}
}
