package application

import (
	"math"
	"math/big"
	"testing"
	"time"

	"loandesk/model"
)

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ₹5,00,000 at 10.50 % over 60 months: the exact figures.
func TestRepaymentSchedule_FiveLakhAt1050Over60(t *testing.T) {
	t.Parallel()
	s := RepaymentSchedule(5_00_000_00, 60, 1050, date(t, "2027-01-05"))
	if len(s.Rows) != 60 || s.EMI != 10_746_95 {
		t.Fatalf("%d rows, EMI %d", len(s.Rows), s.EMI)
	}
	for _, r := range s.Rows[:59] {
		if r.Amount != 10_746_95 {
			t.Fatalf("row %d: %d, want the EMI", r.Number, r.Amount)
		}
	}
	first, last := s.Rows[0], s.Rows[59]
	if first.Interest != 4_375_00 || first.Principal != 6_371_95 || first.Balance != 4_93_628_05 || !first.DueDate.Equal(date(t, "2027-01-05")) {
		t.Errorf("row 1: %+v", first)
	}
	if last.Amount != 10_746_94 || last.Balance != 0 || !last.DueDate.Equal(date(t, "2031-12-05")) {
		t.Errorf("row 60: %+v", last)
	}
	if s.TotalPrincipal != 5_00_000_00 || s.TotalInterest != 1_44_816_99 || s.TotalPaid != 5_00_000_00+1_44_816_99 {
		t.Errorf("totals: principal %d, interest %d, paid %d", s.TotalPrincipal, s.TotalInterest, s.TotalPaid)
	}
}

func TestRepaymentSchedule_Invariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount int64
		months int
		bps    int
	}{
		{1_00_000_00, 12, 0}, {1_00_000_01, 7, 0}, {75_00_000_00, 360, 875}, {50_000_00, 12, 2400}, {1, 60, 1050}, {99_99_999_99, 84, 1399},
	} {
		s := RepaymentSchedule(tc.amount, tc.months, tc.bps, date(t, "2027-01-31"))
		var principal int64
		for i, r := range s.Rows {
			principal += r.Principal
			if r.Amount != r.Principal+r.Interest || r.Interest != MonthlyInterest(r.Balance+r.Principal, tc.bps) || r.Principal < 0 {
				t.Fatalf("%+v row %d: %+v", tc, i+1, r)
			}
			if i < len(s.Rows)-1 && r.Amount != s.EMI {
				t.Fatalf("%+v row %d is %d, not the EMI %d", tc, i+1, r.Amount, s.EMI)
			}
		}
		if principal != tc.amount || s.Rows[len(s.Rows)-1].Balance != 0 {
			t.Fatalf("%+v: principal %d, last balance %d", tc, principal, s.Rows[len(s.Rows)-1].Balance)
		}
	}
	if tc := RepaymentSchedule(1_20_000_00, 12, 0, date(t, "2027-01-31")); tc.EMI != 10_000_00 || tc.TotalInterest != 0 || !tc.Rows[1].DueDate.Equal(date(t, "2027-02-28")) || !tc.Rows[2].DueDate.Equal(date(t, "2027-03-31")) {
		t.Errorf("0 %% over 12: EMI %d, interest %d, dues %v %v", tc.EMI, tc.TotalInterest, tc.Rows[1].DueDate, tc.Rows[2].DueDate)
	}
	if s := RepaymentSchedule(0, 12, 1000, date(t, "2027-01-01")); len(s.Rows) != 0 {
		t.Error("a zero amount has a schedule")
	}
}

func TestAddMonths(t *testing.T) {
	t.Parallel()
	for _, tc := range [][3]string{
		{"2027-01-31", "1", "2027-02-28"}, {"2028-01-31", "1", "2028-02-29"}, {"2027-01-31", "2", "2027-03-31"},
		{"2027-12-15", "1", "2028-01-15"}, {"2026-12-05", "59", "2031-11-05"}, {"2027-05-31", "-1", "2027-04-30"},
	} {
		n := map[string]int{"1": 1, "2": 2, "59": 59, "-1": -1}[tc[1]]
		if got := AddMonths(date(t, tc[0]), n); !got.Equal(date(t, tc[2])) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tc[0], n, got.Format(time.DateOnly), tc[2])
		}
	}
}

// The KFS: ₹5,00,000 at 10.50 % over 60 months, 2 % fee + 18 % GST.
func TestKeyFacts_FiveLakhPersonalLoan(t *testing.T) {
	t.Parallel()
	p, _ := ProductByName("personal")
	p.ProcessingFeeBps = 200
	k := KeyFactsOf(model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 60, AnnualRateBps: 1050}, p, date(t, "2027-01-05"))
	if k.ProcessingFee != 10_000_00 || k.GST != 1_800_00 || k.NetDisbursed != 4_88_200_00 || k.APRBps != 1154 || k.EMI != 10_746_95 {
		t.Fatalf("KFS: fee %d, GST %d, net %d, APR %d bps, EMI %d", k.ProcessingFee, k.GST, k.NetDisbursed, k.APRBps, k.EMI)
	}
	// With no fee the APR is the rate itself.
	p.ProcessingFeeBps = 0
	if k := KeyFactsOf(model.LoanTerms{Amount: 5_00_000_00, TenureMonths: 60, AnnualRateBps: 1050}, p, date(t, "2027-01-05")); k.APRBps != 1050 || k.NetDisbursed != 5_00_000_00 {
		t.Fatalf("no fee: APR %d, net %d", k.APRBps, k.NetDisbursed)
	}
	// A no-cost EMI with a fee still costs something.
	p.ProcessingFeeBps = 100
	if k := KeyFactsOf(model.LoanTerms{Amount: 1_20_000_00, TenureMonths: 12, AnnualRateBps: 0}, p, date(t, "2027-01-05")); k.APRBps <= 0 || k.EMI != 10_000_00 {
		t.Fatalf("0 %% with a fee: APR %d, EMI %d", k.APRBps, k.EMI)
	}
}

func TestPercentOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		paise int64
		bps   int
		want  int64
	}{{5_00_000_00, 200, 10_000_00}, {10_000_00, 1800, 1_800_00}, {333, 1800, 60}, {25, 200, 1}, {24, 200, 0}, {0, 200, 0}, {100, 0, 0}} {
		if got := PercentOf(tc.paise, tc.bps); got != tc.want {
			t.Errorf("PercentOf(%d, %d) = %d, want %d", tc.paise, tc.bps, got, tc.want)
		}
	}
}

func BenchmarkRepaymentSchedule_360(b *testing.B) {
	first := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		RepaymentSchedule(75_00_000_00, 360, 875, first)
	}
}

// The int64 fast path and the big.Int path round alike.
func TestMonthlyInterest_BothPathsAgree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		balance int64
		bps     int
		want    int64
	}{
		{5_00_000_00, 1050, 4_375_00}, {1, 1050, 0}, {12, 1000, 0}, {6, 10000, 1}, {4_93_628_05, 1050, 4_319_25},
		{math.MaxInt64 / 1000, 6000, 0}, // big path: checked against the formula below
	} {
		want := tc.want
		if want == 0 && tc.balance > 1000 {
			want = divHalfUp(new(big.Int).Mul(big.NewInt(tc.balance), big.NewInt(int64(tc.bps))), big.NewInt(120_000))
		}
		if got := MonthlyInterest(tc.balance, tc.bps); got != want {
			t.Errorf("MonthlyInterest(%d, %d) = %d, want %d", tc.balance, tc.bps, got, want)
		}
	}
}

// The APR's fast path (Newton, proved exactly) agrees with bisection on
// the exact sum across products' extremes.
func TestAPRBps_FastPathAgreesWithBisection(t *testing.T) {
	t.Parallel()
	for _, p := range Products {
		for _, tc := range []struct {
			amount int64
			months int
			bps    int
		}{{p.MinAmount * 100, p.MinTenure, p.MinRateBps}, {p.MaxAmount * 100, p.MaxTenure, p.MaxRateBps}, {p.MinAmount * 100, p.MaxTenure, (p.MinRateBps + p.MaxRateBps) / 2}} {
			s := RepaymentSchedule(tc.amount, tc.months, tc.bps, date(t, "2027-01-05"))
			for _, feeBps := range []int{0, 50, 200, 500} {
				net := tc.amount - PercentOf(tc.amount, feeBps) - PercentOf(PercentOf(tc.amount, feeBps), 1800)
				if fast, slow := APRBps(net, s), aprByBisection(net, s); fast != slow {
					t.Errorf("%s %+v fee %d: fast %d, bisection %d", p.Name, tc, feeBps, fast, slow)
				}
			}
		}
	}
}

func BenchmarkAPRBps_360(b *testing.B) {
	s := RepaymentSchedule(75_00_000_00, 360, 875, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	for b.Loop() {
		APRBps(74_00_000_00, s)
	}
}
