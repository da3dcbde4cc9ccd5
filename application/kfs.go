package application

import (
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
	gstBps := p.GSTBps
	k := KeyFacts{
		Amount: t.Amount, TenureMonths: t.TenureMonths, AnnualRateBps: t.AnnualRateBps, FirstDue: firstDue,
		FeeBps: p.ProcessingFeeBps, GSTBps: gstBps,
	}
	k.Schedule = RepaymentSchedule(t.Amount, t.TenureMonths, t.AnnualRateBps, firstDue)
	k.EMI = k.Schedule.EMI
	k.ProcessingFee = PercentOf(t.Amount, p.ProcessingFeeBps)
	k.GST = PercentOf(k.ProcessingFee, gstBps)
	k.NetDisbursed = t.Amount - k.ProcessingFee - k.GST
	k.APRBps = APRBps(k.NetDisbursed, k.Schedule)
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
	const prec = 256
	netF := new(big.Float).SetPrec(prec).SetInt64(net)
	// npv(i) − net is decreasing in i: more than net at i = 0 whenever
	// the instalments add up to more than net.
	excess := func(i *big.Float) int {
		growth := new(big.Float).SetPrec(prec).Add(big.NewFloat(1).SetPrec(prec), i)
		discount := new(big.Float).SetPrec(prec).SetInt64(1)
		sum := new(big.Float).SetPrec(prec)
		for _, r := range s.Rows {
			discount.Quo(discount, growth)
			sum.Add(sum, new(big.Float).SetPrec(prec).Mul(new(big.Float).SetPrec(prec).SetInt64(r.Amount), discount))
		}
		return sum.Cmp(netF)
	}
	lo, hi := new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec).SetInt64(1)
	if excess(lo) <= 0 {
		return 0 // repays no more than it lends
	}
	for range 120 {
		mid := new(big.Float).SetPrec(prec).Add(lo, hi)
		mid.Quo(mid, big.NewFloat(2))
		if excess(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	// APR in bps = i × 12 × 10,000, half up.
	apr := new(big.Float).SetPrec(prec).Mul(lo, big.NewFloat(120_000))
	apr.Add(apr, big.NewFloat(0.5))
	n, _ := apr.Int64()
	return int(n)
}
