// Package qr encodes short texts (a URL) as QR codes (ISO/IEC 18004): byte
// mode, error-correction level M, the smallest version (1–40) the text fits,
// Reed–Solomon error correction over GF(256), and the mask with the lowest
// penalty. It draws the symbol as SVG. It is written for Yihao's QR login,
// where the text is our own ticket URL; it decodes nothing.
package qr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTooLong is returned when the text does not fit version 40 at level M.
var ErrTooLong = errors.New("qr: text too long")

// Code is an encoded symbol: Size×Size modules, true for dark.
type Code struct {
	Version int
	Size    int
	Mask    int
	modules []bool
}

// Dark reports whether the module at column x, row y is dark.
func (c *Code) Dark(x, y int) bool { return c.modules[y*c.Size+x] }

// Error correction level M, per version 1–40: codewords of error correction
// per block, and the number of blocks.
var (
	eccPerBlockM = [41]int{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28}
	blocksM = [41]int{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49}
)

const (
	eclBitsM              = 0b00 // the two format bits of level M
	formatGen, formatMask = 0x537, 0x5412
	versionGen            = 0x1f25
)

// rawModules is the number of modules of a version left for data and error
// correction once the function patterns are drawn.
func rawModules(ver int) int {
	n := (16*ver+128)*ver + 64
	if ver >= 2 {
		align := ver/7 + 2
		n -= (25*align-10)*align - 55
		if ver >= 7 {
			n -= 36 // the two version-information blocks
		}
	}
	return n
}

// dataCodewords is the data capacity of a version at level M, in bytes.
func dataCodewords(ver int) int {
	return rawModules(ver)/8 - eccPerBlockM[ver]*blocksM[ver]
}

// Encode encodes text in byte mode at level M in the smallest version it fits.
func Encode(text string) (*Code, error) { return encode(text, -1) }

// encode is Encode with the mask fixed (0–7), or chosen by penalty (-1).
func encode(text string, mask int) (*Code, error) {
	data := []byte(text)
	ver := 1
	for ; ver <= 40; ver++ {
		countBits := 8
		if ver >= 10 {
			countBits = 16
		}
		if 4+countBits+8*len(data) <= 8*dataCodewords(ver) {
			break
		}
	}
	if ver > 40 {
		return nil, ErrTooLong
	}
	codewords := addECC(ver, dataBits(ver, data))
	c := newCode(ver)
	c.drawFunctions()
	c.drawCodewords(codewords)
	best, bestPenalty := 0, -1
	for m := 0; m < 8; m++ {
		c.applyMask(m)
		c.drawFormat(m)
		if p := c.penalty(); bestPenalty < 0 || p < bestPenalty {
			best, bestPenalty = m, p
		}
		c.applyMask(m) // XOR again: undo
	}
	if mask >= 0 {
		best = mask
	}
	c.Mask = best
	c.applyMask(best)
	c.drawFormat(best)
	c.function = nil
	return &c.Code, nil
}

// dataBits is the data codewords: mode, count, bytes, terminator and padding.
func dataBits(ver int, data []byte) []byte {
	var b bitBuffer
	b.put(0b0100, 4) // byte mode
	if ver >= 10 {
		b.put(len(data), 16)
	} else {
		b.put(len(data), 8)
	}
	for _, d := range data {
		b.put(int(d), 8)
	}
	capBits := 8 * dataCodewords(ver)
	b.put(0, min(4, capBits-b.n))
	b.put(0, (8-b.n%8)%8)
	for pad := 0xec; b.n < capBits; pad ^= 0xec ^ 0x11 {
		b.put(pad, 8)
	}
	return b.bytes
}

type bitBuffer struct {
	bytes []byte
	n     int
}

func (b *bitBuffer) put(v, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if b.n%8 == 0 {
			b.bytes = append(b.bytes, 0)
		}
		if v>>i&1 == 1 {
			b.bytes[b.n/8] |= 0x80 >> (b.n % 8)
		}
		b.n++
	}
}

// addECC splits data into the version's blocks, appends each block's
// Reed–Solomon codewords and interleaves the result.
func addECC(ver int, data []byte) []byte {
	nBlocks, eccLen := blocksM[ver], eccPerBlockM[ver]
	raw := rawModules(ver) / 8
	nShort := nBlocks - raw%nBlocks
	shortLen := raw/nBlocks - eccLen // data codewords of a short block
	gen := rsGenerator(eccLen)
	var blocks [][]byte
	k := 0
	for i := 0; i < nBlocks; i++ {
		n := shortLen
		if i >= nShort {
			n++
		}
		d := data[k : k+n]
		k += n
		blocks = append(blocks, append(append([]byte(nil), d...), rsRemainder(d, gen)...))
	}
	out := make([]byte, 0, raw)
	for i := 0; i < shortLen+1; i++ {
		for j, blk := range blocks {
			if i < shortLen || j >= nShort {
				out = append(out, blk[i])
			}
		}
	}
	for i := 0; i < eccLen; i++ {
		for _, blk := range blocks {
			out = append(out, blk[len(blk)-eccLen+i])
		}
	}
	return out
}

// ---- GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 ----

func gfMul(a, b byte) byte {
	var p byte
	for ; b != 0; b >>= 1 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1d
		}
	}
	return p
}

// rsGenerator is the monic generator polynomial of degree n with roots
// α^0 … α^(n-1), highest coefficient first, the leading 1 left out.
func rsGenerator(n int) []byte {
	g := make([]byte, n)
	g[n-1] = 1
	root := byte(1)
	for i := 0; i < n; i++ {
		// multiply by (x - root)
		for j := 0; j < n; j++ {
			g[j] = gfMul(g[j], root)
			if j+1 < n {
				g[j] ^= g[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	return g
}

// rsRemainder is data·x^n mod the generator: the error-correction codewords.
func rsRemainder(data, gen []byte) []byte {
	r := make([]byte, len(gen))
	for _, d := range data {
		f := d ^ r[0]
		copy(r, r[1:])
		r[len(r)-1] = 0
		for i, g := range gen {
			r[i] ^= gfMul(g, f)
		}
	}
	return r
}

// ---- the matrix ----

type builder struct {
	Code
	function []bool // modules of function patterns (not data, not masked)
}

func newCode(ver int) *builder {
	size := 4*ver + 17
	return &builder{Code: Code{Version: ver, Size: size, modules: make([]bool, size*size)}, function: make([]bool, size*size)}
}

func (c *builder) set(x, y int, dark bool) {
	c.modules[y*c.Size+x] = dark
	c.function[y*c.Size+x] = true
}

func (c *builder) drawFunctions() {
	n := c.Size
	for i := 0; i < n; i++ { // timing patterns
		c.set(6, i, i%2 == 0)
		c.set(i, 6, i%2 == 0)
	}
	c.finder(3, 3)
	c.finder(n-4, 3)
	c.finder(3, n-4)
	pos := alignmentPositions(c.Version)
	for i, x := range pos {
		for j, y := range pos {
			last := len(pos) - 1
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue // the finder corners
			}
			c.alignment(x, y)
		}
	}
	c.drawFormat(0) // reserve the format areas; drawn again per mask
	c.drawVersion()
}

// finder draws a finder pattern centred at (cx, cy) with its separator.
func (c *builder) finder(cx, cy int) {
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			x, y := cx+dx, cy+dy
			if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
				continue
			}
			d := max(abs(dx), abs(dy))
			c.set(x, y, d != 2 && d != 4)
		}
	}
}

func (c *builder) alignment(cx, cy int) {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			c.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// alignmentPositions are the row and column centres of the alignment
// patterns of a version (none for version 1).
func alignmentPositions(ver int) []int {
	if ver == 1 {
		return nil
	}
	n := ver/7 + 2
	step := (ver*4 + n*2 + 1) / (n*2 - 2) * 2
	if ver == 32 {
		step = 26
	}
	out := make([]int, n)
	out[0] = 6
	for i, p := n-1, 4*ver+17-7; i >= 1; i, p = i-1, p-step {
		out[i] = p
	}
	return out
}

// formatBits is the 15-bit format information for level M and mask.
func formatBits(mask int) int {
	d := eclBitsM<<3 | mask
	r := d
	for i := 0; i < 10; i++ {
		r = r<<1 ^ (r>>9)*formatGen
	}
	return (d<<10 | r) ^ formatMask
}

// versionBits is the 18-bit version information (versions 7 and up).
func versionBits(ver int) int {
	r := ver
	for i := 0; i < 12; i++ {
		r = r<<1 ^ (r>>11)*versionGen
	}
	return ver<<12 | r
}

func (c *builder) drawFormat(mask int) {
	bits := formatBits(mask)
	bit := func(i int) bool { return bits>>i&1 == 1 }
	n := c.Size
	for i := 0; i <= 5; i++ {
		c.set(8, i, bit(i))
	}
	c.set(8, 7, bit(6))
	c.set(8, 8, bit(7))
	c.set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		c.set(14-i, 8, bit(i))
	}
	for i := 0; i < 8; i++ {
		c.set(n-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		c.set(8, n-15+i, bit(i))
	}
	c.set(8, n-8, true) // the dark module
}

func (c *builder) drawVersion() {
	if c.Version < 7 {
		return
	}
	bits := versionBits(c.Version)
	for i := 0; i < 18; i++ {
		dark := bits>>i&1 == 1
		a, b := c.Size-11+i%3, i/3
		c.set(a, b, dark)
		c.set(b, a, dark)
	}
}

// drawCodewords places the bits in the zigzag order of the standard: pairs
// of columns from the right, up and down in turn, skipping the timing column.
func (c *builder) drawCodewords(data []byte) {
	n := c.Size
	i := 0
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for v := 0; v < n; v++ {
			for j := 0; j < 2; j++ {
				x := right - j
				y := v
				if (right+1)&2 == 0 {
					y = n - 1 - v // upwards
				}
				if c.function[y*n+x] {
					continue
				}
				if i < len(data)*8 {
					c.modules[y*n+x] = data[i/8]>>(7-i%8)&1 == 1
					i++
				} // remainder bits stay light
			}
		}
	}
}

func maskAt(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// applyMask flips the data modules the mask selects (applying twice undoes it).
func (c *builder) applyMask(m int) {
	n := c.Size
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !c.function[y*n+x] && maskAt(m, x, y) {
				c.modules[y*n+x] = !c.modules[y*n+x]
			}
		}
	}
}

// penalty scores a masked symbol by the four rules of the standard: runs of
// five or more, 2×2 blocks, finder-like 1:1:3:1:1 patterns, and imbalance.
func (c *builder) penalty() int {
	n := c.Size
	p := 0
	line := func(get func(i int) bool) {
		run, prev := 0, false
		for i := 0; i < n; i++ {
			d := get(i)
			if i > 0 && d == prev {
				run++
			} else {
				if run >= 5 {
					p += run - 2
				}
				run, prev = 1, d
			}
		}
		if run >= 5 {
			p += run - 2
		}
		// rule 3: dark-light-dark×3-light-dark with four light on one side
		for i := 0; i+6 < n; i++ {
			if get(i) && !get(i+1) && get(i+2) && get(i+3) && get(i+4) && !get(i+5) && get(i+6) {
				before, after := true, true
				for k := 1; k <= 4; k++ {
					if i-k >= 0 && get(i-k) {
						before = false
					}
					if i+6+k < n && get(i+6+k) {
						after = false
					}
				}
				if before || after {
					p += 40
				}
			}
		}
	}
	for y := 0; y < n; y++ {
		line(func(i int) bool { return c.Dark(i, y) })
	}
	for x := 0; x < n; x++ {
		line(func(i int) bool { return c.Dark(x, i) })
	}
	dark := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			d := c.Dark(x, y)
			if d {
				dark++
			}
			if x+1 < n && y+1 < n && d == c.Dark(x+1, y) && d == c.Dark(x, y+1) && d == c.Dark(x+1, y+1) {
				p += 3
			}
		}
	}
	total := n * n
	k := (abs(dark*20-total*10)+total-1)/total - 1
	return p + max(k, 0)*10
}

// SVG draws the code as a standalone SVG element: one path of unit squares
// with a quiet zone of four modules, scaled by the viewer (width and height
// in CSS are left to the page). label is the accessible name.
func (c *Code) SVG(label string) string {
	const quiet = 4
	dim := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`,
		dim, dim, escapeAttr(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, dim, dim)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Dark(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}

func escapeAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

// String draws the code as text, two characters per module ("##" dark),
// without a quiet zone: for tests and terminals.
func (c *Code) String() string {
	var b strings.Builder
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Dark(x, y) {
				b.WriteString("##")
			} else {
				b.WriteString("  ")
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
