package application

import (
	"testing"
	"time"
)

// The slabs and bands are "up to" their limit, inclusive; past the last
// limited one the open-ended one applies, and with none there is no cap.
func TestFOIRCapAndLTVCap_Limits(t *testing.T) {
	t.Parallel()
	for income, want := range map[int64]int{1: 5000, 25_000_00: 5000, 25_000_01: 5500, 75_000_00: 5500, 75_000_01: 6000, 1 << 40: 6000} {
		if got := FOIRCap(DefaultCreditPolicy.FOIRSlabs, income); got != want {
			t.Errorf("FOIRCap(%d) = %d, want %d", income, got, want)
		}
	}
	for amount, want := range map[int64]int{1: 9000, 30_00_000_00: 9000, 30_00_000_01: 8000, 75_00_000_00: 8000, 75_00_000_01: 7500} {
		if got := LTVCap(DefaultCreditPolicy.LTVBands, amount); got != want {
			t.Errorf("LTVCap(%d) = %d, want %d", amount, got, want)
		}
	}
	if got := FOIRCap([]FOIRSlab{{IncomeUpTo: 100, CapBps: 5000}}, 101); got != 0 {
		t.Errorf("FOIRCap above every slab = %d, want 0", got)
	}
	if got := LTVCap([]LTVBand{{AmountUpTo: 100, MaxBps: 5000}}, 101); got != 0 {
		t.Errorf("LTVCap above every band = %d, want 0", got)
	}
}

// The largest eligible amount must lie in the band whose cap allows it:
// with a band that allows more above a limit than below it, an amount
// the upper band's ratio gives but that falls at or below the limit is
// not eligible.
func TestMaxAmountByLTV_AmountMustFitItsOwnBand(t *testing.T) {
	t.Parallel()
	rising := []LTVBand{{AmountUpTo: 900, MaxBps: 5000}, {AmountUpTo: 0, MaxBps: 9000}}
	for _, tc := range []struct {
		bands []LTVBand
		value int64
		want  int64
	}{
		{rising, 1000, 500}, // 90 % is 900: at the limit, so in the 50 % band
		{rising, 500, 250},  // 90 % is 450: below the limit
		{rising, 1002, 901}, // 90 % is 901.8: 901 is above the limit, within 90 %
		{rising, 2000, 1800},
		{DefaultCreditPolicy.LTVBands, 0, 0},
		{DefaultCreditPolicy.LTVBands, 37_50_000_00, 30_00_000_00},   // 80 % is exactly band 1's top: 90 % capped there
		{DefaultCreditPolicy.LTVBands, 1_00_00_000_00, 75_00_000_00}, // 75 % is exactly band 2's top
		{DefaultCreditPolicy.LTVBands, 2_00_00_000_00, 1_50_00_000_00},
	} {
		if got := MaxAmountByLTV(tc.bands, tc.value); got != tc.want {
			t.Errorf("MaxAmountByLTV(%v, %d) = %d, want %d", tc.bands, tc.value, got, tc.want)
		}
	}
}

// Without a monthly income the burden cannot be weighed: the application
// is referred, with neither a FOIR nor an amount band.
func TestScore_NoIncome(t *testing.T) {
	t.Parallel()
	for _, income := range []int64{0, -1} {
		s := Score(applicant(income, 0, 5_00_000_00, 60, 1050), cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
		if s.Recommendation != RecommendRefer || s.FOIRBps != 0 || reason(s, "amount") != "" ||
			reason(s, "foir") != "No monthly income on the application: the EMI of ₹10,746.95 cannot be weighed." || s.Points != 15+15+20 {
			t.Errorf("income %d: %s, FOIR %d, %d points, foir %q, amount %q", income, s.Recommendation, s.FOIRBps, s.Points, reason(s, "foir"), reason(s, "amount"))
		}
	}
}

// The amount against a year's income (₹12,00,000 here) is shown to two
// decimals, cut: never rounded past a band's edge (just over 3× says
// "over 3.00×"), never shown as 0 when it is not.
func TestScore_AmountTimesText(t *testing.T) {
	t.Parallel()
	for amount, want := range map[int64]string{
		42_00_000_00: "The amount is 3.50× the yearly income (3–5×).",
		47_99_999_99: "The amount is 3.99× the yearly income (3–5×).",
		6_00_000_00:  "The amount is 0.50× the yearly income (at most 3×).",
		1_06_800_00:  "The amount is 0.08× the yearly income (at most 3×).",
		36_00_000_00: "The amount is 3.00× the yearly income (at most 3×).",
		36_00_000_01: "The amount is over 3.00× the yearly income (3–5×).",
		60_00_000_01: "The amount is over 5.00× the yearly income (above 5×).",
		1:            "The amount is under 0.01× the yearly income (at most 3×).",
	} {
		l := applicant(1_00_000_00, 0, amount, 60, 1500)
		l.Terms.Product = "business"
		if got := reason(Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday), "amount"); got != want {
			t.Errorf("amount %d: %q, want %q", amount, got, want)
		}
	}
}

// With no tenure there is no last instalment, so no age at maturity to
// check, however old the applicant.
func TestScore_NoTenureNoAgeCheck(t *testing.T) {
	t.Parallel()
	l := applicant(1_00_000_00, 0, 5_00_000_00, 0, 1050)
	l.Applicant.DateOfBirth = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
	if reason(s, "age") != "" || s.MaxTenureMonths != 0 {
		t.Fatalf("tenure 0: age %q, max tenure %d", reason(s, "age"), s.MaxTenureMonths)
	}
	l.Terms.TenureMonths = 1 // the one instalment falls due at 77
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); s.MaxTenureMonths != 0 ||
		reason(s, "age") != "Aged 77 when the last instalment falls due on 15 Jan 2027, above the cap of 60: no tenure keeps it within the cap." {
		t.Fatalf("tenure 1: age %q, max tenure %d", reason(s, "age"), s.MaxTenureMonths)
	}
}
