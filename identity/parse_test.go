package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed "today" for birth-date checks.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name      string
		typ       DocumentType
		raw       string
		wantType  DocumentType
		wantValue string
	}{
		// DOMAIN.md §1
		{"annex A example, female, X", ResidentID, "11010519491231002X", ResidentID, "11010519491231002X"},
		{"annex A historic code 440524", ResidentID, "440524188001010014", ResidentID, "440524188001010014"},
		{"worked example, code in no MCA list", ResidentID, "34052419800101001X", ResidentID, "34052419800101001X"},
		{"leap day 2000", ResidentID, "110101200002290026", ResidentID, "110101200002290026"},
		{"converted from 15 digits", ResidentID, "440524198001010013", ResidentID, "440524198001010013"},
		{"15 digits converted", ResidentID, "440524800101001", ResidentID, "440524198001010013"},
		{"annex 15 digits converted to X", ResidentID, "110105491231002", ResidentID, "11010519491231002X"},
		{"lower-case x and spaces", ResidentID, "  11010519491231002x\t", ResidentID, "11010519491231002X"},
		// DOMAIN.md §2
		{"residence permit HK", ResidencePermit, "810000199001010019", ResidencePermit, "810000199001010019"},
		{"residence permit Macao", ResidencePermit, "820000199001010010", ResidencePermit, "820000199001010010"},
		{"residence permit Taiwan", ResidencePermit, "830000198512310020", ResidencePermit, "830000198512310020"},
		{"residence permit typed as ID card", ResidentID, "810000199001010019", ResidencePermit, "810000199001010019"},
		{"2023 permanent residence card USA", ForeignPermanentResident, "911840199001010034", ForeignPermanentResident, "911840199001010034"},
		{"2023 permanent residence card KAZ", ForeignPermanentResident, "911398199012310021", ForeignPermanentResident, "911398199012310021"},
		{"old permanent residence card USA", ForeignPermanentResident, "USA110090010114", ForeignPermanentResident, "USA110090010114"},
		{"old permanent residence card JPN", ForeignPermanentResident, "JPN310185123120", ForeignPermanentResident, "JPN310185123120"},
		{"old permanent residence card KAZ", ForeignPermanentResident, "KAZ110090123105", ForeignPermanentResident, "KAZ110090123105"},
		{"old card lower case", ForeignPermanentResident, "usa110090010114", ForeignPermanentResident, "USA110090010114"},
		{"HK permit stem", HKMacaoPermit, "H12345678", HKMacaoPermit, "H12345678"},
		{"Macao permit with renewal count", HKMacaoPermit, "m1234567801", HKMacaoPermit, "M12345678"},
		{"Taiwan permit", TaiwanPermit, "12345678", TaiwanPermit, "12345678"},
		{"Taiwan permit legacy", TaiwanPermit, "1234567801", TaiwanPermit, "12345678"},
		{"Taiwan permit legacy with office", TaiwanPermit, "1234567801(b)", TaiwanPermit, "12345678"},
		{"passport", Passport, "chn:e12345678", Passport, "CHN:E12345678"},
		{"passport 5 characters", Passport, "DEU:C01X0", Passport, "DEU:C01X0"},
		{"credit code worked example", CreditCode, "91350100M000100Y43", CreditCode, "91350100M000100Y43"},
		{"credit code all digits", CreditCode, "914403001922038216", CreditCode, "914403001922038216"},
		{"credit code T", CreditCode, "91440300708461136T", CreditCode, "91440300708461136T"},
		{"credit code B", CreditCode, "91330100799655058B", CreditCode, "91330100799655058B"},
		{"credit code 机关", CreditCode, "11320000MB151840XJ", CreditCode, "11320000MB151840XJ"},
		{"credit code L", CreditCode, "91110000600037341L", CreditCode, "91110000600037341L"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseAt(tt.typ, tt.raw, testNow)
			if err != nil {
				t.Fatalf("ParseAt(%s) error: %v", tt.typ, err)
			}
			if n.Type() != tt.wantType || n.Value() != tt.wantValue {
				t.Fatalf("got %s %q, want %s %q", n.Type(), n.Value(), tt.wantType, tt.wantValue)
			}
			if tt.typ != Passport {
				m, err := ParseAnyAt(tt.raw, testNow)
				if err != nil {
					t.Fatalf("ParseAnyAt error: %v", err)
				}
				if m != n {
					t.Fatalf("ParseAnyAt = %s %q, want %s %q", m.Type(), m.Value(), n.Type(), n.Value())
				}
			}
			if tt.typ == CreditCode && !n.OrganizationCodeValid() {
				t.Errorf("inner GB 11714 check fails, DOMAIN says both checks pass")
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name     string
		typ      DocumentType
		raw      string
		wantPart Part
		wantMsg  string // substring of the English message, optional
	}{
		// DOMAIN.md §1: each breaks one rule only.
		{"wrong check, X expected", ResidentID, "110105194912310021", PartCheck, "ID number: the last character should be X"},
		{"1900-02-29", ResidentID, "110105190002290017", PartBirthDate, "ID number: the birth date does not exist"},
		{"month 13", ResidentID, "11010519491331002X", PartBirthDate, "does not exist"},
		{"Y outside the set", ResidentID, "11010519491231002Y", PartCharacters, "character 18 is not allowed"},
		{"16 characters", ResidentID, "1101051949123100", PartLength, "ID number: 16 characters, want 18"},
		{"province 00", ResidentID, "000000199001010018", PartRegion, "province"},
		{"future birth date", ResidentID, "110105209912310010", PartBirthDate, "in the future"},
		{"before 1800", ResidentID, withCheck("11010517991231001"), PartBirthDate, "before the year 1800"},
		{"province 83 is only for permits", ResidentID, withCheck("83010519491231002"), PartRegion, ""},
		{"full-width digits", ResidentID, "１１０１０５１９４９１２３１００２Ｘ", PartCharacters, "full-width"},
		{"empty", ResidentID, "   ", PartLength, "missing"},
		{"letter inside", ResidentID, "1101051949A231002X", PartCharacters, "character 11"},
		{"15 digits with a letter", ResidentID, "11010549123100X", PartCharacters, ""},
		{"15 digits converted, bad date", ResidentID, "110105491331002", PartBirthDate, ""},
		// DOMAIN.md §2
		{"permit without permit code", ResidencePermit, "11010519491231002X", PartRegion, "810000"},
		{"permit bad check", ResidencePermit, "810000199001010018", PartCheck, "should be 9"},
		{"2023 card bad check", ForeignPermanentResident, "911398199012310022", PartCheck, "should be 1"},
		{"2023 card not starting with 9", ForeignPermanentResident, "11010519491231002X", PartFormat, ""},
		{"2023 card province 00", ForeignPermanentResident, withCheck("90084019900101003"), PartRegion, ""},
		{"old card bad check", ForeignPermanentResident, "KAZ110090123107", PartCheck, "should be 5"},
		{"old card bad date", ForeignPermanentResident, "USA110090130114", PartBirthDate, ""},
		{"old card digit in letters", ForeignPermanentResident, "US1110090010114", PartCharacters, "character 3"},
		{"card 16 characters", ForeignPermanentResident, "USA1100900101145", PartLength, "want 18 or 15"},
		{"credit code bad check", CreditCode, "91350100M000100Y44", PartCheck, "should be 3"},
		{"credit code Z", CreditCode, "91350100M000100Y4Z", PartCharacters, "character 18"},
		{"credit code I", CreditCode, "91350100M000I00Y43", PartCharacters, "character 13"},
		{"credit code O in region", CreditCode, "9135O100M000100Y43", PartCharacters, "character 5"},
		{"credit code letter in region", CreditCode, "9135A100M000100Y43", PartRegion, ""},
		{"credit code 17 characters", CreditCode, "91350100M000100Y4", PartLength, "17 characters, want 18"},
		{"HK permit letter", HKMacaoPermit, "X12345678", PartCharacters, "H (Hong Kong)"},
		{"HK permit 10 characters", HKMacaoPermit, "H123456789", PartLength, "want 9 or 11"},
		{"HK permit letter in digits", HKMacaoPermit, "H1234567A", PartCharacters, ""},
		{"Taiwan 7 digits", TaiwanPermit, "1234567", PartLength, "want 8"},
		{"Taiwan letter", TaiwanPermit, "1234567A", PartCharacters, ""},
		{"Taiwan bad office", TaiwanPermit, "1234567801[B]", PartFormat, ""},
		{"passport without country", Passport, "E12345678", PartFormat, "such as CHN"},
		{"passport bad country", Passport, "C1N:E12345678", PartFormat, ""},
		{"passport short", Passport, "CHN:E123", PartLength, "4 characters, want 5 to 17"},
		{"passport symbol", Passport, "CHN:E1234-678", PartCharacters, "character 6"},
		{"unknown type", DocumentType("driving_licence"), "12345678", PartFormat, "unknown document type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAt(tt.typ, tt.raw, testNow)
			var ne *NumberError
			if !errors.As(err, &ne) {
				t.Fatalf("error = %v, want *NumberError", err)
			}
			if ne.Part != tt.wantPart {
				t.Fatalf("Part = %q, want %q (%v)", ne.Part, tt.wantPart, err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tt.wantMsg)
			}
			assertNoLeak(t, tt.raw, ne)
		})
	}
}

func TestParseAnyRecognises(t *testing.T) {
	tests := []struct {
		raw      string
		wantType DocumentType
		wantPart Part // for failures
	}{
		{"11010519491231002X", ResidentID, ""},
		{"110105491231002", ResidentID, ""},
		{"820000199001010010", ResidencePermit, ""},
		{"911840199001010034", ForeignPermanentResident, ""},
		{"JPN310185123120", ForeignPermanentResident, ""},
		{"H12345678", HKMacaoPermit, ""},
		{"M1234567802", HKMacaoPermit, ""},
		{"12345678", TaiwanPermit, ""},
		{"1234567801(B)", TaiwanPermit, ""},
		{"91350100M000100Y43", CreditCode, ""},
		{"914403001922038216", CreditCode, ""}, // 9…, fails as a 2023 card on its date
		// failures report the most likely document
		{"110105194912310021", ResidentID, PartCheck},
		{"11010519491231002Y", ResidentID, PartCharacters},
		{"1101051949123100", ResidentID, PartLength},
		{"000000199001010018", ResidentID, PartRegion},
		{"911398199012310022", ForeignPermanentResident, PartCheck},
		{"KAZ110090123107", ForeignPermanentResident, PartCheck},
		{"91350100M000100Y4Z", CreditCode, PartCharacters},
		{"91350100M000100Y4", CreditCode, PartLength},
		{"H1234567", HKMacaoPermit, PartLength},
		{"E12345678", ResidentID, PartLength}, // passports are never recognised
		{"", ResidentID, PartLength},
		{"１１０", ResidentID, PartCharacters},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			n, err := ParseAnyAt(tt.raw, testNow)
			if tt.wantPart == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if n.Type() != tt.wantType {
					t.Fatalf("Type = %s, want %s", n.Type(), tt.wantType)
				}
				return
			}
			var ne *NumberError
			if !errors.As(err, &ne) {
				t.Fatalf("error = %v (%s), want *NumberError", err, n.Type())
			}
			if ne.Type != tt.wantType || ne.Part != tt.wantPart {
				t.Fatalf("error Type/Part = %s/%s, want %s/%s", ne.Type, ne.Part, tt.wantType, tt.wantPart)
			}
		})
	}
}

func TestParseUsesNow(t *testing.T) {
	raw := withCheck("11010520270101001")
	if _, err := ParseAt(ResidentID, raw, testNow); err == nil {
		t.Fatal("a 2027 birth date passed in 2026")
	}
	if _, err := ParseAt(ResidentID, raw, time.Date(2027, 1, 1, 0, 0, 0, 0, chinaTime)); err != nil {
		t.Fatalf("born today (UTC+8) refused: %v", err)
	}
	// 2026-12-31 16:00 UTC is already 2027-01-01 in China.
	if _, err := ParseAt(ResidentID, raw, time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("birth date compared in UTC, not UTC+8: %v", err)
	}
}

func TestNumberErrorLocalize(t *testing.T) {
	_, err := ParseAt(ResidentID, "110105194912310021", testNow)
	var ne *NumberError
	if !errors.As(err, &ne) {
		t.Fatal(err)
	}
	if got, want := ne.Localize("zh-CN"), "身份证号码：最后一位校验码应为 X"; got != want {
		t.Errorf("zh-CN = %q, want %q", got, want)
	}
	if got := ne.Localize(""); got != ne.Localize("zh-CN") {
		t.Errorf("default is not zh-CN: %q", got)
	}
	if got, want := ne.Localize("en-GB"), "ID number: the last character should be X"; got != want {
		t.Errorf("en = %q, want %q", got, want)
	}
	_, err = ParseAt(ResidentID, "1101051949123100", testNow)
	if errors.As(err, &ne); ne.Localize("zh") != "身份证号码：共 16 位，应为 18 位" {
		t.Errorf("zh length = %q", ne.Localize("zh"))
	}
	// every Part/Detail/Type combination renders something in both languages
	for _, typ := range []DocumentType{ResidentID, ResidencePermit, ForeignPermanentResident, HKMacaoPermit, TaiwanPermit, Passport, CreditCode, "x"} {
		for _, p := range []Part{PartLength, PartCharacters, PartRegion, PartBirthDate, PartCheck, PartFormat} {
			for _, d := range []Detail{DetailNone, DetailEmpty, DetailFullWidth, DetailBadChar, DetailNoSuchDate, DetailFuture, DetailTooEarly, DetailNoProvince, DetailNotPermit, DetailRegionChars, DetailCountry, DetailUnknownType} {
				e := &NumberError{Type: typ, Part: p, Detail: d, Pos: 3, Got: 5, Want: "18"}
				if strings.HasSuffix(e.Error(), ": ") || strings.HasSuffix(e.Localize("zh"), "：") {
					t.Errorf("empty message for %s/%s/%s", typ, p, d)
				}
			}
		}
	}
}

func TestDerivedFacts(t *testing.T) {
	n := mustParse(t, ResidentID, "11010519491231002X")
	if d, ok := n.BirthDate(); !ok || !d.Equal(time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BirthDate = %v, %v", d, ok)
	}
	if s, ok := n.Sex(); !ok || s != SexFemale {
		t.Errorf("Sex = %v, %v; want female", s, ok)
	}
	if code, name, known := n.Region(); code != "110105" || name != "朝阳区" || !known {
		t.Errorf("Region = %q %q %v", code, name, known)
	}
	if w := n.Warnings(); w != nil {
		t.Errorf("Warnings = %v", w)
	}

	male := mustParse(t, ResidentID, "34052419800101001X")
	if s, _ := male.Sex(); s != SexMale {
		t.Errorf("Sex = %v, want male", s)
	}
	if code, _, known := male.Region(); code != "340524" || known {
		t.Errorf("Region = %q known=%v, want 340524 unknown", code, known)
	}
	if w := male.Warnings(); len(w) != 1 || w[0] != WarningUnknownRegion {
		t.Errorf("Warnings = %v, want unknown_region", w)
	}

	historic := mustParse(t, ResidentID, "440524188001010014")
	if _, name, known := historic.Region(); !known || name != "潮阳县" {
		t.Errorf("historic code: %q %v", name, known)
	}

	hk := mustParse(t, ResidencePermit, "810000199001010019")
	if _, name, known := hk.Region(); !known || name != "香港特别行政区" {
		t.Errorf("permit region: %q %v", name, known)
	}

	fpr := mustParse(t, ForeignPermanentResident, "911840199001010034")
	if d, ok := fpr.BirthDate(); !ok || d.Year() != 1990 {
		t.Errorf("2023 card BirthDate = %v %v", d, ok)
	}
	if s, ok := fpr.Sex(); !ok || s != SexMale {
		t.Errorf("2023 card Sex = %v %v", s, ok)
	}
	if code, _, _ := fpr.Region(); code != "" {
		t.Errorf("2023 card Region = %q, want none", code)
	}

	for _, n := range []Number{mustParse(t, HKMacaoPermit, "H12345678"), mustParse(t, ForeignPermanentResident, "USA110090010114"), {}} {
		if _, ok := n.BirthDate(); ok {
			t.Errorf("%s has a BirthDate", n.Type())
		}
		if _, ok := n.Sex(); ok {
			t.Errorf("%s has a Sex", n.Type())
		}
	}

	cc := mustParse(t, CreditCode, "91350100M000100Y43")
	if code, _, known := cc.Region(); code != "350100" || !known {
		t.Errorf("credit code Region = %q %v", code, known)
	}
	// DOMAIN: these fail the inner check (and the outer one); build codes with a
	// valid outer check and a failing inner check to see the warning.
	bad := "91350100M000100Y5"
	bad += string(creditCheck(bad))
	if n := mustParse(t, CreditCode, bad); n.OrganizationCodeValid() || len(n.Warnings()) != 1 || n.Warnings()[0] != WarningOrganizationCode {
		t.Errorf("inner check not reported: %v", n.Warnings())
	}
	if WarningUnknownRegion.Localize("en") == WarningUnknownRegion.Localize("zh") {
		t.Error("warning not localized")
	}
}

func TestDivisionTable(t *testing.T) {
	if len(divisions) < 6000 {
		t.Fatalf("%d codes, want the ~6,678 of the CSV", len(divisions))
	}
	for i := 1; i < len(divisions); i++ {
		if divisions[i-1].code >= divisions[i].code {
			t.Fatalf("not sorted at %d", i)
		}
	}
	for _, c := range []string{"110101", "810000", "820000", "830000", "440524"} {
		if _, ok := divisionName(c); !ok {
			t.Errorf("%s missing", c)
		}
	}
	for _, c := range []string{"340524", "000000", "11010", "abcdef", "999999"} {
		if _, ok := divisionName(c); ok {
			t.Errorf("%s found", c)
		}
	}
}

func TestMasked(t *testing.T) {
	tests := []struct {
		n    Number
		want string
	}{
		{NewNumberUnchecked(ResidentID, "11010519491231002X"), "110***********002X"},
		{NewNumberUnchecked(ForeignPermanentResident, "USA110090010114"), "USA**********14"},
		{NewNumberUnchecked(HKMacaoPermit, "H12345678"), "H*****678"},
		{NewNumberUnchecked(TaiwanPermit, "12345678"), "1****678"},
		{NewNumberUnchecked(Passport, "CHN:E12345678"), "CHN:E*****678"},
		{NewNumberUnchecked(CreditCode, "91350100M000100Y43"), "913***********0Y43"},
		{NewNumberUnchecked(Passport, "CHN:E1234"), "CHN:*****"},
		{Number{}, ""},
	}
	for _, tt := range tests {
		if got := tt.n.Masked(); got != tt.want {
			t.Errorf("Masked(%s) = %q, want %q", tt.n.Type(), got, tt.want)
		}
		if tt.n.String() != tt.want || tt.n.LogValue().String() != tt.want {
			t.Errorf("String/LogValue not masked for %s", tt.n.Type())
		}
	}
	// The birth date (characters 7–14) never shows.
	n := NewNumberUnchecked(ResidentID, "11010519491231002X")
	if strings.Contains(n.Masked(), "1949") || strings.Contains(n.Masked(), "1231") {
		t.Error("birth date visible")
	}
}

// withCheck appends the MOD 11-2 check character to a 17-digit body.
func withCheck(body string) string { return body + string(mod112Check(body)) }

func mustParse(t *testing.T, typ DocumentType, raw string) Number {
	t.Helper()
	n, err := ParseAt(typ, raw, testNow)
	if err != nil {
		t.Fatalf("ParseAt(%s): %v", typ, err)
	}
	return n
}

// assertNoLeak fails if any message of err repeats 5 or more consecutive
// digits of raw, or raw itself. The residence permit codes are fixed text
// in one message, so they are left out of the comparison.
func assertNoLeak(t testing.TB, raw string, err *NumberError) {
	t.Helper()
	constants := strings.NewReplacer("810000", "", "820000", "", "830000", "")
	for _, msg := range []string{err.Error(), err.Localize("en"), err.Localize("zh-CN")} {
		msg = constants.Replace(msg)
		if s := strings.TrimSpace(raw); len(s) >= 8 && strings.Contains(strings.ToUpper(msg), strings.ToUpper(s)) {
			t.Fatalf("message %q contains the input", msg)
		}
		for _, run := range digitRuns(raw) {
			for i := 0; i+5 <= len(run); i++ {
				if strings.Contains(msg, run[i:i+5]) {
					t.Fatalf("message %q repeats digits %q of the input", msg, run[i:i+5])
				}
			}
		}
	}
}

func digitRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			runs = append(runs, s[start:i])
			start = -1
		}
	}
	return runs
}

func TestDivisionNameHigherLevels(t *testing.T) {
	tests := []struct {
		code      string
		wantName  string
		wantKnown bool
	}{
		{"350000", "福建省", true},
		{"350100", "", true},  // 福州市: counties 3501xx exist
		{"359900", "", false}, // no counties under it
		{"990000", "", false},
		{"110105", "朝阳区", true},
	}
	for _, tt := range tests {
		name, known := divisionName(tt.code)
		if name != tt.wantName || known != tt.wantKnown {
			t.Errorf("divisionName(%s) = %q %v, want %q %v", tt.code, name, known, tt.wantName, tt.wantKnown)
		}
	}
}
