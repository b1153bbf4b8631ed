package identity

import "log/slog"

// DocumentType names the kind of identity document a Number comes from.
type DocumentType string

const (
	ResidentID               DocumentType = "resident_id"                // 居民身份证, GB 11643-1999
	ResidencePermit          DocumentType = "residence_permit"           // 港澳台居民居住证 (810000/820000/830000)
	ForeignPermanentResident DocumentType = "foreign_permanent_resident" // 外国人永久居留身份证 (2023 18-digit or old 15-character)
	HKMacaoPermit            DocumentType = "hk_macao_permit"            // 港澳居民来往内地通行证 (H/M + 8 digits)
	TaiwanPermit             DocumentType = "taiwan_permit"              // 台湾居民来往大陆通行证 (8 digits)
	Passport                 DocumentType = "passport"                   // country + number; never a stable key alone
	CreditCode               DocumentType = "credit_code"                // 统一社会信用代码, GB 32100-2015 (legal persons)
)

// Number is a validated, canonical document number. The zero value is not a
// valid number. Its String and LogValue are masked, so printing or logging a
// Number never reveals it; Value returns the canonical plaintext and must only
// be used to encrypt it, to compute its blind index, or to release it to a
// client with consent.
type Number struct {
	typ   DocumentType
	value string // canonical form (the storage key: e.g. the 9-character stem of an H/M permit)
}

// NewNumberUnchecked builds a Number from an already canonical value, as
// stored. Only storage adapters decrypting a value they wrote may use it.
func NewNumberUnchecked(t DocumentType, canonical string) Number {
	return Number{typ: t, value: canonical}
}

// Type is the document type.
func (n Number) Type() DocumentType { return n.typ }

// Value is the canonical plaintext. Handle with care (see the type doc).
func (n Number) Value() string { return n.value }

// IsZero reports whether n is the zero Number.
func (n Number) IsZero() bool { return n.value == "" }

// String is masked.
func (n Number) String() string { return n.Masked() }

// LogValue is masked, so slog never writes the number.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// GoString is masked too (%#v).
func (n Number) GoString() string { return "identity.Number(" + n.Masked() + ")" }
