package application

import (
	"math"
	"math/big"
	"sort"
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
// The answer is exact: it is n basis points when the rate lies in
// [n − ½, n + ½) basis points, and on which side of a half point the rate
// lies is decided in integers (aprExcess), so a rate of exactly n + ½
// basis points gives n + 1. It returns 0 when there is nothing to
// compute, and when the instalments repay less than half a basis point
// over net (or no more than net).
func APRBps(net int64, s Schedule) int {
	if net <= 0 || len(s.Rows) == 0 || aprExcess(net, s, 1) < 0 {
		return 0
	}
	// Newton's method in float64 finds the rate in a few steps, and two
	// exact evaluations prove it; bisection on the exact sum is the
	// fallback.
	if guess, ok := aprGuess(net, s); ok && aprIs(net, s, guess) {
		return guess
	}
	return aprByBisection(net, s)
}

// aprMaxBps bounds the APR: 1,000 % a month (where aprGuess gives up).
const aprMaxBps = 1_200_000

// aprIs reports whether the APR of net against s is n basis points: the
// rate is at least n − ½ and below n + ½ basis points.
func aprIs(net int64, s Schedule, n int) bool {
	return aprExcess(net, s, 2*int64(n)-1) >= 0 && aprExcess(net, s, 2*int64(n)+1) < 0
}

// aprExcess is the sign of Σ instalmentₖ ÷ (1+i)ᵏ − net at the monthly
// rate of an APR of h half basis points (i = h ÷ 240,000; h > −240,000),
// computed exactly: with d = 240,000 and g = 240,000 + h, (1+i)⁻ᵏ is
// dᵏ ÷ gᵏ, so over n instalments the sign is that of
// Σ instalmentₖ·dᵏ·gⁿ⁻ᵏ − net·gⁿ. The sum decreases as h grows.
func aprExcess(net int64, s Schedule, h int64) int {
	d, g := big.NewInt(240_000), big.NewInt(240_000+h)
	sum, dk, gn, term := new(big.Int), big.NewInt(1), big.NewInt(net), new(big.Int)
	for _, r := range s.Rows {
		dk.Mul(dk, d)
		sum.Mul(sum, g)
		sum.Add(sum, term.Mul(term.SetInt64(r.Amount), dk))
		gn.Mul(gn, g)
	}
	return sum.Cmp(gn)
}

// aprByBisection is the APR by bisection on the basis points, each step
// an exact evaluation: the smallest n whose upper half point the rate
// lies below (aprMaxBps at most).
func aprByBisection(net int64, s Schedule) int {
	return sort.Search(aprMaxBps, func(n int) bool { return aprExcess(net, s, 2*int64(n)+1) < 0 })
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
