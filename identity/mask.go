package identity

import "strings"

// Masked shows a number the way pages and logs may show it (DOMAIN.md §4.3):
// 18-character numbers keep the first 3 and last 4 characters, so the birth
// date (characters 7–14) never shows; passports and permits keep the first 1
// and last 3. The zero Number masks to "".
func (n Number) Masked() string {
	v := []rune(n.value)
	switch {
	case len(v) == 0:
		return ""
	case len(v) >= 15:
		return maskKeep(v, 3, 4)
	case len(v) >= 6:
		return maskKeep(v, 1, 3)
	default:
		return strings.Repeat("*", len(v))
	}
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
