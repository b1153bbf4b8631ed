package identity

import (
	"strings"
	"time"
	"unicode"
)

// chinaTime is the zone birth dates are written in (UTC+8, no DST), used to
// decide whether a birth date is in the future.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// Parse validates raw as a number of document type t and returns its
// canonical form. A malformed number gives a *NumberError naming the part
// that is wrong.
//
// ResidentID covers the whole GB 11643 family: a number whose address code is
// 810000, 820000 or 830000 comes back with Type ResidencePermit, so a holder
// who picks "ID card" on a form still reaches the same account. Passports are
// written "CHN:E12345678" (ISO 3166-1 alpha-3 issuing country, colon, number).
func Parse(t DocumentType, raw string) (Number, error) {
	return ParseAt(t, raw, time.Now())
}

// ParseAt is Parse with the current time given, for birth-date checks.
func ParseAt(t DocumentType, raw string, now time.Time) (Number, error) {
	s, err := normalize(t, raw)
	if err != nil {
		return Number{}, err
	}
	switch t {
	case ResidentID:
		return parseResidentID(s, now)
	case ResidencePermit:
		return parseResidencePermit(s, now)
	case ForeignPermanentResident:
		return parseForeignPermanentResident(s, now)
	case HKMacaoPermit:
		return parseHKMacaoPermit(s)
	case TaiwanPermit:
		return parseTaiwanPermit(s)
	case Passport:
		return parsePassport(s)
	case CreditCode:
		return parseCreditCode(s)
	}
	return Number{}, &NumberError{Type: t, Part: PartFormat, Detail: DetailUnknownType}
}

// ParseAny recognises the document type from the number's shape and parses
// it. Passports are never recognised (their numbers overlap other shapes):
// use Parse(Passport, …). Where shapes overlap, an ID-card-like number wins:
//
//   - 18 characters, the first 17 digits: resident ID (or residence permit
//     for 810000/820000/830000; or, starting with 9, the 2023 permanent
//     residence card); if that fails on anything but the check character and
//     the input is a valid unified social credit code, the credit code.
//   - 18 characters with other letters: unified social credit code.
//   - 15 digits: old resident ID (converted to 18); 3 letters + 12 digits:
//     old permanent residence card.
//   - H or M + 8 or 10 digits: Mainland travel permit for HK/Macao residents.
//   - 8 digits, or 10 digits with an optional "(X)": Taiwan permit.
//
// When nothing fits, the error is the one for the most likely type (usually
// the resident ID), so the page can say what is wrong.
func ParseAny(raw string) (Number, error) {
	return ParseAnyAt(raw, time.Now())
}

// ParseAnyAt is ParseAny with the current time given.
func ParseAnyAt(raw string, now time.Time) (Number, error) {
	s, err := normalize(ResidentID, raw)
	if err != nil {
		return Number{}, err
	}
	switch {
	case len(s) == 18 && allDigits(s[:17]):
		primary := parseResidentID
		if s[0] == '9' {
			primary = parseForeignPermanentResident
		}
		n, err := primary(s, now)
		if err == nil {
			return n, nil
		}
		if ne, ok := err.(*NumberError); ok && ne.Part != PartCheck {
			if cc, ccErr := parseCreditCode(s); ccErr == nil {
				return cc, nil
			}
		}
		return Number{}, err
	case len(s) == 18:
		return parseCreditCode(s)
	case len(s) == 15 && isUpperLetters(s[:3]):
		return parseForeignPermanentResident(s, now)
	case len(s) == 15:
		return parseResidentID(s, now)
	case (len(s) == 9 || len(s) == 11) && (s[0] == 'H' || s[0] == 'M') && allDigits(s[1:]):
		return parseHKMacaoPermit(s)
	case len(s) == 8 && allDigits(s), len(s) == 10 && allDigits(s),
		len(s) == 13 && allDigits(s[:10]) && s[10] == '(' && s[12] == ')':
		return parseTaiwanPermit(s)
	case len(s) > 1 && (s[0] == 'H' || s[0] == 'M') && allDigits(s[1:]):
		return parseHKMacaoPermit(s)
	case len(s) == 17 && !allDigits(s):
		return parseCreditCode(s)
	}
	return parseResidentID(s, now)
}

// normalize trims white space, upper-cases letters and refuses full-width
// characters (a common IME mistake) and characters outside printable ASCII.
func normalize(t DocumentType, raw string) (string, error) {
	s := strings.TrimFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' })
	if s == "" {
		return "", &NumberError{Type: t, Part: PartLength, Detail: DetailEmpty}
	}
	pos := 0
	for _, r := range s {
		pos++
		if r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 {
			return "", &NumberError{Type: t, Part: PartCharacters, Detail: DetailFullWidth, Pos: pos}
		}
	}
	pos = 0
	for _, r := range s {
		pos++
		if r < 0x21 || r > 0x7E {
			return "", &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: pos}
		}
	}
	return strings.ToUpper(s), nil
}

func lengthError(t DocumentType, s string, want string) error {
	return &NumberError{Type: t, Part: PartLength, Got: len(s), Want: want}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUpperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

// firstNonDigit returns the 1-based position of the first non-digit in s
// (offset by base), or 0.
func firstNonDigit(s string, base int) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return base + i + 1
		}
	}
	return 0
}
