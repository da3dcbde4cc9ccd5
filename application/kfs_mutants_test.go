package application

import (
	"testing"
	"time"

	"loandesk/model"
)

// The APR of a no-cost EMI with a fee (₹1,20,000 over 12 months at 0 %,
// 1 % fee + 18 % GST: ₹1,18,584 paid out, 12 × ₹10,000 repaid) is the
// internal rate 2.1971… %: 220 bps; nothing to compute, or repaying no
// more than was lent, is 0.
func TestAPRBps_Edges(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	s := RepaymentSchedule(1_20_000_00, 12, 0, first)
	p, _ := ProductByName("consumer")
	p.ProcessingFeeBps = 100
	k := KeyFactsOf(model.LoanTerms{Amount: 1_20_000_00, TenureMonths: 12}, p, first)
	if k.ProcessingFee != 1_200_00 || k.GST != 216_00 || k.NetDisbursed != 1_18_584_00 || k.APRBps != 220 || k.FirstDue != first || len(k.Schedule.Rows) != 12 {
		t.Fatalf("KFS: fee %d, GST %d, net %d, APR %d", k.ProcessingFee, k.GST, k.NetDisbursed, k.APRBps)
	}
	for _, tc := range []struct {
		net  int64
		s    Schedule
		want int
	}{
		{1_18_584_00, s, 220},
		{1_20_000_00, s, 0}, // repays exactly what it lends
		{1_20_000_01, s, 0}, // less
		{0, s, 0},
		{-1, s, 0},
		{1_00_000_00, Schedule{}, 0},
	} {
		if got := APRBps(tc.net, tc.s); got != tc.want {
			t.Errorf("APRBps(%d, %d rows) = %d, want %d", tc.net, len(tc.s.Rows), got, tc.want)
		}
		if got := aprByBisection(tc.net, tc.s); tc.net > 0 && len(tc.s.Rows) > 0 && got != tc.want {
			t.Errorf("aprByBisection(%d) = %d, want %d", tc.net, got, tc.want)
		}
	}
}

// The fast path's guess is the APR itself, not only a start for the
// exact check: Newton's method in float64 lands on the basis point that
// bisection on the exact sum finds, across products' extremes and fees;
// it gives up (false) on an empty schedule and where the rate runs away.
func TestAPRGuess_IsTheAPR(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, p := range Products {
		for _, tc := range []struct {
			amount      int64
			months, bps int
		}{{p.MinAmount * 100, p.MinTenure, p.MinRateBps}, {p.MaxAmount * 100, p.MaxTenure, p.MaxRateBps}} {
			s := RepaymentSchedule(tc.amount, tc.months, tc.bps, first)
			for _, feeBps := range []int{0, 200} {
				net := tc.amount - PercentOf(tc.amount, feeBps) - PercentOf(PercentOf(tc.amount, feeBps), 1800)
				if g, ok := aprGuess(net, s); !ok || g != aprByBisection(net, s) {
					t.Errorf("%s %+v fee %d: guess %d %v, bisection %d", p.Name, tc, feeBps, g, ok, aprByBisection(net, s))
				}
			}
		}
	}
	s := RepaymentSchedule(5_00_000_00, 60, 1050, first)
	if g, ok := aprGuess(4_88_200_00, s); g != 1154 || !ok {
		t.Errorf("₹5,00,000 at 10.50 %% over 60 months, ₹4,88,200 paid out: guess %d %v, want 1154", g, ok)
	}
	for _, tc := range []struct {
		net int64
		s   Schedule
	}{{100, Schedule{}}, {1, Schedule{Rows: []Instalment{{Number: 1, Amount: 1_000_000_00}}}}} {
		if g, ok := aprGuess(tc.net, tc.s); ok || g != 0 {
			t.Errorf("aprGuess(%d, %d rows) = %d, %v; want 0, false", tc.net, len(tc.s.Rows), g, ok)
		}
	}
}
