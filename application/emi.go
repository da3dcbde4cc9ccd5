package application

import "math/big"

// EMI is the equated monthly instalment, in paise rounded half up, of a
// loan of amount paise over months at annualBps (basis points a year;
// 1050 = 10.50 %). Reducing balance with monthly rate r = annualBps ÷
// 12 ÷ 10,000 (the convention stated on the Key Fact Statement):
//
//	EMI = P·r·(1+r)^n / ((1+r)^n − 1)
//
// computed exactly in integers: with a = 120,000 + annualBps and
// b = 120,000, (1+r)^n = aⁿ/bⁿ, so EMI = P·bps·aⁿ / (b·(aⁿ − bⁿ)). A 0 %
// loan (no-cost EMI) repays amount/months, rounded half up. It returns 0
// for a non-positive amount or tenure.
func EMI(amount int64, months, annualBps int) int64 {
	if amount <= 0 || months <= 0 {
		return 0
	}
	if annualBps <= 0 {
		return divHalfUp(big.NewInt(amount), big.NewInt(int64(months)))
	}
	a := big.NewInt(int64(120_000 + annualBps))
	b := big.NewInt(120_000)
	n := big.NewInt(int64(months))
	an := new(big.Int).Exp(a, n, nil)
	bn := new(big.Int).Exp(b, n, nil)
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(annualBps)))
	num.Mul(num, an)
	den := new(big.Int).Sub(an, bn)
	den.Mul(den, b)
	return divHalfUp(num, den)
}

// divHalfUp is num/den (both positive) rounded half up.
func divHalfUp(num, den *big.Int) int64 {
	q := new(big.Int).Lsh(num, 1)
	q.Add(q, den)
	q.Quo(q, new(big.Int).Lsh(den, 1))
	return q.Int64()
}
