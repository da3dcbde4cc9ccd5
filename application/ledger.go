package application

import (
	"fmt"
	"math/big"
	"time"

	"loandesk/model"
)

// Journal transaction kinds.
const (
	TxnDisbursement = "disbursement"
	TxnRepayment    = "repayment"
)

// AccountLabels are the chart of accounts' names for people.
var AccountLabels = map[string]string{
	model.AccountLoanPortfolio:      "Loan portfolio",
	model.AccountInterestReceivable: "Interest receivable",
	model.AccountBank:               "Bank (disbursement and collection)",
	model.AccountGSTOutput:          "GST output",
	model.AccountProcessingFee:      "Processing-fee income",
	model.AccountInterestIncome:     "Interest income",
}

func line(account, side string, amount int64) model.JournalLine {
	return model.JournalLine{Account: account, Side: side, Amount: amount, Currency: "INR"}
}

// lines drops zero amounts: a journal line is always positive.
func lines(ls ...model.JournalLine) []model.JournalLine {
	out := ls[:0:0]
	for _, l := range ls {
		if l.Amount > 0 {
			out = append(out, l)
		}
	}
	return out
}

// DisbursementLines is the journal of paying out a loan: Dr loan
// portfolio the gross amount; Cr bank the net paid; Cr processing-fee
// income the fee; Cr GST output the GST on it. (₹5,00,000 with 2 % + 18 %
// GST: Dr ₹5,00,000.00 / Cr ₹4,88,200.00 / Cr ₹10,000.00 / Cr ₹1,800.00.)
func DisbursementLines(k KeyFacts) []model.JournalLine {
	return lines(
		line(model.AccountLoanPortfolio, model.Debit, k.Amount),
		line(model.AccountBank, model.Credit, k.NetDisbursed),
		line(model.AccountProcessingFee, model.Credit, k.ProcessingFee),
		line(model.AccountGSTOutput, model.Credit, k.GST),
	)
}

// RepaymentLines is the journal of a receipt of amount paise allocated
// as allocs: Dr bank the amount; Cr loan portfolio the principal; Cr
// interest income the interest (cash basis: interest is recognised when
// received).
func RepaymentLines(amount int64, allocs []model.Allocation) []model.JournalLine {
	var principal, interest int64
	for _, a := range allocs {
		principal += a.Principal
		interest += a.Interest
	}
	return lines(
		line(model.AccountBank, model.Debit, amount),
		line(model.AccountLoanPortfolio, model.Credit, principal),
		line(model.AccountInterestIncome, model.Credit, interest),
	)
}

// BrokenPeriod is the interest for the days between disbursement and the
// start of the first EMI's period (one month before its due date), when
// the first EMI falls more than a month after disbursement: amount ×
// annualBps × days ÷ (365 × 10,000), half up to the paisa (actual/365).
// Both dates are calendar dates.
func BrokenPeriod(amount int64, annualBps int, disbursedOn, firstDue time.Time) (days int, interest int64) {
	start := AddMonths(firstDue, -1)
	days = int(start.Sub(disbursedOn).Hours() / 24)
	if days <= 0 || amount <= 0 || annualBps <= 0 {
		return max(days, 0), 0
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(annualBps)))
	num.Mul(num, big.NewInt(int64(days)))
	return days, divHalfUp(num, big.NewInt(365*10_000))
}

// InstalmentState is a schedule row with what has been paid against it.
type InstalmentState struct {
	Instalment
	InterestPaid, PrincipalPaid int64
}

// Due is what is still owed on the instalment (never below zero).
func (s InstalmentState) Due() int64 {
	return max(0, s.Interest-s.InterestPaid) + max(0, s.Principal-s.PrincipalPaid)
}

// Status is "paid", "part-paid", "overdue" (due before today, not fully
// paid) or "due".
func (s InstalmentState) Status(today time.Time) string {
	switch {
	case s.Due() == 0:
		return "paid"
	case civil(today).After(s.DueDate) && s.InterestPaid+s.PrincipalPaid > 0:
		return "overdue, part-paid"
	case civil(today).After(s.DueDate):
		return "overdue"
	case s.InterestPaid+s.PrincipalPaid > 0:
		return "part-paid"
	}
	return "due"
}

// civil is t's calendar date (in t's own location) as UTC midnight.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Repayments sets the receipts posted against a schedule beside it.
func Repayments(s Schedule, receipts []model.JournalTxn) []InstalmentState {
	out := make([]InstalmentState, len(s.Rows))
	for i, r := range s.Rows {
		out[i] = InstalmentState{Instalment: r}
	}
	for _, t := range receipts {
		for _, a := range t.Allocations {
			if a.Instalment >= 1 && a.Instalment <= len(out) {
				out[a.Instalment-1].InterestPaid += a.Interest
				out[a.Instalment-1].PrincipalPaid += a.Principal
			}
		}
	}
	return out
}

// Allocate applies amount paise to the instalments in order, the oldest
// first: each instalment's unpaid interest, then its unpaid principal
// (₹5,000.00 against EMI 1 of ₹5,00,000 at 10.50 % × 60: ₹4,375.00
// interest, ₹625.00 principal). More than everything still owed is an
// error: the receipt is refused, never half-applied.
func Allocate(states []InstalmentState, amount int64) ([]model.Allocation, error) {
	var owed int64
	for _, s := range states {
		owed += s.Due()
	}
	if amount <= 0 {
		return nil, fmt.Errorf("application: a receipt must be more than zero")
	}
	if amount > owed {
		return nil, fmt.Errorf("application: the receipt (%d paise) is more than the %d paise still owed", amount, owed)
	}
	var out []model.Allocation
	left := amount
	for _, s := range states {
		if left == 0 {
			break
		}
		a := model.Allocation{Instalment: s.Number}
		a.Interest = min(left, max(0, s.Interest-s.InterestPaid)) // never negative, even on a journal paid twice
		left -= a.Interest
		a.Principal = min(left, max(0, s.Principal-s.PrincipalPaid))
		left -= a.Principal
		if a.Interest+a.Principal > 0 {
			out = append(out, a)
		}
	}
	return out, nil
}

// DaysPastDue is how many days the oldest instalment not fully paid is
// past its due date on today (0 when none is overdue): the DPD the
// Reserve Bank of India's SMA/NPA classification counts.
func DaysPastDue(states []InstalmentState, today time.Time) int {
	for _, s := range states {
		if s.Due() > 0 {
			d := int(civil(today).Sub(s.DueDate).Hours() / 24)
			return max(d, 0)
		}
	}
	return 0
}

// Balances are an account's debits and credits (paise).
type Balances struct {
	Debits, Credits int64
}

// Net is debits − credits.
func (b Balances) Net() int64 { return b.Debits - b.Credits }

// AccountBalances adds up txns by account.
func AccountBalances(txns []model.JournalTxn) map[string]Balances {
	out := map[string]Balances{}
	for _, t := range txns {
		for _, l := range t.Lines {
			b := out[l.Account]
			if l.Side == model.Debit {
				b.Debits += l.Amount
			} else {
				b.Credits += l.Amount
			}
			out[l.Account] = b
		}
	}
	return out
}
