package application

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"loandesk/model"
)

// Every limit of Normalize, at the limit and one past it.
func TestNormalize_Limits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		key, in, want string // want "" means refused with code
		code          string
	}{
		{"name", "Al", "Al", ""},
		{"name", "A", "", CodeInvalidFormat},
		{"name", strings.Repeat("a", 100), strings.Repeat("a", 100), ""},
		{"name", strings.Repeat("a", 101), "", CodeTooLong},
		{"city", strings.Repeat("é", 60), strings.Repeat("é", 60), ""}, // runes, not bytes
		{"city", strings.Repeat("é", 61), "", CodeTooLong},
		{"address", "ab", "ab", ""},
		{"address", "a", "", CodeInvalidFormat},
		{"address", strings.Repeat("a", 300), strings.Repeat("a", 300), ""},
		{"address", strings.Repeat("a", 301), "", CodeTooLong},
		{"purpose", "a{", "", CodeInvalidCharacters},
		{"phone", "9000000000", "+91 90000 00000", ""},
		{"phone", "6999999999", "+91 69999 99999", ""},
		{"phone", "919876543210", "+91 98765 43210", ""}, // 12 digits with the country code
		{"phone", "09876543210", "+91 98765 43210", ""},  // 11 with a trunk 0
		{"phone", "819876543210", "", CodeInvalidFormat}, // 12 digits, no 91
		{"phone", "19876543210", "", CodeInvalidFormat},  // 11 digits, no 0
		{"phone", "98765/43210", "", CodeInvalidFormat},  // "/" is no separator
		{"phone", "+91 (98765) 43-210", "+91 98765 43210", ""},
		{"tenureMonths", "1", "1", ""},
		{"tenureMonths", "0", "", CodeInvalidFormat},
		{"tenureMonths", "360", "360", ""},
		{"tenureMonths", "3600", "", CodeTooLong},
		{"annualRate", "0", "0.00", ""},
		{"annualRate", "60", "60.00", ""},
		{"annualRate", "60.00", "60.00", ""},
		{"annualRate", "9.5", "9.50", ""},
		{"annualRate", "09.05", "9.05", ""},
		{"annualRate", "100", "", CodeOutOfRange},
		{"annualRate", "1.", "", CodeOutOfRange},
		{"annualRate", ".5", "", CodeOutOfRange},
		{"amount", "1", "1", ""},
		{"amount", "0.01", "0.01", ""},
		{"amount", "0", "", CodeOutOfRange},
		{"monthlyIncome", "0", "0", ""},
		{"email", "a@b.in", "a@b.in", ""},
		{"email", "a@localhost", "", CodeInvalidFormat},
		{"email", "A@B.IN", "a@b.in", ""},
		{"pan", "abcpv1234k", "ABCPV1234K", ""},
		{"employment", "salaried", "salaried", ""},
		{"employment", "", "", CodeRequired},
	} {
		f, ok := FieldByKey(tc.key)
		if !ok {
			t.Fatalf("no field %s", tc.key)
		}
		got, p := f.Normalize(tc.in, now)
		switch {
		case tc.code == "" && (p != nil || got != tc.want):
			t.Errorf("%s %q = %q, %v; want %q", tc.key, tc.in, got, p, tc.want)
		case tc.code != "" && (p == nil || p.Code != tc.code):
			t.Errorf("%s %q = %q, %v; want code %s", tc.key, tc.in, got, p, tc.code)
		}
	}
}

// The product's limits are inclusive; a home loan needs a property value;
// an individuals-only product needs a PAN whose fourth letter is P, checked
// only when the PAN or the product changes.
func TestCheckTogether_Limits(t *testing.T) {
	t.Parallel()
	personal := func(kv ...string) Values {
		v := Values{"product": "personal", "amount": "50000", "tenureMonths": "12", "annualRate": "10.50", "pan": "ABCPV1234K"}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i]] = kv[i+1]
		}
		return v
	}
	for _, tc := range []struct {
		name    string
		merged  Values
		changed Values
		want    []string // the keys refused
	}{
		{"all at the lower limits", personal(), Values{}, nil},
		{"all at the upper limits", personal("amount", "4000000", "tenureMonths", "60", "annualRate", "24.00"), Values{}, nil},
		{"below", personal("amount", "49999.99", "tenureMonths", "11", "annualRate", "10.49"), Values{}, []string{"amount", "annualRate", "tenureMonths"}},
		{"above", personal("amount", "4000000.01", "tenureMonths", "61", "annualRate", "24.01"), Values{}, []string{"amount", "annualRate", "tenureMonths"}},
		{"a company's PAN, changed", personal("pan", "ABCCV1234K"), Values{"pan": "ABCCV1234K"}, []string{"pan"}},
		{"a company's PAN, product changed", personal("pan", "ABCCV1234K"), Values{"product": "personal"}, []string{"pan"}},
		{"a company's PAN, untouched", personal("pan", "ABCCV1234K"), Values{"city": "Pune"}, nil},
		{"a company's PAN for a business loan", Values{"product": "business", "amount": "100000", "tenureMonths": "12", "annualRate": "14.00", "pan": "ABCCV1234K"}, Values{"pan": "x"}, nil},
		{"home without a value", Values{"product": "home", "amount": "1000000", "tenureMonths": "60", "annualRate": "8.40", "propertyValue": "0"}, Values{}, []string{"propertyValue"}},
		{"home with a value", Values{"product": "home", "amount": "1000000", "tenureMonths": "60", "annualRate": "8.40", "propertyValue": "2000000"}, Values{}, nil},
		{"no such product", Values{"product": "yacht", "amount": "1"}, Values{}, nil},
	} {
		errs := CheckTogether(tc.merged, tc.changed)
		var got []string
		for _, k := range []string{"amount", "annualRate", "pan", "propertyValue", "tenureMonths"} {
			if _, ok := errs[k]; ok {
				got = append(got, k)
			}
		}
		if len(errs) != len(got) || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: refused %v (%v), want %v", tc.name, got, errs, tc.want)
		}
	}
}

// ValuesOf gives every field's canonical text, and Apply reads it back.
func TestValuesOf_EveryField(t *testing.T) {
	t.Parallel()
	l := model.Loan{
		Applicant: model.Applicant{Name: "Asha Verma", Email: "asha@example.com", Phone: "+91 98765 43210", PAN: "ABCPV1234K",
			DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Address: "12, MG Road", City: "Pune", Employment: "salaried",
			MonthlyIncome: 85_000_50, ExistingEMIs: 0},
		Terms: model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"},
	}
	want := Values{"name": "Asha Verma", "email": "asha@example.com", "phone": "+91 98765 43210", "pan": "ABCPV1234K",
		"dateOfBirth": "1990-05-17", "address": "12, MG Road", "city": "Pune", "employment": "salaried", "monthlyIncome": "85000.50",
		"existingEmis": "0", "product": "personal", "amount": "500000", "tenureMonths": "36", "annualRate": "11.50", "purpose": "Wedding",
		"propertyValue": "0"}
	got := ValuesOf(l)
	if !maps.Equal(got, want) {
		t.Fatalf("ValuesOf = %v\nwant       %v", got, want)
	}
	var back model.Loan
	if err := Apply(&back, got); err != nil || !reflect.DeepEqual(back, l) {
		t.Fatalf("Apply(ValuesOf) = %+v, %v", back, err)
	}
	if v := ValuesOf(model.Loan{}); v["dateOfBirth"] != "" || v["annualRate"] != "0.00" || v["tenureMonths"] != "0" {
		t.Fatalf("empty loan: %v", v)
	}
}
