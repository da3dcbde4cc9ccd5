package application

import (
	"testing"
	"time"
)

// No amount or no tenure, no schedule; a tiny amount over many months is
// paid off early (10 paise over 12 months at 0 %: ten instalments of one
// paisa).
func TestRepaymentSchedule_EmptyAndPaidOffEarly(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		amount      int64
		months, bps int
	}{{0, 12, 1050}, {-1, 12, 1050}, {1_00_000_00, 0, 1050}, {1_00_000_00, -1, 1050}} {
		if s := RepaymentSchedule(tc.amount, tc.months, tc.bps, first); len(s.Rows) != 0 || s.EMI != 0 || s.TotalPaid != 0 {
			t.Errorf("RepaymentSchedule(%d, %d, %d) = %+v, want empty", tc.amount, tc.months, tc.bps, s)
		}
	}
	s := RepaymentSchedule(10, 12, 0, first)
	if s.EMI != 1 || len(s.Rows) != 10 || s.TotalPaid != 10 || s.TotalPrincipal != 10 || s.TotalInterest != 0 {
		t.Fatalf("10 paise over 12 months: EMI %d, %d rows, paid %d", s.EMI, len(s.Rows), s.TotalPaid)
	}
	last := s.Rows[9]
	if last.Number != 10 || last.Amount != 1 || last.Balance != 0 || !last.DueDate.Equal(time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC)) ||
		!s.Rows[1].DueDate.Equal(time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("rows: %+v", s.Rows)
	}
}

// Every instalment but the last is the EMI, also when the balance before
// one is within a month's interest of it: ₹2.63 over 22 months at 36 %
// (3 % a month) has an EMI of 17 paise (263 × 0.03 × 1.03²² ÷ (1.03²² − 1)
// = 16.50…); the 21st month starts at 17 paise, whose interest is 1
// (0.51, half up), so it pays the EMI, 17, leaving 1 paisa for the 22nd
// (interest 0.03, rounded to 0).
func TestRepaymentSchedule_OnlyTheLastInstalmentDiffers(t *testing.T) {
	t.Parallel()
	s := RepaymentSchedule(263, 22, 3600, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	if s.EMI != 17 || len(s.Rows) != 22 || s.TotalPaid != 358 || s.TotalInterest != 95 || s.TotalPrincipal != 263 {
		t.Fatalf("EMI %d, %d rows, paid %d, interest %d, principal %d; want 17, 22, 358, 95, 263", s.EMI, len(s.Rows), s.TotalPaid, s.TotalInterest, s.TotalPrincipal)
	}
	for i, want := range []Instalment{
		{Number: 21, Amount: 17, Interest: 1, Principal: 16, Balance: 1},
		{Number: 22, Amount: 1, Interest: 0, Principal: 1, Balance: 0},
	} {
		got := s.Rows[20+i]
		got.DueDate = time.Time{}
		if got != want {
			t.Errorf("row %d: %+v, want %+v", want.Number, got, want)
		}
	}
	for _, r := range s.Rows[:21] {
		if r.Amount != 17 {
			t.Errorf("row %d: %d paise, want the EMI, 17", r.Number, r.Amount)
		}
	}
}

// The int64 path of MonthlyInterest stops where 2 × balance × bps plus
// the half-up term would overflow: at 10.50 % (0.875 % a month) a balance
// of 43,92,081,922,311,798 paise, the largest the old bound sent down that
// path, is 38,430,716,820,228.2325 paise of interest, not a negative
// number; the same at 0.01 % for 46,11,686,018,427,387,903 paise
// (÷ 120,000 = 38,430,716,820,228.23…).
func TestMonthlyInterest_NoOverflowAtTheInt64Edge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		balance int64
		bps     int
		want    int64
	}{
		{4392081922311798, 1050, 38430716820228},
		{4392081922311741, 1050, 38430716820228},
		{4611686018427387903, 1, 38430716820228},
		{4611686018427327903, 1, 38430716820228}, // (MaxInt64 − 120,000) ÷ 2: the new bound at 0.01 %
		{4611686018427327904, 1, 38430716820228},
	} {
		if got := MonthlyInterest(tc.balance, tc.bps); got != tc.want {
			t.Errorf("MonthlyInterest(%d, %d) = %d, want %d", tc.balance, tc.bps, got, tc.want)
		}
	}
}
