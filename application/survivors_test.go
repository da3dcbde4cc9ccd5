package application

import (
	"reflect"
	"testing"
	"time"
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
