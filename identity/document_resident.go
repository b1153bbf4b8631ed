package identity

import "time"

// The GB 11643-1999 family: 居民身份证, 港澳台居民居住证 and the 2023
// 外国人永久居留身份证 all have 17 digits, a check character from 0-9 or X
// (ISO 7064 MOD 11-2), and a YYYYMMDD birth date in characters 7–14.

// mod112Weights are 2^(i-1) mod 11 for the 17 body digits, left to right.
var mod112Weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// mod112Check returns the check character for a 17-digit body.
func mod112Check(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * mod112Weights[i]
	}
	return "10X98765432"[sum%11]
}

// provinces are the two-digit prefixes of GB 11643 address codes (DOMAIN.md
// §1 rule 4). 83 is allowed only for residence permits (830000).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

func isPermitCode(code string) bool {
	return code == "810000" || code == "820000" || code == "830000"
}

// shape18 checks 18 characters: 17 digits and a digit or X.
func shape18(t DocumentType, s string) error {
	if len(s) != 18 {
		return lengthError(t, s, "18")
	}
	if p := firstNonDigit(s[:17], 0); p != 0 {
		return &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: 18}
	}
	return nil
}

// checkBirthDate validates an 8-digit YYYYMMDD date.
func checkBirthDate(t DocumentType, ymd string, now time.Time) error {
	d, ok := parseYMD(ymd)
	if !ok {
		return &NumberError{Type: t, Part: PartBirthDate, Detail: DetailNoSuchDate}
	}
	if d.Year() < 1800 {
		return &NumberError{Type: t, Part: PartBirthDate, Detail: DetailTooEarly}
	}
	y, m, day := now.In(chinaTime).Date()
	if d.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return &NumberError{Type: t, Part: PartBirthDate, Detail: DetailFuture}
	}
	return nil
}

// parseYMD reads YYYYMMDD as a UTC midnight, refusing dates that do not exist.
func parseYMD(s string) (time.Time, bool) {
	if len(s) != 8 || !allDigits(s) {
		return time.Time{}, false
	}
	y := atoi(s[:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseResidentID parses a citizen ID number (18 characters, or a 15-digit
// GB 11643-1989 number, converted by inserting "19" before its YYMMDD and
// computing the check character). Numbers with a residence-permit address
// code come back as ResidencePermit.
func parseResidentID(s string, now time.Time) (Number, error) {
	const t = ResidentID
	if len(s) == 15 {
		if p := firstNonDigit(s, 0); p != 0 {
			return Number{}, &NumberError{Type: t, Part: PartCharacters, Detail: DetailBadChar, Pos: p}
		}
		body := s[:6] + "19" + s[6:]
		s = body + string(mod112Check(body))
	}
	if len(s) != 18 {
		return Number{}, lengthError(t, s, "18")
	}
	if isPermitCode(s[:6]) {
		return parseResidencePermit(s, now)
	}
	if err := shape18(t, s); err != nil {
		return Number{}, err
	}
	if !provinces[s[:2]] {
		return Number{}, &NumberError{Type: t, Part: PartRegion, Detail: DetailNoProvince}
	}
	if err := checkBirthDate(t, s[6:14], now); err != nil {
		return Number{}, err
	}
	if want := mod112Check(s); want != s[17] {
		return Number{}, &NumberError{Type: t, Part: PartCheck, Want: string(want)}
	}
	return Number{typ: t, value: s}, nil
}

// parseResidencePermit parses a 港澳台居民居住证 number: the GB 11643 layout
// with address code 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan).
func parseResidencePermit(s string, now time.Time) (Number, error) {
	const t = ResidencePermit
	if err := shape18(t, s); err != nil {
		return Number{}, err
	}
	if !isPermitCode(s[:6]) {
		return Number{}, &NumberError{Type: t, Part: PartRegion, Detail: DetailNotPermit}
	}
	if err := checkBirthDate(t, s[6:14], now); err != nil {
		return Number{}, err
	}
	if want := mod112Check(s); want != s[17] {
		return Number{}, &NumberError{Type: t, Part: PartCheck, Want: string(want)}
	}
	return Number{typ: t, value: s}, nil
}

// parseForeignPermanentResident parses either edition of the foreign
// permanent resident card: the 2023 18-digit number ("9", 2-digit province
// of the accepting office, 3-digit nationality, YYYYMMDD, order, MOD 11-2
// check) or the old 15-character one (see parseOldPermanentResident).
func parseForeignPermanentResident(s string, now time.Time) (Number, error) {
	const t = ForeignPermanentResident
	switch len(s) {
	case 15:
		return parseOldPermanentResident(s)
	case 18:
	default:
		return Number{}, lengthError(t, s, "18 or 15")
	}
	if err := shape18(t, s); err != nil {
		return Number{}, err
	}
	if s[0] != '9' {
		return Number{}, &NumberError{Type: t, Part: PartFormat}
	}
	if !provinces[s[1:3]] {
		return Number{}, &NumberError{Type: t, Part: PartRegion, Detail: DetailNoProvince}
	}
	if err := checkBirthDate(t, s[6:14], now); err != nil {
		return Number{}, err
	}
	if want := mod112Check(s); want != s[17] {
		return Number{}, &NumberError{Type: t, Part: PartCheck, Want: string(want)}
	}
	return Number{typ: t, value: s}, nil
}
