package application

import (
	"math"
	"math/big"
	"time"

	"loandesk/model"
)

// DefaultGSTBps is GST on the processing fee: 18 % (the rate on financial
// services under India's CGST/SGST schedules), in basis points.
const DefaultGSTBps = 1800

// KeyFacts are the figures of a Key Fact Statement (RBI, "Key Facts
// Statement for Loans & Advances", 15 April 2024): money in paise, rates
// in basis points.
type KeyFacts struct {
	Amount        int64
	TenureMonths  int
	AnnualRateBps int
	EMI           int64
	FirstDue      time.Time
	Schedule      Schedule
	FeeBps        int   // processing fee, of the amount
	ProcessingFee int64 // amount × FeeBps, half up
	GSTBps        int
	GST           int64 // fee × GSTBps, half up
	NetDisbursed  int64 // amount − fee − GST: what reaches the borrower
	// APRBps is the annual percentage rate: the monthly internal rate of
	// return of the net amount disbursed against the instalments, × 12,
	// in basis points rounded half up (11.54 % = 1154).
	APRBps int
}

// KeyFactsOf computes the Key Fact Statement of terms under product p
// (its processing fee and the GST on it), the first instalment due on
// firstDue.
func KeyFactsOf(t model.LoanTerms, p Product, firstDue time.Time) KeyFacts {
	k := Charges(t, p)
	k.TenureMonths, k.AnnualRateBps, k.FirstDue = t.TenureMonths, t.AnnualRateBps, firstDue
	k.Schedule = RepaymentSchedule(t.Amount, t.TenureMonths, t.AnnualRateBps, firstDue)
	k.EMI = k.Schedule.EMI
	k.APRBps = APRBps(k.NetDisbursed, k.Schedule)
	return k
}

// Charges are the amount, processing fee, GST on it and the net paid out
// of terms under product p: the part of the key facts a disbursement
// posts (without the schedule and the APR).
func Charges(t model.LoanTerms, p Product) KeyFacts {
	k := KeyFacts{Amount: t.Amount, FeeBps: p.ProcessingFeeBps, GSTBps: p.GSTBps}
	k.ProcessingFee = PercentOf(t.Amount, p.ProcessingFeeBps)
	k.GST = PercentOf(k.ProcessingFee, p.GSTBps)
	k.NetDisbursed = t.Amount - k.ProcessingFee - k.GST
	return k
}

// PercentOf is paise × bps ÷ 10,000, rounded half up to the paisa.
func PercentOf(paise int64, bps int) int64 {
	if paise <= 0 || bps <= 0 {
		return 0
	}
	return divHalfUp(new(big.Int).Mul(big.NewInt(paise), big.NewInt(int64(bps))), big.NewInt(10_000))
}

// APRBps is the annual percentage rate, in basis points rounded half up,
// of receiving net paise now and repaying s's instalments one month
// apart: 12 × the monthly rate i at which net = Σ instalmentₖ ÷ (1+i)ᵏ
// (the internal rate of return; the RBI KFS's "annual percentage rate").
// The rate is found by bisection on 256-bit floats to far below a basis
// point. It returns 0 when there is nothing to compute.
func APRBps(net int64, s Schedule) int {
	if net <= 0 || len(s.Rows) == 0 {
		return 0
	}
	excess := npvExcess(net, s)
	if excess(new(big.Float).SetPrec(aprPrec)) <= 0 {
		return 0 // repays no more than it lends
	}
	// Newton's method in float64 finds the rate in a few steps; two exact
	// evaluations then prove which basis point it rounds to (the IRR lies
	// strictly between the half-points around it). Bisection on the exact
	// sum is the fallback.
	if guess, ok := aprGuess(net, s); ok && guess > 0 {
		if excess(halfPoint(2*int64(guess)-1)) > 0 && excess(halfPoint(2*int64(guess)+1)) < 0 {
			return guess
		}
	}
	return aprByBisection(net, s)
}

const aprPrec = 256

// npvExcess compares, exactly enough, the instalments discounted at a
// monthly rate i with net: Σ instalmentₖ ÷ (1+i)ᵏ − net, decreasing in i.
func npvExcess(net int64, s Schedule) func(i *big.Float) int {
	netF := new(big.Float).SetPrec(aprPrec).SetInt64(net)
	return func(i *big.Float) int {
		growth := new(big.Float).SetPrec(aprPrec).Add(big.NewFloat(1).SetPrec(aprPrec), i)
		discount := new(big.Float).SetPrec(aprPrec).SetInt64(1)
		sum := new(big.Float).SetPrec(aprPrec)
		for _, r := range s.Rows {
			discount.Quo(discount, growth)
			sum.Add(sum, new(big.Float).SetPrec(aprPrec).Mul(new(big.Float).SetPrec(aprPrec).SetInt64(r.Amount), discount))
		}
		return sum.Cmp(netF)
	}
}

// halfPoint is the monthly rate of an APR of n half basis points:
// n ÷ 240,000.
func halfPoint(n int64) *big.Float {
	r := new(big.Float).SetPrec(aprPrec).SetInt64(n)
	return r.Quo(r, new(big.Float).SetPrec(aprPrec).SetInt64(240_000))
}

// aprByBisection is the APR by bisection on the exact sum (120 halvings
// of [0, 100 %] a month: far below a basis point).
func aprByBisection(net int64, s Schedule) int {
	excess := npvExcess(net, s)
	lo, hi := new(big.Float).SetPrec(aprPrec), new(big.Float).SetPrec(aprPrec).SetInt64(1)
	if excess(lo) <= 0 {
		return 0
	}
	for range 120 {
		mid := new(big.Float).SetPrec(aprPrec).Add(lo, hi)
		mid.Quo(mid, big.NewFloat(2))
		if excess(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	apr := new(big.Float).SetPrec(aprPrec).Mul(lo, big.NewFloat(120_000)) // i × 12 × 10,000, half up
	apr.Add(apr, big.NewFloat(0.5))
	n, _ := apr.Int64()
	return int(n)
}

// aprGuess is the APR in basis points by Newton's method on float64: a
// guess the caller proves exactly.
func aprGuess(net int64, s Schedule) (int, bool) {
	i := 0.01
	for range 50 {
		var f, df float64
		d := 1.0
		for k, r := range s.Rows {
			d /= 1 + i
			a := float64(r.Amount)
			f += a * d
			df -= float64(k+1) * a * d / (1 + i)
		}
		f -= float64(net)
		if df == 0 {
			return 0, false
		}
		next := i - f/df
		if math.Abs(next-i) < 1e-15 {
			i = next
			break
		}
		i = next
		if i <= -0.99 || i > 10 || math.IsNaN(i) {
			return 0, false
		}
	}
	return int(math.Round(i * 120_000)), true
}
