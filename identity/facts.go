package identity

import "time"

// Sex as written in a document number.
type Sex string

const (
	SexMale   Sex = "male"
	SexFemale Sex = "female"
)

// Warning is a soft finding about a valid number: Parse accepted it, but a
// page or an operator may want to look twice.
type Warning string

const (
	// WarningUnknownRegion: the 6-digit address code is not in the division
	// table (frozen at mid-2023). Textbook and very new numbers do this.
	WarningUnknownRegion Warning = "unknown_region"
	// WarningOrganizationCode: a credit code's inner GB 11714 organisation
	// code check fails (reported for some genuine early codes).
	WarningOrganizationCode Warning = "organization_code_check"
)

// Localize returns the warning in the citizen's language ("en…" or zh-CN).
func (w Warning) Localize(lang string) string {
	en := isEnglish(lang)
	switch w {
	case WarningUnknownRegion:
		if en {
			return "the region code is not in our list of divisions; please check the number"
		}
		return "行政区划代码不在区划代码表中，请核对号码"
	case WarningOrganizationCode:
		if en {
			return "the organisation code inside the credit code does not pass its check"
		}
		return "统一社会信用代码中的组织机构代码校验未通过"
	}
	return string(w)
}

// hasGB11643Layout reports whether n has a YYYYMMDD birth date in
// characters 7–14 and the sex in character 17.
func (n Number) hasGB11643Layout() bool {
	switch n.typ {
	case ResidentID, ResidencePermit, ForeignPermanentResident:
		return len(n.value) == 18
	}
	return false
}

// BirthDate is the birth date written in the number (UTC midnight), for
// resident IDs, residence permits and 2023 permanent residence cards. False
// for other documents (the old permanent residence card does not write the
// century).
func (n Number) BirthDate() (time.Time, bool) {
	if !n.hasGB11643Layout() {
		return time.Time{}, false
	}
	return parseYMD(n.value[6:14])
}

// Sex is read from character 17: odd is male, even is female. For resident
// IDs, residence permits and 2023 permanent residence cards only.
func (n Number) Sex() (Sex, bool) {
	if !n.hasGB11643Layout() {
		return "", false
	}
	c := n.value[16]
	if c < '0' || c > '9' {
		return "", false
	}
	if (c-'0')%2 == 1 {
		return SexMale, true
	}
	return SexFemale, true
}

// Region is the GB/T 2260 address code of a resident ID or residence permit
// (characters 1–6) or of a credit code's registering authority (characters
// 3–8), with its name when the division table knows it. known is false for
// an unknown code (a soft warning, see Warnings) and for other documents,
// where code is "".
func (n Number) Region() (code, name string, known bool) {
	switch n.typ {
	case ResidentID, ResidencePermit:
		if len(n.value) != 18 {
			return "", "", false
		}
		code = n.value[:6]
	case CreditCode:
		if len(n.value) != 18 {
			return "", "", false
		}
		code = n.value[2:8]
	default:
		return "", "", false
	}
	name, known = divisionName(code)
	return code, name, known
}

// Warnings lists the soft findings about a valid number (nil when none).
func (n Number) Warnings() []Warning {
	var ws []Warning
	if code, _, known := n.Region(); code != "" && !known {
		ws = append(ws, WarningUnknownRegion)
	}
	if n.typ == CreditCode && !n.OrganizationCodeValid() {
		ws = append(ws, WarningOrganizationCode)
	}
	return ws
}
