package application

import "math/big"

// EMI is the equated monthly instalment, in paise (rounded half up), of a
// loan of amount paise over months at annualBps. Computed with exact
// rationals: money is never a float.
//
//	EMI = P·r·(1+r)^n / ((1+r)^n − 1),  r = annualBps / 120000
func EMI(amount int64, months, annualBps int) int64 {
	if amount <= 0 || months <= 0 {
		return 0
	}
	p := new(big.Rat).SetInt64(amount)
	if annualBps <= 0 {
		return roundHalfUp(p.Quo(p, big.NewRat(int64(months), 1)))
	}
	r := big.NewRat(int64(annualBps), 120_000)
	growth := new(big.Rat).Add(big.NewRat(1, 1), r)
	pow := big.NewRat(1, 1)
	for range months {
		pow.Mul(pow, growth)
	}
	num := new(big.Rat).Mul(p, r)
	num.Mul(num, pow)
	den := new(big.Rat).Sub(pow, big.NewRat(1, 1))
	return roundHalfUp(num.Quo(num, den))
}

func roundHalfUp(x *big.Rat) int64 {
	half := new(big.Rat).Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(half.Num(), half.Denom())
	return q.Int64()
}
