package identity

import (
	"errors"
	"testing"
)

var fuzzTypes = []DocumentType{ResidentID, ResidencePermit, ForeignPermanentResident, HKMacaoPermit, TaiwanPermit, Passport, CreditCode}

func fuzzSeeds(f *testing.F) []string {
	seeds := []string{
		"11010519491231002X", "440524188001010014", "34052419800101001X", "110101200002290026",
		"110105194912310021", "110105190002290017", "11010519491331002X", "11010519491231002Y",
		"1101051949123100", "000000199001010018", "110105209912310010", "440524800101001",
		"810000199001010019", "830000198512310020", "911840199001010034", "911398199012310022",
		"USA110090010114", "KAZ110090123107", "H12345678", "M1234567801", "12345678",
		"1234567801(B)", "CHN:E12345678", "91350100M000100Y43", "91350100M000100Y4Z",
		"914403001922038216", "１１０１０５", "", " ", "x", "\x00\xff", "9135O100M000100Y43",
	}
	return seeds
}

// checkParsed is the property every parser result must have: a success
// round-trips through Parse(n.Type(), n.Value()), and an error is a
// *NumberError whose messages never repeat the input.
func checkParsed(t *testing.T, raw string, n Number, err error) {
	if err != nil {
		var ne *NumberError
		if !errors.As(err, &ne) {
			t.Fatalf("error %T is not a *NumberError", err)
		}
		if ne.Part == "" {
			t.Fatalf("error without a Part")
		}
		assertNoLeak(t, raw, ne)
		return
	}
	if n.IsZero() || n.Type() == "" {
		t.Fatalf("success with a zero Number")
	}
	again, err := ParseAt(n.Type(), n.Value(), testNow)
	if err != nil {
		t.Fatalf("canonical %s value does not parse again: %v", n.Type(), err)
	}
	if again != n {
		t.Fatalf("round trip changed the number: %s -> %s", n.Type(), again.Type())
	}
	_ = n.Masked()
	_, _ = n.BirthDate()
	_, _ = n.Sex()
	_, _, _ = n.Region()
	_ = n.Warnings()
}

func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, typ uint8, raw string) {
		n, err := ParseAt(fuzzTypes[int(typ)%len(fuzzTypes)], raw, testNow)
		checkParsed(t, raw, n, err)
	})
}

func FuzzParseAny(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := ParseAnyAt(raw, testNow)
		checkParsed(t, raw, n, err)
		if err == nil && n.Type() == Passport {
			t.Fatal("ParseAny recognised a passport")
		}
	})
}
