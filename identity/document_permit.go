package identity

// parseHKMacaoPermit parses a 港澳居民来往内地通行证 number: H (Hong Kong) or
// M (Macao), the 8-digit lifelong number, and optionally the 2-digit renewal
// count printed on older cards. The canonical form is the 9-character stem.
func parseHKMacaoPermit(s string) (Number, error) {
	const t = HKMacaoPermit
	if len(s) != 9 && len(s) != 11 {
		return Number{}, lengthError(t, s, "9 or 11")
	}
	if s[0] != 'H' && s[0] != 'M' {
		return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: 1}
	}
	if p := firstNonDigit(s[1:], 1); p != 0 {
		return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
	}
	return Number{typ: t, value: s[:9]}, nil
}

// parseTaiwanPermit parses a 台湾居民来往大陆通行证 number: 8 digits since
// 2008 ("one person, one number"); older booklets add a 2-digit issue count
// and an issuing-office code in parentheses ("1234567801(B)"). The canonical
// form is the 8-digit lifelong number.
func parseTaiwanPermit(s string) (Number, error) {
	const t = TaiwanPermit
	switch len(s) {
	case 8, 10:
		if p := firstNonDigit(s, 0); p != 0 {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
		}
	case 13:
		if p := firstNonDigit(s[:10], 0); p != 0 {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
		}
		c := s[11]
		if s[10] != '(' || s[12] != ')' || !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return Number{}, &NumberError{Type: t, Part: PartFormat}
		}
	default:
		return Number{}, lengthError(t, s, "8")
	}
	return Number{typ: t, value: s[:8]}, nil
}

// parsePassport parses "CCC:NUMBER": the ISO 3166-1 alpha-3 code of the
// issuing state and 5 to 17 letters and digits. A passport number changes on
// every renewal, so it is never recognised without its type.
func parsePassport(s string) (Number, error) {
	const t = Passport
	country, number, ok := cutByte(s, ':')
	if !ok || len(country) != 3 || !isUpperLetters(country) {
		return Number{}, &NumberError{Type: t, Part: PartFormat, Detail: DetailCountry}
	}
	if len(number) < 5 || len(number) > 17 {
		return Number{}, lengthError(t, number, "5 to 17")
	}
	for i := 0; i < len(number); i++ {
		c := number[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: i + 1}
		}
	}
	return Number{typ: t, value: country + ":" + number}, nil
}

func cutByte(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
