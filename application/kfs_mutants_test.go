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

// The APR is rounded half up, exactly (RBI KFS: the internal rate × 12;
// half up as KeyFacts documents): a monthly rate of exactly n + ½ basis
// points a year is n + 1, on the fast path and by bisection alike. Each
// case's rate by hand: one month, net N against one instalment A is
// i = A/N − 1; ₹2,400.00 against ₹2,400.03 is 3/240,000 a month, 12 × that
// = 1.5 bp. Two months of ₹16,641 (= 129² × ₹1) against ₹32,896
// (= 129 × 128 + 128², × ₹1) is i = 1/128: 120,000/128 = 937.5 bp.
func TestAPRBps_ExactHalfBasisPointRoundsUp(t *testing.T) {
	t.Parallel()
	one := func(paise int64) Schedule { return Schedule{Rows: []Instalment{{Number: 1, Amount: paise}}} }
	two := Schedule{Rows: []Instalment{{Number: 1, Amount: 16_641_00}, {Number: 2, Amount: 16_641_00}}}
	for _, tc := range []struct {
		name string
		net  int64
		s    Schedule
		want int
	}{
		{"0.5 bp", 2_400_00, one(2_400_01), 1},
		{"1 bp", 2_400_00, one(2_400_02), 1},
		{"1.5 bp", 2_400_00, one(2_400_03), 2},
		{"1.45 bp", 24_000_00, one(24_000_29), 1},
		{"1.5 bp, ₹24,000", 24_000_00, one(24_000_30), 2},
		{"1.55 bp", 24_000_00, one(24_000_31), 2},
		{"1,250.5 bp", 2_400_00, one(2_425_01), 1251},
		{"937.5 bp, one month", 12_800_00, one(12_900_00), 938},
		{"937.5 bp, two months", 32_896_00, two, 938},
		{"just under 937.5 bp", 32_896_01, two, 937},
		{"just over 937.5 bp", 32_895_99, two, 938},
		{"0.25 bp", 48_000_00, one(48_000_01), 0},
	} {
		if got := APRBps(tc.net, tc.s); got != tc.want {
			t.Errorf("%s: APRBps(%d) = %d, want %d", tc.name, tc.net, got, tc.want)
		}
		if got := aprByBisection(tc.net, tc.s); got != tc.want {
			t.Errorf("%s: aprByBisection(%d) = %d, want %d", tc.name, tc.net, got, tc.want)
		}
	}
}

// aprExcess is the exact sign of the discounted instalments less the
// amount paid out, at h half basis points: ₹2,400.00 against ₹2,400.03 in
// a month breaks even at exactly h = 3 (1.5 bp), against ₹2,399.99 at
// h = −1.
func TestAPRExcess_IsExact(t *testing.T) {
	t.Parallel()
	one := Schedule{Rows: []Instalment{{Number: 1, Amount: 2_400_03}}}
	less := Schedule{Rows: []Instalment{{Number: 1, Amount: 2_399_99}}} // −0.5 bp
	two := Schedule{Rows: []Instalment{{Number: 1, Amount: 16_641_00}, {Number: 2, Amount: 16_641_00}}}
	for _, tc := range []struct {
		net  int64
		s    Schedule
		h    int64
		want int
	}{
		{2_400_00, one, 2, 1}, {2_400_00, one, 3, 0}, {2_400_00, one, 4, -1},
		{2_400_00, one, 0, 1}, {2_400_03, one, 0, 0}, {2_400_04, one, 0, -1}, {2_400_00, less, -1, 0}, {2_400_00, less, -2, 1},
		{32_896_00, two, 1874, 1}, {32_896_00, two, 1875, 0}, {32_896_00, two, 1876, -1},
	} {
		if got := aprExcess(tc.net, tc.s, tc.h); got != tc.want {
			t.Errorf("aprExcess(%d, %d rows, %d) = %d, want %d", tc.net, len(tc.s.Rows), tc.h, got, tc.want)
		}
	}
}

// aprIs proves one basis point and refuses its neighbours: the rate must
// lie at or above the lower half point and below the upper one.
// ₹5,00,000 at 10.50 % over 60 months with ₹4,88,200 paid out is 1154 bp
// (TestKeyFacts_FiveLakhPersonalLoan); the two-month schedule of
// TestAPRBps_ExactHalfBasisPointRoundsUp is exactly 937.5 bp, so 938.
func TestAPRIs_OnlyTheRoundedBasisPoint(t *testing.T) {
	t.Parallel()
	fiveLakh := RepaymentSchedule(5_00_000_00, 60, 1050, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	two := Schedule{Rows: []Instalment{{Number: 1, Amount: 16_641_00}, {Number: 2, Amount: 16_641_00}}}
	for _, tc := range []struct {
		net  int64
		s    Schedule
		n    int
		want bool
	}{
		{4_88_200_00, fiveLakh, 1153, false}, {4_88_200_00, fiveLakh, 1154, true}, {4_88_200_00, fiveLakh, 1155, false},
		{32_896_00, two, 937, false}, {32_896_00, two, 938, true}, {32_896_00, two, 939, false},
	} {
		if got := aprIs(tc.net, tc.s, tc.n); got != tc.want {
			t.Errorf("aprIs(%d, %d rows, %d) = %v, want %v", tc.net, len(tc.s.Rows), tc.n, got, tc.want)
		}
	}
}
