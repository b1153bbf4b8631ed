package identity

// parseOldPermanentResident parses the 15-character 外国人永久居留证 of the
// 2004 and 2017 editions: 3 letters (ISO 3166-1 alpha-3 nationality), 4 digits
// (province and city of the accepting office), YYMMDD birth date, 1 order
// digit and 1 check digit computed ICAO 9303 style (letters A=10 … Z=35,
// weights 7, 3, 1 repeating, sum mod 10).
func parseOldPermanentResident(s string) (Number, error) {
	const t = ForeignPermanentResident
	if len(s) != 15 {
		return Number{}, lengthError(t, s, "15 or 18")
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: i + 1}
		}
	}
	if p := firstNonDigit(s[3:], 3); p != 0 {
		return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
	}
	if !provinces[s[3:5]] {
		return Number{}, &NumberError{Type: t, Part: PartRegion, Detail: DetailNoProvince}
	}
	// The century is not written; the date must exist in 19YY or 20YY
	// (29 February of "00" exists in 2000).
	if _, ok19 := parseYMD("19" + s[7:13]); !ok19 {
		if _, ok20 := parseYMD("20" + s[7:13]); !ok20 {
			return Number{}, &NumberError{Type: t, Part: PartBirthDate, Detail: DetailNoSuchDate}
		}
	}
	if want := icaoCheck(s[:14]); want != s[14] {
		return Number{}, &NumberError{Type: t, Part: PartCheck, Want: string(want)}
	}
	return Number{typ: t, value: s}, nil
}

// icaoCheck is the ICAO 9303 7-3-1 check digit over digits and A–Z.
func icaoCheck(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}
