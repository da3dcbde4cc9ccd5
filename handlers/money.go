package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-json-experiment/json/jsontext"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/store"
	"loandesk/views"
)

// MoneyStore is what the money pages read: the journal and the locks.
type MoneyStore interface {
	LedgerTxnsOfLoan(ctx context.Context, loanID string) ([]model.JournalTxn, error)
	LedgerTxns(ctx context.Context) ([]model.JournalTxn, error)
	LockList(ctx context.Context) ([]store.Lock, error)
	LockRelease(ctx context.Context, p store.LockReleaseParams) error
}

// moneyPanel is the loan page's disbursement and receipts card.
func (a *App) moneyPanel(ctx context.Context, l model.Loan, user auth.User) views.MoneyPanel {
	m := views.MoneyPanel{
		Show:        l.Status == model.StatusSanctioned || l.Disbursement != nil,
		CanDisburse: user.IsAdmin() && l.Status == model.StatusSanctioned && application.DisburseRefusal(user, l) == "",
		Unavailable: application.DisburseRefusal(user, l),
		DisburseURL: loanURL(l.HumanID) + "/disburse", ReceiveURL: loanURL(l.HumanID) + "/repayments",
		LedgerURL: loanURL(l.HumanID) + "/ledger", ReceiptKey: newIdempotencyKey(),
	}
	d := l.Disbursement
	if d == nil {
		return m
	}
	m.Disbursed, m.CanReceive = true, application.CanWork(user.Role)
	m.Payout = []views.KeyValue{
		{Label: "Disbursed on", Value: d.DisbursedOn.Format("02 Jan 2006")}, {Label: "UTR", Value: d.UTR},
		{Label: "Gross", Value: money.FormatINR(d.Gross)}, {Label: "Processing fee", Value: money.FormatINR(d.Fee)},
		{Label: "GST on the fee", Value: money.FormatINR(d.GST)}, {Label: "Net paid", Value: money.FormatINR(d.Net)},
		{Label: "First EMI due", Value: d.FirstEMIDate.Format("02 Jan 2006")},
		{Label: "Broken-period interest", Value: fmt.Sprintf("%s for %d days (actual/365)", money.FormatINR(d.BrokenPeriodInterest), d.BrokenPeriodDays)},
	}
	if a.Money != nil {
		if txns, err := a.Money.LedgerTxnsOfLoan(ctx, l.HumanID); err == nil {
			states := application.Repayments(application.RepaymentSchedule(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps, l.FirstEMIDate), txns)
			m.DPD = strconv.Itoa(application.DaysPastDue(states, a.now().In(a.zone())))
		}
	}
	return m
}

// DisburseLoan pays out a sanctioned loan (admins who did not approve
// it) through the loan service: exactly once, whatever else is clicked
// anywhere.
func (a *App) DisburseLoan(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	first, ok := parseDate(r.PostForm.Get("firstEmiDate"))
	req := application.DisburseRequest{Actor: user, LoanID: chi.URLParam(r, "id"), UTR: r.PostForm.Get("utr"), FirstEMIDate: first}
	var err error
	var res application.Result
	if !ok {
		err = formInputError{}
	} else {
		res, err = a.Service.Disburse(r.Context(), req)
	}
	if err == nil {
		msg := fmt.Sprintf("%s is disbursed: %s paid (UTR %s).", res.Loan.HumanID, money.FormatINR(res.Loan.Disbursement.Net), res.Loan.Disbursement.UTR)
		if !res.Saved {
			msg = res.Loan.HumanID + " was already disbursed with this UTR."
		}
		a.flash(r, msg)
		a.redirect(w, r, loanURL(res.Loan.HumanID)+"#money-panel")
		return
	}
	a.moneyRefusal(w, r, err, func(m *views.MoneyPanel, msg string) {
		m.Error, m.UTR, m.FirstDue = msg, r.PostForm.Get("utr"), r.PostForm.Get("firstEmiDate")
		if !ok {
			m.Error = "Enter the first EMI date as YYYY-MM-DD, or leave it empty for one month from today."
		}
	})
}

// PostRepayment records money received against a disbursed loan.
func (a *App) PostRepayment(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	amount, amountErr := money.ParseRupees(r.PostForm.Get("amount"))
	date, dateOK := parseDate(r.PostForm.Get("date"))
	req := application.RepaymentRequest{Actor: user, LoanID: chi.URLParam(r, "id"), Amount: amount, Date: date,
		UTR: r.PostForm.Get("utr"), IdempotencyKey: r.PostForm.Get("idempotencyKey")}
	var err error
	var res application.Repayment
	switch {
	case amountErr != nil, !dateOK:
		err = formInputError{}
	default:
		res, err = a.Service.PostRepayment(r.Context(), req)
	}
	if err == nil {
		a.flash(r, fmt.Sprintf("Receipt of %s posted to %s (UTR %s).", money.FormatINR(amount), res.Loan.HumanID, res.Txn.UTR))
		a.redirect(w, r, loanURL(res.Loan.HumanID)+"#money-panel")
		return
	}
	a.moneyRefusal(w, r, err, func(m *views.MoneyPanel, msg string) {
		m.ReceiptErr, m.Amount, m.ReceiptUTR, m.ReceiptDate = msg, r.PostForm.Get("amount"), r.PostForm.Get("utr"), r.PostForm.Get("date")
		m.ReceiptKey = r.PostForm.Get("idempotencyKey")
		switch {
		case amountErr != nil:
			m.ReceiptErr = "Enter the amount in rupees, like 10746.95 or 10,746.95."
		case !dateOK:
			m.ReceiptErr = "Enter the value date as YYYY-MM-DD, or leave it empty for today."
		}
	})
}

// formInputError is a form value the handler itself could not read.
type formInputError struct{}

func (formInputError) Error() string { return "unreadable form value" }

// moneyRefusal re-shows the loan page with the money card's message:
// 403, 409 (done or in progress), 422; 404 and 500 as usual.
func (a *App) moneyRefusal(w http.ResponseWriter, r *http.Request, err error, show func(m *views.MoneyPanel, msg string)) {
	var (
		status int
		l      model.Loan
		msg    string
		rf     *application.Refused
	)
	switch {
	case errors.As(err, &rf):
		status, l, msg = http.StatusConflict, rf.Loan, rf.Message
	case errors.Is(err, formInputError{}):
		var gerr error
		if l, gerr = a.Loans.LoanGet(r.Context(), chi.URLParam(r, "id")); gerr != nil {
			a.actionOutcome(w, r, gerr)
			return
		}
		status = http.StatusUnprocessableEntity
	default:
		var ok bool
		if status, l, msg, ok = a.actionOutcome(w, r, err); !ok {
			return
		}
	}
	user, _ := auth.UserFrom(r.Context())
	d := a.loanDetail(r.Context(), l, user)
	show(&d.Money, msg)
	d.Money.Show = true
	a.renderLoanPage(w, r, status, l, d)
}

// parseDate reads an optional YYYY-MM-DD (zero time when empty).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

// ShowLoanLedger is a loan's journal with the running balance of each
// account.
func (a *App) ShowLoanLedger(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	txns, err := a.Money.LedgerTxnsOfLoan(r.Context(), l.HumanID)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	running := map[string]int64{}
	var entries []views.LedgerEntry
	for _, t := range txns {
		for _, ln := range t.Lines {
			e := views.LedgerEntry{Txn: t.ID, Kind: t.Kind, Date: t.ValueDate.Format("02 Jan 2006"), Account: application.AccountLabels[ln.Account], UTR: t.UTR}
			if ln.Side == model.Debit {
				running[ln.Account] += ln.Amount
				e.Debit = money.FormatINR(ln.Amount)
			} else {
				running[ln.Account] -= ln.Amount
				e.Credit = money.FormatINR(ln.Amount)
			}
			e.Balance = money.FormatINR(running[ln.Account])
			entries = append(entries, e)
		}
	}
	var totals []views.KeyValue
	for _, acct := range model.Accounts {
		if v, ok := running[acct]; ok {
			totals = append(totals, views.KeyValue{Label: application.AccountLabels[acct], Value: money.FormatINR(v)})
		}
	}
	a.render(w, r, http.StatusOK, views.LedgerPage(a.page(r, l.HumanID+" · Ledger", "loans"), loanURL(l.HumanID), l.HumanID, entries, totals))
}

// trialBalance adds up every posting by account.
func (a *App) trialBalance(ctx context.Context) ([]views.TrialRow, int64, int64, int, error) {
	txns, err := a.Money.LedgerTxns(ctx)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	bal := application.AccountBalances(txns)
	var rows []views.TrialRow
	var debits, credits int64
	for _, acct := range model.Accounts {
		b := bal[acct]
		debits += b.Debits
		credits += b.Credits
		rows = append(rows, views.TrialRow{Account: application.AccountLabels[acct], Debits: money.FormatINR(b.Debits), Credits: money.FormatINR(b.Credits), Balance: money.FormatINR(b.Net())})
	}
	return rows, debits, credits, len(txns), nil
}

// ShowTrialBalance is the trial balance page for admins.
func (a *App) ShowTrialBalance(w http.ResponseWriter, r *http.Request) {
	rows, debits, credits, n, err := a.trialBalance(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.TrialBalancePage(a.page(r, "Trial balance", "ledger"), rows, money.FormatINR(debits), money.FormatINR(credits), debits == credits, n))
}

// ShowLocks is the lock console for admins.
func (a *App) ShowLocks(w http.ResponseWriter, r *http.Request) {
	a.renderLocks(w, r, http.StatusOK, "")
}

func (a *App) renderLocks(w http.ResponseWriter, r *http.Request, status int, msg string) {
	locks, err := a.Money.LockList(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	now := a.now()
	rows := make([]views.LockRow, 0, len(locks))
	for _, l := range locks {
		rows = append(rows, views.LockRow{Key: l.Key, Owner: l.Owner, Instance: l.Instance, Fence: l.Fence,
			Age: now.Sub(l.AcquiredAt).Round(time.Second).String(), Expires: a.formatDateTime(l.ExpiresAt)})
	}
	a.render(w, r, status, views.LocksPage(a.page(r, "Locks", "locks"), rows, msg))
}

// ReleaseLock frees a stuck lock (admins), with a reason that is
// recorded; the holder, if alive, stops at its next renewal.
func (a *App) ReleaseLock(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	reason, problem := application.NormalizeReason(r.PostForm.Get("reason"))
	fence, ferr := strconv.ParseInt(r.PostForm.Get("fence"), 10, 64)
	switch {
	case problem != nil:
		a.renderLocks(w, r, http.StatusUnprocessableEntity, problem.Message)
		return
	case reason == "":
		a.renderLocks(w, r, http.StatusUnprocessableEntity, "Say why you release the lock (the reason is recorded).")
		return
	case ferr != nil:
		a.renderLocks(w, r, http.StatusUnprocessableEntity, "That lock is not in the list: reload the page.")
		return
	}
	err := a.Money.LockRelease(r.Context(), store.LockReleaseParams{Key: r.PostForm.Get("key"), Fence: fence, By: user.Email, Reason: reason})
	if errors.Is(err, store.ErrNotFound) {
		a.renderLocks(w, r, http.StatusConflict, "That lock was released or taken over meanwhile: see the list as it is now.")
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.flash(r, "Released "+r.PostForm.Get("key")+".")
	a.redirect(w, r, "/admin/locks")
}

// apiDisbursement is POST /api/applications/{id}/disbursement's body.
type apiDisbursement struct {
	UTR          string `json:"utr"`
	FirstEMIDate string `json:"firstEmiDate,omitempty"` // YYYY-MM-DD
}

// APIDisburse is POST /api/applications/{id}/disbursement: 201 with the
// application once disbursed (200 when repeated with its UTR), 409 when
// disbursed with another UTR or in progress, 422 for refused input, 403.
func (a *App) APIDisburse(w http.ResponseWriter, r *http.Request) {
	var body apiDisbursement
	if !a.decodeJSON(w, r, &body, `{"utr": "UTIB0000012345", "firstEmiDate": "2027-01-05"}`) {
		return
	}
	first, ok := parseDate(body.FirstEMIDate)
	if !ok {
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Fields: application.Errors{"firstEmiDate": {Code: application.CodeInvalidFormat, Message: "Use YYYY-MM-DD."}}})
		return
	}
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.Disburse(r.Context(), application.DisburseRequest{Actor: user, LoanID: chi.URLParam(r, "id"), UTR: body.UTR, FirstEMIDate: first})
	if a.apiMoneyError(w, r, err) {
		return
	}
	status := http.StatusCreated
	if !res.Saved {
		status = http.StatusOK
	}
	a.writeJSON(w, r, status, toAPI(res.Loan))
}

// apiReceipt is POST /api/applications/{id}/repayments's body.
type apiReceipt struct {
	AmountPaise jsontext.Value `json:"amountPaise"`
	Currency    string         `json:"currency,omitempty"`
	Date        string         `json:"date,omitempty"` // YYYY-MM-DD, the value date
	UTR         string         `json:"utr"`
}

// APIPostRepayment is POST /api/applications/{id}/repayments: 201 with
// the posting and its allocation (200 for a retry with the same
// Idempotency-Key, or UTR when no key is sent), 422 for refused input.
func (a *App) APIPostRepayment(w http.ResponseWriter, r *http.Request) {
	var body apiReceipt
	if !a.decodeJSON(w, r, &body, `{"amountPaise": 1074695, "utr": "HDFC00000012345", "date": "2027-01-05"}`) {
		return
	}
	amount, err := strconv.ParseInt(string(body.AmountPaise), 10, 64)
	date, ok := parseDate(body.Date)
	if err != nil || !ok || len(r.Header.Values("Idempotency-Key")) > 1 {
		errs := application.Errors{}
		if err != nil {
			errs.Add("amountPaise", application.CodeWrongType, "Send a whole number of paise.")
		}
		if !ok {
			errs.Add("date", application.CodeInvalidFormat, "Use YYYY-MM-DD.")
		}
		if len(r.Header.Values("Idempotency-Key")) > 1 {
			errs.Add("idempotencyKey", application.CodeRepeated, "Send the Idempotency-Key header once.")
		}
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: "Some fields are not valid.", Fields: errs})
		return
	}
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.PostRepayment(r.Context(), application.RepaymentRequest{Actor: user, LoanID: chi.URLParam(r, "id"), Amount: amount,
		Currency: body.Currency, Date: date, UTR: body.UTR, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if a.apiMoneyError(w, r, err) {
		return
	}
	status := http.StatusCreated
	if !res.Saved {
		status = http.StatusOK
	}
	a.writeJSON(w, r, status, apiTxn(res.Txn))
}

// apiMoneyError answers a money request's error; false when there is none.
func (a *App) apiMoneyError(w http.ResponseWriter, r *http.Request, err error) bool {
	var (
		invalid   *application.Invalid
		forbidden *application.Forbidden
		refused   *application.Refused
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, model.ErrNotFound):
		a.APIError(w, r, http.StatusNotFound, "not_found", "There is no application with that id.")
	case errors.As(err, &forbidden):
		a.APIError(w, r, http.StatusForbidden, "forbidden", forbidden.Reason)
	case errors.As(err, &refused):
		a.APIError(w, r, http.StatusConflict, refused.Code, refused.Message)
	case errors.As(err, &invalid):
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: invalid.Message(), Fields: invalid.Fields})
	default:
		a.APIServerError(w, r, err)
	}
	return true
}

// apiJournalTxn is a journal transaction in the API (money in paise).
type apiJournalTxn struct {
	ID          string             `json:"id"`
	Kind        string             `json:"kind"`
	LoanID      string             `json:"loanId"`
	UTR         string             `json:"utr,omitempty"`
	ValueDate   string             `json:"valueDate"`
	PostedAt    time.Time          `json:"postedAt"`
	By          string             `json:"by"`
	Fence       int64              `json:"fence"`
	Lines       []apiJournalLine   `json:"lines"`
	Allocations []model.Allocation `json:"allocations,omitempty"`
}

type apiJournalLine struct {
	Account     string `json:"account"`
	Side        string `json:"side"`
	AmountPaise int64  `json:"amountPaise"`
	Currency    string `json:"currency"`
}

func apiTxn(t model.JournalTxn) apiJournalTxn {
	out := apiJournalTxn{ID: t.ID, Kind: t.Kind, LoanID: t.LoanID, UTR: t.UTR, ValueDate: t.ValueDate.Format(time.DateOnly), PostedAt: t.PostedAt,
		By: t.By, Fence: t.Fence, Allocations: t.Allocations}
	for _, l := range t.Lines {
		out.Lines = append(out.Lines, apiJournalLine{Account: l.Account, Side: l.Side, AmountPaise: l.Amount, Currency: l.Currency})
	}
	return out
}

// APILoanLedger is GET /api/applications/{id}/ledger: its postings and
// the balance of each account (debits − credits, paise).
func (a *App) APILoanLedger(w http.ResponseWriter, r *http.Request) {
	l, err := a.Loans.LoanGet(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.apiLoanError(w, r, err)
		return
	}
	txns, err := a.Money.LedgerTxnsOfLoan(r.Context(), l.HumanID)
	if err != nil {
		a.APIServerError(w, r, err)
		return
	}
	out := struct {
		ID       string           `json:"id"`
		Txns     []apiJournalTxn  `json:"transactions"`
		Balances map[string]int64 `json:"balancesPaise"`
	}{ID: l.HumanID, Txns: []apiJournalTxn{}, Balances: map[string]int64{}}
	for _, t := range txns {
		out.Txns = append(out.Txns, apiTxn(t))
	}
	for acct, b := range application.AccountBalances(txns) {
		out.Balances[acct] = b.Net()
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

// APITrialBalance is GET /api/admin/trial-balance (admins).
func (a *App) APITrialBalance(w http.ResponseWriter, r *http.Request) {
	if user, _ := auth.UserFrom(r.Context()); !user.HasRole(auth.RoleAdmin) {
		a.APIError(w, r, http.StatusForbidden, "forbidden", "The trial balance is for admins.")
		return
	}
	txns, err := a.Money.LedgerTxns(r.Context())
	if err != nil {
		a.APIServerError(w, r, err)
		return
	}
	type row struct {
		Account      string `json:"account"`
		DebitsPaise  int64  `json:"debitsPaise"`
		CreditsPaise int64  `json:"creditsPaise"`
	}
	out := struct {
		Accounts     []row `json:"accounts"`
		DebitsPaise  int64 `json:"totalDebitsPaise"`
		CreditsPaise int64 `json:"totalCreditsPaise"`
		Transactions int   `json:"transactions"`
	}{Transactions: len(txns)}
	bal := application.AccountBalances(txns)
	for _, acct := range model.Accounts {
		b := bal[acct]
		out.Accounts = append(out.Accounts, row{Account: acct, DebitsPaise: b.Debits, CreditsPaise: b.Credits})
		out.DebitsPaise += b.Debits
		out.CreditsPaise += b.Credits
	}
	a.writeJSON(w, r, http.StatusOK, out)
}
