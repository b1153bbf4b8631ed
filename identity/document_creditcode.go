package identity

import "strings"

// The unified social credit code (统一社会信用代码, GB 32100-2015) of legal
// persons and other organisations: 18 characters from a 31-character set
// (no I, O, S, V or Z). Character 1 is the registration authority, 2 the
// organisation type, 3–8 the GB/T 2260 code of the registering authority,
// 9–17 the GB 11714 organisation code (with its own check character at 17)
// and 18 the mod-31 check character.

const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are 3^(i-1) mod 31.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

func creditValue(c byte) int { return strings.IndexByte(creditCharset, c) }

func creditCheck(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += creditValue(body[i]) * creditWeights[i]
	}
	return creditCharset[(31-sum%31)%31]
}

func parseCreditCode(s string) (Number, error) {
	const t = CreditCode
	if len(s) != 18 {
		return Number{}, lengthError(t, s, "18")
	}
	for i := 0; i < 18; i++ {
		if creditValue(s[i]) < 0 {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: i + 1}
		}
	}
	if !allDigits(s[2:8]) {
		return Number{}, &NumberError{Type: t, Part: PartRegion, Detail: DetailRegionChars}
	}
	if want := creditCheck(s); want != s[17] {
		return Number{}, &NumberError{Type: t, Part: PartCheck, Want: string(want)}
	}
	return Number{typ: t, value: s}, nil
}

// orgCodeWeights are the GB 11714 weights for the 8-character body.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// OrganizationCodeValid reports whether a credit code's embedded GB 11714
// organisation code (characters 9–17) carries a correct check character.
// It is a second, optional check: some genuine early codes fail it, so a
// failure is not a refusal (Warnings reports it). False for other types.
func (n Number) OrganizationCodeValid() bool {
	if n.typ != CreditCode || len(n.value) != 18 {
		return false
	}
	body := n.value[8:16]
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * orgCodeWeights[i]
	}
	var want byte
	switch r := 11 - sum%11; r {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + r)
	}
	return n.value[16] == want
}
