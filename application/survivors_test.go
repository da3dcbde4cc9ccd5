package application

import (
	"reflect"
	"testing"
	"time"

	"loandesk/model"
)

// isASCII is byte-exact at the edge of ASCII: 0x7f is, 0x80 is not (a
// byte that is not UTF-8 on its own, which Normalize refuses before it
// reaches isASCII, but the helper must not depend on that).
func TestIsASCII(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true},
		{"ABC123", true},
		{"\x7f", true},
		{"\x80", false},
		{"AB\x80", false},
		{"ı", false},
	} {
		if got := isASCII(tc.in); got != tc.want {
			t.Errorf("isASCII(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// longestTenure counts down to a single instalment: born 1 February
// 1966, first due 15 January 2026 (aged 59), the second due on 15
// February (aged 60), so under a cap of 59 only one month fits.
func TestLongestTenure_DownToOneMonth(t *testing.T) {
	t.Parallel()
	dob := time.Date(1966, 2, 1, 0, 0, 0, 0, time.UTC)
	first := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ asked, ageCap, want int }{
		{12, 59, 1},
		{1, 59, 1},
		{12, 58, 0}, // already 59 at the first instalment
		{12, 60, 12},
		{0, 60, 0},
	} {
		if got := longestTenure(dob, first, tc.asked, tc.ageCap); got != tc.want {
			t.Errorf("longestTenure(asked %d, cap %d) = %d, want %d", tc.asked, tc.ageCap, got, tc.want)
		}
	}
}

// No tenure, or no amount, is the empty schedule itself (no rows, no
// EMI, no totals), not a schedule of zero rows.
func TestRepaymentSchedule_NothingToRepayIsTheZeroSchedule(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		amount int64
		months int
	}{{1_00_000_00, 0}, {1_00_000_00, -1}, {0, 12}, {-1, 12}} {
		if s := RepaymentSchedule(tc.amount, tc.months, 1050, first); !reflect.DeepEqual(s, Schedule{}) {
			t.Errorf("RepaymentSchedule(%d, %d months) = %+v, want Schedule{}", tc.amount, tc.months, s)
		}
	}
}

// Display renders each kind of field for people, and leaves what it
// cannot read as it is.
func TestDisplay_EachKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, canonical, want string }{
		{"amount", "500000", "₹5,00,000"},
		{"amount", "1234.5", "₹1,234.50"},
		{"amount", "lots", "lots"},
		{"annualRate", "10.50", "10.50%"},
		{"tenureMonths", "60", "60 months"},
		{"tenureMonths", "sixty", "sixty"},
		{"dateOfBirth", "1990-04-01", "01 Apr 1990"},
		{"dateOfBirth", "01/04/1990", "01/04/1990"},
		{"employment", "salaried", "Salaried"},
		{"employment", "retired", "retired"},
		{"product", "consumer", "Consumer durable (no-cost EMI)"},
		{"name", "Asha Iyer", "Asha Iyer"},
		{"status", "under_review", StatusLabels["under_review"]},
		{"status", "lost", "lost"},
		{"assignee", "uw@example.com", "uw@example.com"},
	} {
		if got := Display(tc.key, tc.canonical); got != tc.want {
			t.Errorf("Display(%q, %q) = %q, want %q", tc.key, tc.canonical, got, tc.want)
		}
	}
	if StatusLabels["under_review"] == "" || StatusLabels["under_review"] == "under_review" {
		t.Fatalf("no label for under_review: %q", StatusLabels["under_review"])
	}
}

// Each section lists its own fields in page order; only dateOfBirth is a
// date, and the choice fields are employment and product.
func TestSectionFields_AndKinds(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, s := range Sections {
		for _, f := range SectionFields(s) {
			if f.Section != s {
				t.Errorf("%s listed under %s", f.Key, s)
			}
			keys = append(keys, f.Key)
			if f.IsDate() != (f.Key == "dateOfBirth") {
				t.Errorf("%s: IsDate %v", f.Key, f.IsDate())
			}
			if f.IsChoice() != (f.Key == "employment" || f.Key == "product") {
				t.Errorf("%s: IsChoice %v", f.Key, f.IsChoice())
			}
		}
	}
	var all []string
	for _, f := range Fields {
		all = append(all, f.Key)
	}
	if !reflect.DeepEqual(keys, all) {
		t.Errorf("sections list %v, want every field once in page order %v", keys, all)
	}
	if got := SectionFields(SectionTerms); len(got) == 0 || got[0].Key != "product" {
		t.Errorf("terms start with %v, want product", got)
	}
}

// A fully paid instalment gets no allocation line: ₹30.00 against
// instalment 1 paid in full and instalment 2 unpaid is ₹30.00 of
// instalment 2's interest, one line.
func TestAllocate_SkipsPaidInstalments(t *testing.T) {
	t.Parallel()
	states := Repayments(Schedule{Rows: []Instalment{
		{Number: 1, Interest: 40_00, Principal: 60_00},
		{Number: 2, Interest: 30_00, Principal: 70_00},
	}}, []model.JournalTxn{{Allocations: []model.Allocation{{Instalment: 1, Interest: 40_00, Principal: 60_00}}}})
	got, err := Allocate(states, 30_00)
	if want := []model.Allocation{{Instalment: 2, Interest: 30_00}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Allocate(30_00) = %+v, %v; want %+v", got, err, want)
	}
}
