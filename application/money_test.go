package application_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/clock"
	"loandesk/model"
	"loandesk/store"
)

var (
	admin2  = auth.User{Email: "admin2@example.com", Name: "Second Admin", Role: auth.RoleAdmin}
	cashier = auth.User{Email: "cashier@example.com", Name: "Cashier", Role: auth.RoleUnderwriter}
)

// sanctioned files the loan (₹5,00,000 at 10.50 % over 60
// months, personal: 2 % fee + 18 % GST) as uw, has admin approve and
// sanction it, and returns it; admin2 may disburse it.
func sanctioned(t *testing.T, b *serviceBundle, pan string) model.Loan {
	t.Helper()
	ctx := context.Background()
	res, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan(pan)})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Loan
	for _, f := range l.Flags { // repeated PANs in a test: acknowledge
		r, err := b.svc.AcknowledgeFlag(ctx, application.AckRequest{Actor: uw, LoanID: l.HumanID, Version: l.Version, Code: f.Code, OtherLoan: f.OtherLoan, Note: "test"})
		if err != nil {
			t.Fatal(err)
		}
		l = r.Loan
	}
	step := func(who auth.User, to string) {
		t.Helper()
		r, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: who, LoanID: l.HumanID, Version: l.Version, To: to})
		if err != nil {
			t.Fatalf("%s → %s: %v", who.Email, to, err)
		}
		l = r.Loan
	}
	step(uw, model.StatusUnderReview)
	if _, err := b.svc.RecordScore(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	step(admin, model.StatusApproved)
	step(admin, model.StatusSanctioned)
	return l
}

func (b *serviceBundle) seedStaff(t *testing.T) {
	t.Helper()
	for _, u := range []auth.User{admin2, cashier} {
		if _, err := b.st.UserCreate(context.Background(), store.UserCreateParams{Email: u.Email, Name: u.Name, Role: u.Role, PasswordHash: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
}

func balances(t *testing.T, st *store.Store, loanID string) map[string]application.Balances {
	t.Helper()
	var txns []model.JournalTxn
	var err error
	if loanID == "" {
		txns, err = st.LedgerTxns(context.Background())
	} else {
		txns, err = st.LedgerTxnsOfLoan(context.Background(), loanID)
	}
	if err != nil {
		t.Fatal(err)
	}
	return application.AccountBalances(txns)
}

func TestService_Disburse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 10, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	disburse := func(who auth.User, utr string, first time.Time) (application.Result, error) {
		return b.svc.Disburse(ctx, application.DisburseRequest{Actor: who, LoanID: l.HumanID, UTR: utr, FirstEMIDate: first})
	}
	code := func(err error, key string) string {
		var inv *application.Invalid
		var fb *application.Forbidden
		switch {
		case errors.As(err, &inv):
			return inv.Fields[key].Code
		case errors.As(err, &fb):
			return "forbidden"
		}
		return fmt.Sprint(err)
	}
	// Refusals post nothing.
	if c := code(second(disburse(admin, "UTIB0000012345", time.Time{})), "status"); c != application.CodeMakerChecker {
		t.Errorf("the approver: %s", c)
	}
	if c := code(second(disburse(uw, "UTIB0000012345", time.Time{})), ""); c != "forbidden" {
		t.Errorf("an underwriter: %s", c)
	}
	for utr, want := range map[string]string{"": application.CodeRequired, "short": application.CodeInvalidFormat, "UTIB-0000-12345": application.CodeInvalidFormat} {
		if c := code(second(disburse(admin2, utr, time.Time{})), "utr"); c != want {
			t.Errorf("UTR %q: %s, want %s", utr, c, want)
		}
	}
	if c := code(second(disburse(admin2, "UTIB0000012345", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))), "firstEmiDate"); c != application.CodeOutOfRange {
		t.Errorf("first EMI too late: %s", c)
	}
	if n := len(balances(t, b.st, "")); n != 0 {
		t.Fatalf("refusals posted: %v", balances(t, b.st, ""))
	}

	// The disbursement: the journal, exactly.
	first := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	res, err := disburse(admin2, "utib0000012345", first)
	if err != nil || !res.Saved || res.Loan.Status != model.StatusDisbursed {
		t.Fatalf("disburse: %+v %v", res.Loan.Status, err)
	}
	d := res.Loan.Disbursement
	if d.Gross != 5_00_000_00 || d.Net != 4_88_200_00 || d.Fee != 10_000_00 || d.GST != 1_800_00 || d.UTR != "UTIB0000012345" ||
		!d.DisbursedOn.Equal(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)) || !res.Loan.FirstEMIDate.Equal(first) {
		t.Fatalf("disbursement: %+v", d)
	}
	// 10 Dec → 15 Dec: 5 days before the first EMI's month, actual/365.
	if d.BrokenPeriodDays != 5 || d.BrokenPeriodInterest != 719_18 {
		t.Errorf("broken period: %d days, %d paise", d.BrokenPeriodDays, d.BrokenPeriodInterest)
	}
	bal := balances(t, b.st, l.HumanID)
	want := map[string]application.Balances{
		model.AccountLoanPortfolio: {Debits: 5_00_000_00}, model.AccountBank: {Credits: 4_88_200_00},
		model.AccountProcessingFee: {Credits: 10_000_00}, model.AccountGSTOutput: {Credits: 1_800_00},
	}
	if fmt.Sprint(bal) != fmt.Sprint(want) {
		t.Fatalf("journal: %v", bal)
	}
	// A retry with the same UTR is the same disbursement; another UTR is
	// refused; the UTR cannot pay out another loan.
	if res, err := disburse(admin2, "UTIB0000012345", first); err != nil || res.Saved {
		t.Fatalf("retry: %v", err)
	}
	var rf *application.Refused
	if _, err := disburse(admin2, "HDFC0000099999", first); !errors.As(err, &rf) || rf.Code != application.CodeAlreadyDisbursed {
		t.Fatalf("another UTR: %v", err)
	}
	other := sanctioned(t, b, "ABCPI1234K")
	if _, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: other.HumanID, UTR: "UTIB0000012345"}); code(err, "utr") != application.CodeUTRUsed {
		t.Fatalf("a used UTR on another loan: %v", err)
	}
	if txns, _ := b.st.LedgerTxns(ctx); len(txns) != 1 {
		t.Fatalf("%d postings", len(txns))
	}
}

// 20 concurrent disbursements of one loan: exactly one posting, the rest
// told it is done or in progress.
func TestService_DisburseRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	l := sanctioned(t, b, "ABCPI1234K")
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := range 20 {
		wg.Go(func() {
			res, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: fmt.Sprintf("UTIB%010d", i)})
			var rf *application.Refused
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && res.Saved:
				outcomes["disbursed"]++
			case errors.As(err, &rf):
				outcomes[rf.Code]++
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	txns, _ := b.st.LedgerTxns(ctx)
	if outcomes["disbursed"] != 1 || outcomes[application.CodeAlreadyDisbursed]+outcomes[application.CodeInProgress] != 19 || len(txns) != 1 {
		t.Fatalf("outcomes %v, %d postings", outcomes, len(txns))
	}
	if bal := balances(t, b.st, ""); bal[model.AccountLoanPortfolio].Net() != 5_00_000_00 {
		t.Fatalf("portfolio %v", bal)
	}
}

// A crash (SIGKILL) between posting the journal and recording the
// disbursement: the retry posts nothing more and the loan ends disbursed.
func TestService_DisburseCrashBetweenJournalAndStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := &serviceBundle{st: st, clock: clock.NewManual(time.Now())}
	b.svc = &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: application.DefaultPolicy, Clock: b.clock.Now, Zone: ist}
	for _, u := range []auth.User{admin, admin2, uw} {
		if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: u.Email, Name: u.Name, Role: u.Role, PasswordHash: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	l := sanctioned(t, b, "ABCPI1234K")
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOANDESK_DISBURSE_CHILD="+dir+"|"+l.HumanID)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed: %v\n%s", err, out)
	}

	st, err = store.Open(ctx, store.Config{DataDir: dir, Now: func() time.Time { return time.Now().Add(time.Hour) }}) // its lock has expired
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	if got, _ := st.LoanGet(ctx, l.HumanID); got.Status != model.StatusSanctioned {
		t.Fatalf("before the retry: %s", got.Status)
	}
	if txns, _ := st.LedgerTxns(ctx); len(txns) != 1 {
		t.Fatalf("the child posted %d transactions", len(txns))
	}
	svc := &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: application.DefaultPolicy, Zone: ist,
		Clock: func() time.Time { return time.Now().Add(time.Hour) }}
	res, err := svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
	if err != nil || res.Loan.Status != model.StatusDisbursed || res.Loan.Disbursement.UTR != "UTIB0000012345" {
		t.Fatalf("retry: %v", err)
	}
	if txns, _ := st.LedgerTxns(ctx); len(txns) != 1 || res.Loan.Disbursement.TxnID != txns[0].ID {
		t.Fatalf("after the retry: %d postings", len(txns))
	}
}

// disburseChild is the crash test's child: it disburses and is killed
// right after the journal posting.
func disburseChild(arg string) {
	dir, loanID, _ := strings.Cut(arg, "|")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	svc := &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: application.DefaultPolicy, Zone: ist}
	svc.Hooks.AfterJournal = func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	_, err = svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: loanID, UTR: "UTIB0000012345"})
	panic(fmt.Sprintf("not killed: %v", err))
}

func TestMain(m *testing.M) {
	if arg := os.Getenv("LOANDESK_DISBURSE_CHILD"); arg != "" {
		disburseChild(arg)
		return
	}
	os.Exit(m.Run())
}

func TestService_Repayments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 5, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	res, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
	if err != nil {
		t.Fatal(err)
	}
	l = res.Loan
	pay := func(amount int64, utr string, date time.Time) (application.Repayment, error) {
		return b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: amount, UTR: utr, Date: date})
	}
	// Refusals post nothing.
	for name, req := range map[string]application.RepaymentRequest{
		"zero":           {Amount: 0, UTR: "RCPT00000000001"},
		"negative":       {Amount: -100, UTR: "RCPT00000000001"},
		"overflowing":    {Amount: 1 << 62, UTR: "RCPT00000000001"},
		"dollars":        {Amount: 100, UTR: "RCPT00000000001", Currency: "USD"},
		"no UTR":         {Amount: 100},
		"disbursal's":    {Amount: 100, UTR: "UTIB0000012345"},
		"future date":    {Amount: 100, UTR: "RCPT00000000001", Date: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		"before payout":  {Amount: 100, UTR: "RCPT00000000001", Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		"more than owed": {Amount: 6_44_817_00, UTR: "RCPT00000000001"},
	} {
		req.Actor, req.LoanID = cashier, l.HumanID
		var inv *application.Invalid
		if _, err := b.svc.PostRepayment(ctx, req); !errors.As(err, &inv) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: viewer, LoanID: l.HumanID, Amount: 100, UTR: "RCPT00000000001"}); !errors.As(err, new(*application.Forbidden)) {
		t.Errorf("a viewer: %v", err)
	}
	if txns, _ := b.st.LedgerTxnsOfLoan(ctx, l.HumanID); len(txns) != 1 {
		t.Fatalf("refusals posted: %d", len(txns))
	}

	// A partial ₹5,000.00 against EMI 1: ₹4,375.00 interest, ₹625.00 principal.
	b.clock.Set(time.Date(2027, 1, 5, 12, 0, 0, 0, ist))
	r, err := pay(5_000_00, "RCPT00000000001", time.Time{})
	if err != nil || len(r.Txn.Allocations) != 1 || r.Txn.Allocations[0] != (model.Allocation{Instalment: 1, Interest: 4_375_00, Principal: 625_00}) {
		t.Fatalf("partial: %+v %v", r.Txn.Allocations, err)
	}
	if again, err := pay(5_000_00, "RCPT00000000001", time.Time{}); err != nil || again.Saved || again.Txn.ID != r.Txn.ID {
		t.Fatalf("a retry: %v", err)
	}
	// The rest of EMI 1, then EMIs 2–60 on their dates.
	b.clock.Set(time.Date(2032, 1, 1, 12, 0, 0, 0, ist))
	sched := application.RepaymentSchedule(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps, l.FirstEMIDate)
	if _, err := pay(sched.Rows[0].Amount-5_000_00, "RCPT00000000002", sched.Rows[0].DueDate); err != nil {
		t.Fatal(err)
	}
	for _, row := range sched.Rows[1:] {
		if _, err := pay(row.Amount, fmt.Sprintf("RCPT%011d", 100+row.Number), row.DueDate); err != nil {
			t.Fatalf("EMI %d: %v", row.Number, err)
		}
	}
	bal := balances(t, b.st, l.HumanID)
	if bal[model.AccountLoanPortfolio].Net() != 0 || bal[model.AccountInterestIncome].Credits != 1_44_816_99 {
		t.Fatalf("after 60 receipts: portfolio %d, interest income %d", bal[model.AccountLoanPortfolio].Net(), bal[model.AccountInterestIncome].Credits)
	}
	if _, err := pay(1, "RCPT00000009999", time.Time{}); !errors.As(err, new(*application.Invalid)) {
		t.Fatalf("a receipt after the loan is repaid: %v", err)
	}
}

// Many goroutines on several service instances sharing one store post
// disbursements and receipts at random; after each step the trial
// balance is zero and every loan's portfolio balance equals its
// schedule's outstanding principal.
func TestService_LedgerRandomised(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, ist))
	const loans = 4
	var ids []string
	for i := range loans {
		ids = append(ids, sanctioned(t, b, fmt.Sprintf("ABCPX%04dK", i)).HumanID)
	}
	b.clock.Set(time.Date(2031, 1, 1, 10, 0, 0, 0, ist)) // receipts may fall on any date until then
	instances := []*application.Service{b.svc, {Loans: b.st, Intake: b.st, Ledger: b.st, Staff: b.st, Policy: application.DefaultPolicy, Clock: b.clock.Now, Zone: ist}}
	check := func(ids ...string) error {
		all := balances(t, b.st, "")
		var debits, credits int64
		for _, v := range all {
			debits += v.Debits
			credits += v.Credits
		}
		if debits != credits {
			return fmt.Errorf("trial balance: debits %d, credits %d", debits, credits)
		}
		// Each loan is read under its lock: no posting is half-way there.
		for _, id := range ids {
			err := b.st.WithLockWait(ctx, "loan:"+id, time.Minute, time.Minute, func(context.Context, int64) error {
				l, _ := b.st.LoanGet(ctx, id)
				txns, _ := b.st.LedgerTxnsOfLoan(ctx, id)
				portfolio := application.AccountBalances(txns)[model.AccountLoanPortfolio].Net()
				want := int64(0)
				if l.Disbursement != nil {
					states := application.Repayments(application.RepaymentSchedule(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps, l.FirstEMIDate), txns)
					for _, s := range states {
						want += s.Principal - s.PrincipalPaid
					}
				}
				if portfolio != want {
					return fmt.Errorf("%s: portfolio %d, schedule outstanding %d", id, portfolio, want)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises the checks with the steps, not the steps
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			svc := instances[g%len(instances)]
			for step := range 30 {
				id := ids[r.IntN(loans)]
				var err error
				if r.IntN(4) == 0 {
					_, err = svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: id, UTR: fmt.Sprintf("DISB%02d%02d%08d", g, step, r.IntN(1e8)),
						FirstEMIDate: time.Time{}})
				} else {
					_, err = svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: id, Amount: int64(1 + r.IntN(20_000_00)),
						UTR: fmt.Sprintf("RCPT%02d%02d%08d", g, step, r.IntN(1e8))})
				}
				var inv *application.Invalid
				var rf *application.Refused
				if err != nil && !errors.As(err, &inv) && !errors.As(err, &rf) {
					t.Errorf("step %d: %v", step, err)
				}
				mu.Lock()
				err = check(id) // the loan this step touched, and the trial balance
				mu.Unlock()
				if err != nil {
					t.Errorf("after step %d of goroutine %d: %v", step, g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := check(ids...); err != nil {
		t.Fatal(err)
	}
	txns, _ := b.st.LedgerTxns(ctx)
	disbursed := 0
	for _, tx := range txns {
		if tx.Kind == application.TxnDisbursement {
			disbursed++
		}
	}
	t.Logf("%d postings, %d disbursements", len(txns), disbursed)
	if disbursed > loans || len(txns) < loans {
		t.Fatalf("%d disbursements of %d loans, %d postings", disbursed, loans, len(txns))
	}
}

// unlockedLedger is the real store with its lock taken away: every
// caller "holds" the loan's lock at once, as holders do after an admin
// releases a live lock under one of them.
type unlockedLedger struct{ *store.Store }

func (u unlockedLedger) WithLockWait(ctx context.Context, _ string, _, _ time.Duration, fn func(context.Context, int64) error) error {
	return fn(ctx, 1<<40)
}

// The money break test: an admin releases the loan's lock under a live
// disbursement, and a second attempt (another UTR) runs in between. One
// disbursement, recorded with its own UTR; the second attempt is told it
// is done.
func TestService_LockReleasedUnderADisbursement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	l := sanctioned(t, b, "ABCPI1234K")
	var second error
	b.svc.Hooks.AfterJournal = func() {
		b.svc.Hooks.AfterJournal = nil
		locks, _ := b.st.LockList(ctx)
		if err := b.st.LockRelease(ctx, store.LockReleaseParams{Key: locks[0].Key, Fence: locks[0].Fence, By: admin.Email, Reason: "test"}); err != nil {
			t.Error(err)
		}
		_, second = b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "HDFC0000099999"})
	}
	first, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
	var rf *application.Refused
	if err != nil || !first.Saved || !errors.As(second, &rf) || rf.Code != application.CodeAlreadyDisbursed {
		t.Fatalf("first: %v (saved %v); second: %v", err, first.Saved, second)
	}
	got, _ := b.st.LoanGet(ctx, l.HumanID)
	txns, _ := b.st.LedgerTxns(ctx)
	moves := 0
	for _, h := range got.History {
		for _, c := range h.Fields {
			if c.To == model.StatusDisbursed {
				moves++
			}
		}
	}
	if len(txns) != 1 || got.Disbursement.UTR != txns[0].UTR || got.Disbursement.UTR != "UTIB0000012345" || moves != 1 {
		t.Fatalf("%d postings; loan UTR %s, journal UTR %s; %d moves to disbursed", len(txns), got.Disbursement.UTR, txns[0].UTR, moves)
	}
}

// Receipts posted with no lock at all (every poster a holder at once):
// the loan's journal numbers its postings, so no two are decided on the
// same view of it — no instalment is ever paid twice, and every receipt
// is allocated exactly.
func TestService_ReceiptsWithoutTheLockNeverDoubleAllocate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	l := sanctioned(t, b, "ABCPI1234K")
	res, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
	if err != nil {
		t.Fatal(err)
	}
	l = res.Loan
	unlocked := &application.Service{Loans: b.st, Intake: b.st, Ledger: unlockedLedger{b.st}, Staff: b.st, Policy: application.DefaultPolicy, Clock: b.clock.Now, Zone: ist}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			_, err := unlocked.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: 10_746_95, UTR: fmt.Sprintf("RCPT%011d", i)})
			var rf *application.Refused
			if err != nil && !errors.As(err, &rf) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	txns, _ := b.st.LedgerTxnsOfLoan(ctx, l.HumanID)
	states := application.Repayments(application.RepaymentSchedule(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps, l.FirstEMIDate), txns)
	for _, s := range states {
		if s.InterestPaid > s.Interest || s.PrincipalPaid > s.Principal {
			t.Fatalf("instalment %d paid twice: %+v", s.Number, s)
		}
	}
	var received, allocated int64
	for _, tx := range txns {
		if tx.Kind != application.TxnRepayment {
			continue
		}
		received += 10_746_95
		for _, a := range tx.Allocations {
			allocated += a.Interest + a.Principal
		}
	}
	if received != allocated || len(txns) < 2 {
		t.Fatalf("%d receipts: received %d, allocated %d", len(txns)-1, received, allocated)
	}
	t.Logf("%d of 24 lock-less receipts posted", len(txns)-1)
}

// The same idempotency key (or UTR) on two loans at once: one posts, the
// other is refused — never told "posted" with the other loan's receipt.
func TestService_ReceiptKeyOnTwoLoansAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	var ids []string
	for i := range 2 {
		l := sanctioned(t, b, fmt.Sprintf("ABCPK%04dK", i))
		if _, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: fmt.Sprintf("UTIB%010d", i)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.HumanID)
	}
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range ids {
			wg.Go(func() {
				_, errs[i] = b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: id, Amount: 1_000_00,
					UTR: fmt.Sprintf("RCPT%011d", round), IdempotencyKey: fmt.Sprint("same-", round)})
			})
		}
		wg.Wait()
		var inv *application.Invalid
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.As(err, &inv):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d successes (%v)", round, ok, errs)
		}
	}
}
