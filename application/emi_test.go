package application

import (
	"math/big"
	"testing"
)

// emiByRationals is the definition computed the slow obvious way:
// (1+r)^n by repeated exact multiplication.
func emiByRationals(amount int64, months, annualBps int) int64 {
	p := new(big.Rat).SetInt64(amount)
	if annualBps <= 0 {
		return roundRat(p.Quo(p, big.NewRat(int64(months), 1)))
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
	return roundRat(num.Quo(num, den))
}

func roundRat(x *big.Rat) int64 {
	half := new(big.Rat).Add(x, big.NewRat(1, 2))
	return new(big.Int).Quo(half.Num(), half.Denom()).Int64()
}

// The closed form gives the same paise as the definition on every
// product's grid of amounts, tenures and rates.
func TestEMI_MatchesTheDefinitionOnEveryProduct(t *testing.T) {
	t.Parallel()
	cases := 0
	for _, p := range Products {
		amounts := []int64{p.MinAmount * 100, p.MinAmount*100 + 1, 1_23_456_78, p.MaxAmount * 100, (p.MinAmount + p.MaxAmount) * 50}
		for _, amount := range amounts {
			if amount < p.MinAmount*100 || amount > p.MaxAmount*100 {
				continue
			}
			for n := p.MinTenure; n <= p.MaxTenure; n += max(1, (p.MaxTenure-p.MinTenure)/7) {
				for bps := p.MinRateBps; bps <= p.MaxRateBps; bps += max(1, (p.MaxRateBps-p.MinRateBps)/5) {
					if got, want := EMI(amount, n, bps), emiByRationals(amount, n, bps); got != want {
						t.Fatalf("EMI(%d, %d, %d) = %d, the definition gives %d", amount, n, bps, got, want)
					}
					cases++
				}
			}
		}
	}
	t.Logf("%d cases agree", cases)
}

func BenchmarkEMI_360Months(b *testing.B) {
	for b.Loop() {
		EMI(75_00_000_00, 360, 875)
	}
}
