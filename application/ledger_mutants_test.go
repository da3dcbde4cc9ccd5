package application

import (
	"reflect"
	"testing"
	"time"

	"loandesk/model"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The broken period runs from the disbursement to one month before the
// first EMI: none when the first EMI is a month (or less) away.
func TestBrokenPeriod_Days(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount    int64
		bps       int
		on, first time.Time
		days      int
		interest  int64
	}{
		{5_00_000_00, 1050, day(2026, 12, 10), day(2027, 1, 15), 5, 719_18}, // 5 × ₹5,00,000 × 10.5 % ÷ 365
		{5_00_000_00, 1050, day(2026, 12, 10), day(2027, 1, 11), 1, 143_84},
		{5_00_000_00, 1050, day(2026, 12, 10), day(2027, 1, 10), 0, 0},
		{5_00_000_00, 1050, day(2026, 12, 10), day(2027, 1, 5), 0, 0},
		{5_00_000_00, 0, day(2026, 12, 10), day(2027, 1, 15), 5, 0},
		{0, 1050, day(2026, 12, 10), day(2027, 1, 15), 5, 0},
		{1, 1, day(2026, 12, 10), day(2027, 1, 15), 5, 0},
	} {
		days, interest := BrokenPeriod(tc.amount, tc.bps, tc.on, tc.first)
		if days != tc.days || interest != tc.interest {
			t.Errorf("BrokenPeriod(%d, %d, %s, %s) = %d days, %d; want %d, %d", tc.amount, tc.bps, tc.on.Format(time.DateOnly), tc.first.Format(time.DateOnly), days, interest, tc.days, tc.interest)
		}
	}
}

// An instalment's status on a day: paid, due, part-paid, overdue (the
// due date itself is not overdue).
func TestInstalmentState_Status(t *testing.T) {
	t.Parallel()
	due := day(2027, 1, 15)
	row := Instalment{Number: 1, DueDate: due, Amount: 100_00, Interest: 40_00, Principal: 60_00}
	for _, tc := range []struct {
		interestPaid, principalPaid int64
		today                       time.Time
		owed                        int64
		want                        string
	}{
		{0, 0, due, 100_00, "due"},
		{0, 0, due.Add(23 * time.Hour), 100_00, "due"},
		{0, 0, day(2027, 1, 16), 100_00, "overdue"},
		{1, 0, due, 99_99, "part-paid"},
		{40_00, 1, day(2027, 1, 16), 59_99, "overdue, part-paid"},
		{40_00, 60_00, day(2027, 2, 1), 0, "paid"},
		{80_00, 0, due, 60_00, "part-paid"}, // interest paid twice never offsets principal
		{0, 70_00, due, 40_00, "part-paid"},
	} {
		s := InstalmentState{Instalment: row, InterestPaid: tc.interestPaid, PrincipalPaid: tc.principalPaid}
		if s.Due() != tc.owed || s.Status(tc.today) != tc.want {
			t.Errorf("paid %d+%d on %s: due %d, %q; want %d, %q", tc.interestPaid, tc.principalPaid, tc.today, s.Due(), s.Status(tc.today), tc.owed, tc.want)
		}
	}
}

// Receipts are set beside their instalments (numbers outside the schedule
// ignored); allocation takes interest then principal, oldest first, and
// stops when the receipt is used up; days past due count from the oldest
// unpaid instalment.
func TestRepaymentsAllocateAndDaysPastDue(t *testing.T) {
	t.Parallel()
	s := Schedule{Rows: []Instalment{
		{Number: 1, DueDate: day(2027, 1, 15), Interest: 40_00, Principal: 60_00},
		{Number: 2, DueDate: day(2027, 2, 15), Interest: 30_00, Principal: 70_00},
		{Number: 3, DueDate: day(2027, 3, 15), Interest: 20_00, Principal: 80_00},
	}}
	receipts := []model.JournalTxn{{Allocations: []model.Allocation{
		{Instalment: 0, Interest: 1, Principal: 1}, {Instalment: 1, Interest: 40_00, Principal: 10_00},
		{Instalment: 3, Interest: 5_00}, {Instalment: 4, Interest: 1, Principal: 1},
	}}}
	states := Repayments(s, receipts)
	if len(states) != 3 || states[0].InterestPaid != 40_00 || states[0].PrincipalPaid != 10_00 || states[1].InterestPaid != 0 ||
		states[2].InterestPaid != 5_00 || states[2].PrincipalPaid != 0 {
		t.Fatalf("Repayments = %+v", states)
	}
	for _, tc := range []struct {
		amount int64
		want   []model.Allocation
	}{
		{50_00, []model.Allocation{{Instalment: 1, Principal: 50_00}}},
		{60_00, []model.Allocation{{Instalment: 1, Principal: 50_00}, {Instalment: 2, Interest: 10_00}}},
		{1_80_00, []model.Allocation{{Instalment: 1, Principal: 50_00}, {Instalment: 2, Interest: 30_00, Principal: 70_00}, {Instalment: 3, Interest: 15_00, Principal: 15_00}}},
		{2_45_00, []model.Allocation{{Instalment: 1, Principal: 50_00}, {Instalment: 2, Interest: 30_00, Principal: 70_00}, {Instalment: 3, Interest: 15_00, Principal: 80_00}}},
	} {
		got, err := Allocate(states, tc.amount)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Allocate(%d) = %+v, %v; want %+v", tc.amount, got, err, tc.want)
		}
	}
	for _, amount := range []int64{0, -1, 2_45_01} {
		if got, err := Allocate(states, amount); err == nil {
			t.Errorf("Allocate(%d) = %+v, want an error", amount, got)
		}
	}
	for today, want := range map[time.Time]int{
		day(2027, 1, 14): 0, day(2027, 1, 15): 0, day(2027, 1, 16): 1, day(2027, 2, 16): 32,
	} {
		if got := DaysPastDue(states, today); got != want {
			t.Errorf("DaysPastDue on %s = %d, want %d", today.Format(time.DateOnly), got, want)
		}
	}
	paid := []InstalmentState{{Instalment: s.Rows[0], InterestPaid: 40_00, PrincipalPaid: 60_00}}
	if got := DaysPastDue(paid, day(2027, 6, 1)); got != 0 {
		t.Errorf("DaysPastDue with everything paid = %d", got)
	}
}

// Journal lines: zero amounts are left out, the rest in order; balances
// add debits and credits per account.
func TestJournalLinesAndBalances(t *testing.T) {
	t.Parallel()
	k := KeyFacts{Amount: 5_00_000_00, NetDisbursed: 4_88_200_00, ProcessingFee: 10_000_00, GST: 1_800_00}
	want := []model.JournalLine{
		{Account: model.AccountLoanPortfolio, Side: model.Debit, Amount: 5_00_000_00, Currency: "INR"},
		{Account: model.AccountBank, Side: model.Credit, Amount: 4_88_200_00, Currency: "INR"},
		{Account: model.AccountProcessingFee, Side: model.Credit, Amount: 10_000_00, Currency: "INR"},
		{Account: model.AccountGSTOutput, Side: model.Credit, Amount: 1_800_00, Currency: "INR"},
	}
	if got := DisbursementLines(k); !reflect.DeepEqual(got, want) {
		t.Errorf("DisbursementLines = %+v", got)
	}
	k.ProcessingFee, k.GST, k.NetDisbursed = 0, 0, 5_00_000_00 // a product without a fee
	if got := DisbursementLines(k); len(got) != 2 || got[1].Amount != 5_00_000_00 {
		t.Errorf("DisbursementLines without a fee = %+v", got)
	}
	repay := RepaymentLines(100_00, []model.Allocation{{Instalment: 1, Interest: 40_00, Principal: 10_00}, {Instalment: 2, Principal: 50_00}})
	wantRepay := []model.JournalLine{
		{Account: model.AccountBank, Side: model.Debit, Amount: 100_00, Currency: "INR"},
		{Account: model.AccountLoanPortfolio, Side: model.Credit, Amount: 60_00, Currency: "INR"},
		{Account: model.AccountInterestIncome, Side: model.Credit, Amount: 40_00, Currency: "INR"},
	}
	if !reflect.DeepEqual(repay, wantRepay) {
		t.Errorf("RepaymentLines = %+v", repay)
	}
	b := AccountBalances([]model.JournalTxn{{Lines: want}, {Lines: wantRepay}})
	if b[model.AccountBank] != (Balances{Debits: 100_00, Credits: 4_88_200_00}) || b[model.AccountBank].Net() != 100_00-4_88_200_00 ||
		b[model.AccountLoanPortfolio] != (Balances{Debits: 5_00_000_00, Credits: 60_00}) || len(b) != 5 {
		t.Errorf("AccountBalances = %+v", b)
	}
}
