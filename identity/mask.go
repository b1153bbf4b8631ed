package identity

import "strings"

// Masked shows a number the way pages and logs may show it (DOMAIN.md §4.3):
//
//   - 18-character numbers (resident ID, residence permit, 2023 permanent
//     residence card, credit code) keep the first 3 and last 4 characters, so
//     the birth date (characters 7–14) never shows;
//   - the old 15-character permanent residence card keeps its 3-letter
//     nationality and the last 2 characters (its birth date is characters 8–13);
//   - permits keep the first 1 and last 3;
//   - passports keep the country, then the first 1 and last 3 of the number.
//
// Anything else falls back on the length. The zero Number masks to "".
func (n Number) Masked() string {
	v := []rune(n.value)
	switch {
	case len(v) == 0:
		return ""
	case n.typ == Passport:
		if country, number, ok := strings.Cut(n.value, ":"); ok {
			return country + ":" + maskShort(number)
		}
		return maskShort(n.value)
	case n.typ == ForeignPermanentResident && len(v) == 15:
		return maskKeep(v, 3, 2)
	case len(v) >= 15:
		return maskKeep(v, 3, 4)
	default:
		return maskShort(n.value)
	}
}

// maskShort keeps the first 1 and last 3 characters of numbers of 6 or
// more characters, and hides shorter ones completely.
func maskShort(s string) string {
	v := []rune(s)
	if len(v) < 6 {
		return strings.Repeat("*", len(v))
	}
	return maskKeep(v, 1, 3)
}

func maskKeep(v []rune, head, tail int) string {
	var b strings.Builder
	for i, r := range v {
		if i < head || i >= len(v)-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}
