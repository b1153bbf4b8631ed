package identity

import (
	"fmt"
	"strings"
)

// Part names which part of a document number is wrong. The web layer maps it
// to a message; tests assert on it.
type Part string

const (
	PartLength     Part = "length"     // too short, too long or empty
	PartCharacters Part = "characters" // a character outside the allowed set (or full-width)
	PartRegion     Part = "region"     // province / address code (GB/T 2260 prefix)
	PartBirthDate  Part = "birth_date" // not a calendar date, in the future, before 1800
	PartCheck      Part = "check"      // the check character does not match
	PartFormat     Part = "format"     // the overall shape (permits, passports, unknown type)

	// PartProvince is another name for PartRegion.
	PartProvince = PartRegion
)

// Detail refines a Part. It is stable and machine readable.
type Detail string

const (
	DetailNone        Detail = ""
	DetailEmpty       Detail = "empty"        // nothing was typed
	DetailFullWidth   Detail = "full_width"   // full-width digits or letters (０-９, Ｘ)
	DetailBadChar     Detail = "bad_char"     // character at Pos is not allowed
	DetailNoSuchDate  Detail = "no_such_date" // e.g. 1900-02-29, month 13
	DetailFuture      Detail = "future"       // birth date after today
	DetailTooEarly    Detail = "too_early"    // birth date before 1800
	DetailNoProvince  Detail = "no_province"  // the two-digit province prefix does not exist
	DetailNotPermit   Detail = "not_permit"   // residence permit without 810000/820000/830000
	DetailRegionChars Detail = "region_chars" // credit code: characters 3–8 must be digits
	DetailCountry     Detail = "country"      // passport: missing or malformed country code
	DetailUnknownType Detail = "unknown_type" // Parse was given a DocumentType it does not know
)

// NumberError says which part of a document number is wrong. It never holds
// or prints the number itself, nor any run of its digits (the birth date in
// particular), so it may be logged. Callers use errors.As.
type NumberError struct {
	Type   DocumentType
	Part   Part
	Detail Detail
	Pos    int    // 1-based position of the offending character (PartCharacters), else 0
	Got    int    // number of characters given (PartLength)
	Want   string // PartLength: the accepted lengths ("18"); PartCheck: the expected check character
}

func (e *NumberError) Error() string { return e.message(false) }

// Localize returns the message in the citizen's language: "en…" gives
// English, anything else (the default) Simplified Chinese.
func (e *NumberError) Localize(lang string) string { return e.message(!isEnglish(lang)) }

func isEnglish(lang string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "en")
}

func (e *NumberError) message(zh bool) string {
	name := documentName(e.Type, zh)
	if zh {
		return name + "：" + e.zh()
	}
	return name + ": " + e.en()
}

func (e *NumberError) en() string {
	switch e.Part {
	case PartLength:
		if e.Detail == DetailEmpty || e.Got == 0 {
			return "missing"
		}
		return fmt.Sprintf("%d characters, want %s", e.Got, e.Want)
	case PartCharacters:
		if e.Detail == DetailFullWidth {
			return "contains full-width characters; type half-width digits 0-9 and letters A-Z"
		}
		return fmt.Sprintf("character %d is not allowed; %s", e.Pos, allowedEN(e.Type, e.Pos))
	case PartRegion:
		switch e.Detail {
		case DetailNotPermit:
			return "should start with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)"
		case DetailRegionChars:
			return "characters 3 to 8 (the region code) must be digits"
		}
		return "the region code (first digits) does not name a province"
	case PartBirthDate:
		switch e.Detail {
		case DetailFuture:
			return "the birth date is in the future"
		case DetailTooEarly:
			return "the birth date is before the year 1800"
		}
		return "the birth date does not exist"
	case PartCheck:
		if e.Want != "" {
			return "the last character should be " + e.Want
		}
		return "the check character does not match"
	}
	switch e.Detail {
	case DetailUnknownType:
		return "unknown document type"
	case DetailCountry:
		return "write the issuing country as 3 letters (such as CHN), a colon, then the number"
	}
	return "not in the expected format; " + formatEN(e.Type)
}

func (e *NumberError) zh() string {
	switch e.Part {
	case PartLength:
		if e.Detail == DetailEmpty || e.Got == 0 {
			return "未填写"
		}
		return fmt.Sprintf("共 %d 位，应为 %s 位", e.Got, strings.NewReplacer(" or ", " 或 ", " to ", " 至 ").Replace(e.Want))
	case PartCharacters:
		if e.Detail == DetailFullWidth {
			return "含有全角字符，请使用半角数字 0-9 和字母 A-Z"
		}
		return fmt.Sprintf("第 %d 位字符无效，%s", e.Pos, allowedZH(e.Type, e.Pos))
	case PartRegion:
		switch e.Detail {
		case DetailNotPermit:
			return "应以 810000（香港）、820000（澳门）或 830000（台湾）开头"
		case DetailRegionChars:
			return "第 3 至 8 位（登记管理机关行政区划码）应为数字"
		}
		return "开头的行政区划代码不对应任何省份"
	case PartBirthDate:
		switch e.Detail {
		case DetailFuture:
			return "出生日期晚于今天"
		case DetailTooEarly:
			return "出生日期早于 1800 年"
		}
		return "出生日期不存在"
	case PartCheck:
		if e.Want != "" {
			return "最后一位校验码应为 " + e.Want
		}
		return "校验码不正确"
	}
	switch e.Detail {
	case DetailUnknownType:
		return "证件类型未知"
	case DetailCountry:
		return "请填写 3 位字母的签发国代码（如 CHN）、英文冒号和护照号码"
	}
	return "格式不正确，" + formatZH(e.Type)
}

func documentName(t DocumentType, zh bool) string {
	type names struct{ en, zh string }
	n, ok := map[DocumentType]names{
		ResidentID:               {"ID number", "身份证号码"},
		ResidencePermit:          {"residence permit number", "居住证号码"},
		ForeignPermanentResident: {"permanent residence card number", "永久居留身份证号码"},
		HKMacaoPermit:            {"Mainland travel permit number", "港澳居民来往内地通行证号码"},
		TaiwanPermit:             {"Taiwan compatriot permit number", "台湾居民来往大陆通行证号码"},
		Passport:                 {"passport number", "护照号码"},
		CreditCode:               {"unified social credit code", "统一社会信用代码"},
	}[t]
	if !ok {
		n = names{"document number", "证件号码"}
	}
	if zh {
		return n.zh
	}
	return n.en
}

func allowedEN(t DocumentType, pos int) string {
	switch t {
	case ResidentID, ResidencePermit:
		if pos == 18 {
			return "the last character is a digit or X"
		}
		return "use digits only"
	case ForeignPermanentResident:
		if pos >= 1 && pos <= 3 {
			return "the old card starts with 3 letters"
		}
		if pos == 18 {
			return "the last character is a digit or X"
		}
		return "use digits"
	case CreditCode:
		return "letters I, O, S, V and Z are never used"
	case HKMacaoPermit:
		if pos == 1 {
			return "the first character is H (Hong Kong) or M (Macao)"
		}
		return "use digits after the first letter"
	case TaiwanPermit:
		return "use digits"
	}
	return "use letters and digits only"
}

func allowedZH(t DocumentType, pos int) string {
	switch t {
	case ResidentID, ResidencePermit:
		if pos == 18 {
			return "最后一位只能是数字或 X"
		}
		return "只能是数字"
	case ForeignPermanentResident:
		if pos >= 1 && pos <= 3 {
			return "旧版证件以 3 位字母开头"
		}
		if pos == 18 {
			return "最后一位只能是数字或 X"
		}
		return "应为数字"
	case CreditCode:
		return "不使用字母 I、O、S、V、Z"
	case HKMacaoPermit:
		if pos == 1 {
			return "第一位应为 H（香港）或 M（澳门）"
		}
		return "首字母后应为数字"
	case TaiwanPermit:
		return "应为数字"
	}
	return "只能是字母和数字"
}

func formatEN(t DocumentType) string {
	switch t {
	case HKMacaoPermit:
		return "want H or M followed by 8 digits (optionally 2 more for the renewal count)"
	case TaiwanPermit:
		return "want 8 digits"
	case ForeignPermanentResident:
		return "the 2023 card has 18 digits starting with 9, the older card 3 letters and 12 digits"
	case Passport:
		return "want 5 to 17 letters and digits after the country code"
	}
	return "check the number"
}

func formatZH(t DocumentType) string {
	switch t {
	case HKMacaoPermit:
		return "应为 H 或 M 加 8 位数字（可另加 2 位换证次数）"
	case TaiwanPermit:
		return "应为 8 位数字"
	case ForeignPermanentResident:
		return "2023 版为以 9 开头的 18 位数字，旧版为 3 位字母加 12 位数字"
	case Passport:
		return "签发国代码后应为 5 至 17 位字母和数字"
	}
	return "请核对号码"
}
