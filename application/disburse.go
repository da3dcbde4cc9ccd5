package application

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"loandesk/auth"
	"loandesk/model"
)

// Ledger is what moving money needs of storage: the loan's distributed
// lock with its fencing token, and the append-only journal.
type Ledger interface {
	// WithLockWait runs fn holding the lock key (a lease of ttl, renewed
	// while fn runs), waiting up to wait for it: model.ErrLockHeld after.
	WithLockWait(ctx context.Context, key string, ttl, wait time.Duration, fn func(ctx context.Context, fence int64) error) error
	// LedgerFenceAdvance refuses (model.ErrStaleFence) a fence older than
	// one already seen for scope.
	LedgerFenceAdvance(ctx context.Context, scope string, fence int64) error
	// LedgerPost appends a balanced transaction: model.ErrUnbalanced,
	// model.ErrDuplicate (its idempotency key), model.ErrUTRUsed.
	LedgerPost(ctx context.Context, t model.JournalTxn) error
	LedgerTxnByKey(ctx context.Context, key string) (model.JournalTxn, error)
	LedgerTxnsOfLoan(ctx context.Context, loanID string) ([]model.JournalTxn, error)
	LedgerTxns(ctx context.Context) ([]model.JournalTxn, error)
}

// Refused is a request for money movement that has been made already or
// is being made (HTTP 409): the answer to a double click on another
// server, or to a disbursement of a disbursed loan.
type Refused struct {
	Loan    model.Loan
	Code    string // already_disbursed, in_progress
	Message string
}

func (e *Refused) Error() string { return "application: refused: " + e.Message }

// Codes of money movement.
const (
	CodeAlreadyDisbursed = "already_disbursed"
	CodeInProgress       = "in_progress"
	CodeNotSanctioned    = "not_sanctioned"
	CodeUTRUsed          = "utr_used"
	CodeTooMuch          = "more_than_owed"
)

// Locks' leases and waits for money movement.
const (
	moneyLockTTL      = 30 * time.Second
	disburseLockWait  = 0               // a second click answers "in progress" at once
	repaymentLockWait = 5 * time.Second // receipts of one loan queue briefly
)

// utrPattern is a bank's unique transaction reference: 12 to 22 letters
// and digits (IMPS 12 digits, NEFT 16, RTGS 22 characters).
var utrPattern = regexp.MustCompile(`^[A-Z0-9]{12,22}$`)

// normalizeUTR upper-cases and checks a UTR.
func normalizeUTR(raw string) (string, *Problem) {
	utr := strings.TrimSpace(raw)
	if !isASCII(utr) { // before case mapping: "ı" must not become "I"
		return "", &Problem{Code: CodeInvalidFormat, Message: "A UTR is 12 to 22 letters and digits."}
	}
	utr = strings.ToUpper(utr)
	switch {
	case utr == "":
		return "", &Problem{Code: CodeRequired, Message: "Enter the bank's UTR of the payment."}
	case !utrPattern.MatchString(utr):
		return "", &Problem{Code: CodeInvalidFormat, Message: "A UTR is 12 to 22 letters and digits."}
	}
	return utr, nil
}

// lockKey is the lock that serialises money movement on a loan.
func lockKey(l model.Loan) string { return "loan:" + l.HumanID }

// DisburseRequest pays out a sanctioned loan.
type DisburseRequest struct {
	Actor  auth.User
	LoanID string
	UTR    string // the bank's reference of the payout
	// FirstEMIDate is the first instalment's due date: zero for one month
	// after today; at most two months after today.
	FirstEMIDate time.Time
}

// Disburse pays out a sanctioned loan exactly once. Under the loan's
// lock (a second attempt anywhere answers *Refused in_progress), it
// checks the status and that no disbursement exists, posts the journal
// (DisbursementLines of the Key Fact Statement) with the lock's fencing
// token, then records the disbursement and the status with a versioned
// update. A retry after a crash between the two finds the posting by its
// idempotency key and only finishes the update. Only an admin who did
// not approve the loan disburses it (maker-checker); the UTR is required
// and unique across all postings. Repeating a disbursement with its UTR
// returns it (Saved false); another UTR is *Refused already_disbursed.
func (s *Service) Disburse(ctx context.Context, req DisburseRequest) (Result, error) {
	l, err := s.Loans.LoanGet(ctx, req.LoanID)
	if err != nil {
		return Result{}, err
	}
	if err := mayMoveMoney(req.Actor, auth.RoleAdmin, l, "Only an admin disburses a loan."); err != nil {
		return Result{}, err // before the lock: nobody else's attempt waits on it
	}
	var res Result
	err = s.Ledger.WithLockWait(ctx, lockKey(l), moneyLockTTL, disburseLockWait, func(ctx context.Context, fence int64) error {
		res, err = s.disburse(ctx, req, fence)
		return err
	})
	if errors.Is(err, model.ErrLockHeld) || errors.Is(err, model.ErrLockLost) || errors.Is(err, model.ErrStaleFence) {
		return Result{}, &Refused{Loan: l, Code: CodeInProgress, Message: "A disbursement of this loan is in progress: check it again in a moment."}
	}
	return res, err
}

// mayMoveMoney refuses people whose role may not, and the shared
// ADMIN_TOKEN: maker-checker needs a person, and a shared token would let
// an approver disburse (or post) under another name.
func mayMoveMoney(actor auth.User, role string, l model.Loan, reason string) error {
	switch {
	case actor.Shared:
		return &Forbidden{Loan: l, Reason: "Money is moved by a person signed in as themselves, not with the shared API token."}
	case role == auth.RoleAdmin && actor.Role != auth.RoleAdmin, role != auth.RoleAdmin && !CanWork(actor.Role):
		return &Forbidden{Loan: l, Reason: reason}
	}
	return nil
}

func (s *Service) disburse(ctx context.Context, req DisburseRequest, fence int64) (Result, error) {
	l, err := s.Loans.LoanGet(ctx, req.LoanID)
	if err != nil {
		return Result{}, err
	}
	utr, problem := normalizeUTR(req.UTR)
	if d := l.Disbursement; d != nil {
		if problem == nil && utr == d.UTR {
			return Result{Loan: l}, nil // a retry of this disbursement
		}
		return Result{}, &Refused{Loan: l, Code: CodeAlreadyDisbursed,
			Message: fmt.Sprintf("Already disbursed on %s (UTR %s).", d.DisbursedOn.Format("02 Jan 2006"), d.UTR)}
	}
	invalid := func(key string, p Problem) error { return &Invalid{Loan: l, Fields: Errors{key: p}} }
	switch {
	case l.Status != model.StatusSanctioned:
		return Result{}, invalid("status", Problem{CodeNotSanctioned, fmt.Sprintf("Only a sanctioned loan is disbursed; this one is %s.", StatusLabels[l.Status])})
	case problem != nil:
		return Result{}, invalid("utr", *problem)
	}
	for _, approver := range Approvers(l) {
		if approver == req.Actor.Email {
			return Result{}, invalid("status", Problem{CodeMakerChecker, "Maker-checker: you approved this loan; another admin disburses it."})
		}
	}
	today := civil(s.now())
	first := req.FirstEMIDate
	if first.IsZero() {
		first = AddMonths(today, 1)
	}
	if !first.After(today) || first.After(AddMonths(today, 2)) {
		return Result{}, invalid("firstEmiDate", Problem{CodeOutOfRange, "The first EMI falls due after today and at most two months from it."})
	}
	p, _ := ProductByName(l.Terms.Product)
	k := Charges(l.Terms, p)
	key := TxnDisbursement + ":" + l.HumanID
	txn, err := s.Ledger.LedgerTxnByKey(ctx, key)
	switch {
	case errors.Is(err, model.ErrNotFound):
		// Not posted yet: refuse a stale holder, then post as the loan's
		// first transaction (a unique number: two holders cannot both).
		if err := s.Ledger.LedgerFenceAdvance(ctx, "ledger:"+l.HumanID, fence); err != nil {
			return Result{}, err
		}
		txn = model.JournalTxn{
			ID: newTxnID(), Kind: TxnDisbursement, IdempotencyKey: key, UTR: utr, LoanID: l.HumanID, Fence: fence, Seq: 1,
			By: req.Actor.Email, PostedAt: s.Clock.Now().UTC(), ValueDate: today,
			Narration: fmt.Sprintf("Disbursement of %s: net to the borrower, fee and GST retained", l.HumanID),
			Lines:     DisbursementLines(k),
		}
		if err := s.Ledger.LedgerPost(ctx, txn); errors.Is(err, model.ErrUTRUsed) {
			return Result{}, invalid("utr", Problem{CodeUTRUsed, "This UTR is already on another transaction: check the bank reference."})
		} else if errors.Is(err, model.ErrDuplicate) || errors.Is(err, model.ErrConflict) {
			// Another attempt posted it meanwhile (its lock was released
			// under it): that posting is the disbursement, with its UTR.
			if txn, err = s.Ledger.LedgerTxnByKey(ctx, key); err != nil {
				return Result{}, err
			}
			if txn.UTR != utr {
				return Result{}, &Refused{Loan: l, Code: CodeAlreadyDisbursed, Message: fmt.Sprintf("Already disbursed (UTR %s).", txn.UTR)}
			}
			today = txn.ValueDate
		} else if err != nil {
			return Result{}, err
		}
		if s.Hooks.AfterJournal != nil {
			s.Hooks.AfterJournal()
		}
	case err != nil:
		return Result{}, err
	default:
		// Posted by an attempt that died (or lost its lock) before
		// recording it: finish that one, with its reference and date; the
		// answer to a request with another UTR is that it is done.
		if txn.UTR != utr {
			res, err := s.recordDisbursement(ctx, req, l, txn, txn.UTR, txn.ValueDate, first, k)
			if err != nil {
				return res, err
			}
			return Result{}, &Refused{Loan: res.Loan, Code: CodeAlreadyDisbursed, Message: fmt.Sprintf("Already disbursed (UTR %s).", txn.UTR)}
		}
		today = txn.ValueDate
	}
	return s.recordDisbursement(ctx, req, l, txn, utr, today, first, k)
}

// recordDisbursement records a posted disbursement on the loan with a
// versioned update; if the loan changed meanwhile it reads it again, and
// stops at a disbursement someone else recorded.
func (s *Service) recordDisbursement(ctx context.Context, req DisburseRequest, l model.Loan, txn model.JournalTxn, utr string, today, first time.Time, k KeyFacts) (Result, error) {
	days, bpi := BrokenPeriod(k.Amount, l.Terms.AnnualRateBps, today, first)
	d := &model.Disbursement{
		Gross: k.Amount, Fee: k.ProcessingFee, GST: k.GST, Net: k.NetDisbursed, UTR: utr, DisbursedOn: today, FirstEMIDate: first,
		BrokenPeriodDays: days, BrokenPeriodInterest: bpi, TxnID: txn.ID, By: req.Actor.Email, At: s.Clock.Now().UTC(),
	}
	for try := 1; ; try++ {
		if l.Disbursement != nil {
			if l.Disbursement.UTR == utr {
				return Result{Loan: l, Saved: l.Disbursement.TxnID == txn.ID}, nil
			}
			return Result{}, &Refused{Loan: l, Code: CodeAlreadyDisbursed, Message: fmt.Sprintf("Already disbursed (UTR %s).", l.Disbursement.UTR)}
		}
		next := l
		next.Status, next.Disbursement, next.FirstEMIDate = model.StatusDisbursed, d, first
		change := s.change(req.Actor, []model.FieldChange{{Field: "status", From: l.Status, To: model.StatusDisbursed}}, "UTR "+utr)
		updated, err := s.Loans.LoanUpdate(ctx, next, change)
		if errors.Is(err, model.ErrConflict) && try < maxWriteTries {
			if l, err = s.Loans.LoanGet(ctx, req.LoanID); err != nil {
				return Result{}, err
			}
			continue // an assignment meanwhile: the money is posted, record it
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Loan: updated, Saved: true}, nil
	}
}

// Approvers are who approved the loan's current approval: the checker
// of the last move to approved and its first approver, if any.
func Approvers(l model.Loan) []string {
	for i := len(l.History) - 1; i >= 0; i-- {
		h := l.History[i]
		for _, c := range h.Fields {
			if c.Field == "status" && c.To == model.StatusApproved {
				if h.FirstApprover != "" {
					return []string{h.By, h.FirstApprover}
				}
				return []string{h.By}
			}
		}
	}
	return nil
}

func newTxnID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "TXN-" + strings.ToUpper(hex.EncodeToString(b))
}

// RepaymentRequest records money received against a disbursed loan.
type RepaymentRequest struct {
	Actor    auth.User
	LoanID   string
	Amount   int64     // paise
	Currency string    // INR ("" means INR)
	Date     time.Time // the value date (a calendar date); zero for today
	UTR      string
	// IdempotencyKey makes a retry return the first posting ("" uses the UTR).
	IdempotencyKey string
}

// Repayment is a posted receipt.
type Repayment struct {
	Loan model.Loan
	Txn  model.JournalTxn
	// Saved is false when a retry found the receipt posted before.
	Saved bool
}

// PostRepayment posts a receipt against a disbursed loan under the
// loan's lock: allocated to the oldest unpaid instalment's interest,
// then its principal, and on (see Allocate); journal Dr bank / Cr loan
// portfolio / Cr interest income. Staff who work applications post
// receipts. Refused (*Invalid, nothing posted): a loan not disbursed,
// zero, negative or overflowing amounts, another currency, more than is
// owed, a value date in the future or before the disbursement, a missing
// or reused UTR; an idempotency key reused for another receipt.
func (s *Service) PostRepayment(ctx context.Context, req RepaymentRequest) (Repayment, error) {
	l, err := s.Loans.LoanGet(ctx, req.LoanID)
	if err != nil {
		return Repayment{}, err
	}
	if err := mayMoveMoney(req.Actor, auth.RoleUnderwriter, l, "Your role can view loans but not post receipts."); err != nil {
		return Repayment{}, err
	}
	var out Repayment
	err = s.Ledger.WithLockWait(ctx, lockKey(l), moneyLockTTL, repaymentLockWait, func(ctx context.Context, fence int64) error {
		for try := 1; ; try++ {
			out, err = s.postRepayment(ctx, req, fence)
			if errors.Is(err, model.ErrConflict) && try < maxWriteTries {
				continue // another posting landed since we read the journal: allocate again
			}
			return err
		}
	})
	if errors.Is(err, model.ErrLockHeld) || errors.Is(err, model.ErrLockLost) || errors.Is(err, model.ErrStaleFence) || errors.Is(err, model.ErrConflict) {
		return Repayment{}, &Refused{Loan: l, Code: CodeInProgress, Message: "Another posting on this loan is in progress: try again in a moment."}
	}
	return out, err
}

func (s *Service) postRepayment(ctx context.Context, req RepaymentRequest, fence int64) (Repayment, error) {
	l, err := s.Loans.LoanGet(ctx, req.LoanID)
	if err != nil {
		return Repayment{}, err
	}
	errs := Errors{}
	utr, problem := normalizeUTR(req.UTR)
	if problem != nil {
		errs["utr"] = *problem
	}
	today := civil(s.now())
	date := req.Date
	if date.IsZero() {
		date = today
	}
	switch {
	case req.Currency != "" && req.Currency != "INR":
		errs.Add("currency", CodeInvalidChoice, "Receipts are in Indian rupees (INR).")
	case req.Amount <= 0:
		errs.Add("amount", CodeOutOfRange, "The amount must be more than zero.")
	case req.Amount >= 1e15:
		errs.Add("amount", CodeOutOfRange, "The amount is too large.")
	}
	if l.Status != model.StatusDisbursed || l.Disbursement == nil {
		errs.Add("status", CodeInvalidChoice, "Receipts are posted against disbursed loans only.")
	} else if date.After(today) || date.Before(l.Disbursement.DisbursedOn) {
		errs.Add("date", CodeOutOfRange, "The value date is between the disbursement and today.")
	}
	key := req.IdempotencyKey
	if key == "" {
		key = utr
	}
	if len(key) > 255 {
		errs.Add("idempotencyKey", CodeTooLong, "An idempotency key is at most 255 characters.")
	}
	if len(errs) > 0 {
		return Repayment{}, &Invalid{Loan: l, Fields: errs}
	}
	key = TxnRepayment + ":" + key
	replay := func(prior model.JournalTxn) (Repayment, error) {
		if prior.LoanID != l.HumanID || prior.UTR != utr || receiptAmount(prior) != req.Amount {
			return Repayment{}, &Invalid{Loan: l, Fields: Errors{"idempotencyKey": {CodeKeyReused, "This key (or UTR) already posted a different receipt."}}}
		}
		return Repayment{Loan: l, Txn: prior}, nil
	}
	if prior, err := s.Ledger.LedgerTxnByKey(ctx, key); err == nil {
		return replay(prior)
	} else if !errors.Is(err, model.ErrNotFound) {
		return Repayment{}, err
	}
	txns, err := s.Ledger.LedgerTxnsOfLoan(ctx, l.HumanID)
	if err != nil {
		return Repayment{}, err
	}
	sched := RepaymentSchedule(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps, l.FirstEMIDate)
	allocs, err := Allocate(Repayments(sched, txns), req.Amount)
	if err != nil {
		return Repayment{}, &Invalid{Loan: l, Fields: Errors{"amount": {CodeTooMuch, "The receipt is more than is still owed on this loan."}}}
	}
	if err := s.Ledger.LedgerFenceAdvance(ctx, "ledger:"+l.HumanID, fence); err != nil {
		return Repayment{}, err
	}
	txn := model.JournalTxn{
		ID: newTxnID(), Kind: TxnRepayment, IdempotencyKey: key, UTR: utr, LoanID: l.HumanID, Fence: fence, Seq: len(txns) + 1,
		By: req.Actor.Email, PostedAt: s.Clock.Now().UTC(), ValueDate: date, Narration: "Receipt against " + l.HumanID,
		Lines: RepaymentLines(req.Amount, allocs), Allocations: allocs,
	}
	switch err := s.Ledger.LedgerPost(ctx, txn); {
	case errors.Is(err, model.ErrUTRUsed):
		return Repayment{}, &Invalid{Loan: l, Fields: Errors{"utr": {CodeUTRUsed, "This UTR is already on another transaction: check the bank reference."}}}
	case errors.Is(err, model.ErrDuplicate):
		prior, err := s.Ledger.LedgerTxnByKey(ctx, key)
		if err != nil {
			return Repayment{}, err
		}
		return replay(prior)
	case err != nil:
		return Repayment{}, err
	}
	return Repayment{Loan: l, Txn: txn, Saved: true}, nil
}

// receiptAmount is what a repayment transaction received.
func receiptAmount(t model.JournalTxn) int64 {
	for _, l := range t.Lines {
		if l.Account == model.AccountBank && l.Side == model.Debit {
			return l.Amount
		}
	}
	return 0
}
