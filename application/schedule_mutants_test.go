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
