package application

import (
	"math"
	"math/big"
	"time"
)

// Instalment is one row of a repayment schedule. Money is paise.
type Instalment struct {
	Number    int       // 1 … tenure
	DueDate   time.Time // a calendar date (UTC midnight)
	Amount    int64     // the instalment: principal + interest
	Interest  int64
	Principal int64
	Balance   int64 // outstanding principal after this instalment
}

// Schedule is a loan's repayment schedule and its totals (paise).
type Schedule struct {
	Rows           []Instalment
	EMI            int64
	TotalPrincipal int64
	TotalInterest  int64
	TotalPaid      int64
}

// RepaymentSchedule is the reducing-balance schedule of amount paise over
// months at annualBps, the first instalment due on firstDue (a calendar
// date) and each next one on the same day of the following months (the
// month's last day when it is shorter). The conventions, stated on the
// Key Fact Statement:
//   - monthly rate = annual rate ÷ 12;
//   - the EMI by the reducing-balance formula, rounded half up to the paisa
//     (see EMI);
//   - each month's interest = the balance before it × the monthly rate,
//     rounded half up to the paisa;
//   - every instalment but the last equals the EMI; the last clears the
//     balance exactly (it is the balance plus its interest).
//
// It returns an empty schedule for a non-positive amount or tenure.
func RepaymentSchedule(amount int64, months, annualBps int, firstDue time.Time) Schedule {
	if amount <= 0 || months <= 0 {
		return Schedule{}
	}
	s := Schedule{EMI: EMI(amount, months, annualBps), Rows: make([]Instalment, months)}
	balance := amount
	for i := range months {
		interest := MonthlyInterest(balance, annualBps)
		pay := min(s.EMI, balance+interest) // never more than is owed
		if i == months-1 {
			pay = balance + interest // the last clears the balance
		}
		principal := pay - interest
		balance -= principal
		s.Rows[i] = Instalment{Number: i + 1, DueDate: AddMonths(firstDue, i), Amount: pay, Interest: interest, Principal: principal, Balance: balance}
		s.TotalPrincipal += principal
		s.TotalInterest += interest
		s.TotalPaid += pay
		if balance == 0 {
			s.Rows = s.Rows[:i+1] // paid off early (only with a tiny amount over many months)
			break
		}
	}
	return s
}

// MonthlyInterest is a month's interest on balance paise at annualBps:
// balance × annualBps ÷ 120,000, rounded half up to the paisa.
func MonthlyInterest(balance int64, annualBps int) int64 {
	if balance <= 0 || annualBps <= 0 {
		return 0
	}
	if balance <= (math.MaxInt64-120_000)/2/int64(annualBps) { // the usual case: 2 × balance × bps + 120,000 fits in int64
		return (2*balance*int64(annualBps) + 120_000) / 240_000
	}
	num := new(big.Int).Mul(big.NewInt(balance), big.NewInt(int64(annualBps)))
	return divHalfUp(num, big.NewInt(120_000))
}

// AddMonths is the calendar date months after d, on d's day of the month
// or the month's last day when that month is shorter (31 January + 1
// month = 28 or 29 February; + 2 months = 31 March). d is a calendar date;
// the result is UTC midnight.
func AddMonths(d time.Time, months int) time.Time {
	y, m, day := d.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(day, last), 0, 0, 0, 0, time.UTC)
}
