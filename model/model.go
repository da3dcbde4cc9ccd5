// Package model holds Loan Desk's records as both the loan service
// (package application) and the store see them: a loan application with
// its history and score, and an uploaded document. It imports nothing of
// ours, so the rules never depend on persistence. Money is integer paise,
// rates basis points; calendar dates are stored as UTC midnight.
package model

import (
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Errors a repository returns, whatever the database behind it.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a versioned write found a newer version: someone
	// else saved first, and nothing was written.
	ErrConflict = errors.New("conflict: a newer version exists")
	// ErrKeyReused means an idempotency key already filed a different
	// request.
	ErrKeyReused = errors.New("idempotency key reused for a different request")
	// ErrDuplicate means a unique value (an email, a token, a journal
	// idempotency key) is taken.
	ErrDuplicate = errors.New("duplicate")
	// ErrLockHeld means another holder has the lock.
	ErrLockHeld = errors.New("lock held by another holder")
	// ErrLockLost means a holder's lease ended before it was done.
	ErrLockLost = errors.New("lock lost")
	// ErrStaleFence means a write carried a fencing token older than one
	// already seen for what it guards.
	ErrStaleFence = errors.New("stale fencing token")
	// ErrUnbalanced means a journal transaction does not balance (or has
	// a line that is not a positive INR amount on a known account).
	ErrUnbalanced = errors.New("journal transaction does not balance")
	// ErrUTRUsed means a bank reference (UTR) is on another transaction.
	ErrUTRUsed = errors.New("UTR already used")
)

// OpenFlags are l's flags nobody has acknowledged.
func (l Loan) OpenFlags() []Flag {
	var open []Flag
	for _, f := range l.Flags {
		acked := false
		for _, a := range l.FlagAcks {
			acked = acked || a.Code == f.Code && a.OtherLoan == f.OtherLoan
		}
		if !acked {
			open = append(open, f)
		}
	}
	return open
}

// DaysInStatus is how many whole days (of 24 hours) l has been in its
// current status at now: 0 on the day it entered it, or when the time it
// entered is unknown.
func (l Loan) DaysInStatus(now time.Time) int { return daysSince(l.StatusAt, now) }

// daysSince is how many whole days (of 24 hours) lie between at and now:
// 0 when at is unknown (zero) or after now.
func daysSince(at, now time.Time) int {
	if at.IsZero() || now.Before(at) {
		return 0
	}
	return int(now.Sub(at) / (24 * time.Hour))
}

// LoanSummary is an application as a row of a list shows it: the list
// page, the JSON API's list and the previous/next links read these, not
// whole Loans. Its fields have Loan's names and stored keys; it holds no
// slice, map or pointer, so the embedded engine can keep decoded rows and
// hand out copies (a Loan of 600 bytes cost a list page more to copy and
// decode than the row it became).
type LoanSummary struct {
	HumanID   string           `bson:"humanId"`
	Version   int64            `bson:"version"`
	Status    string           `bson:"status"`
	StatusAt  time.Time        `bson:"statusAt,omitempty"`
	Applicant SummaryApplicant `bson:"applicant"`
	Terms     SummaryTerms     `bson:"terms"`
	Assignee  string           `bson:"assignee,omitempty"` // user email
	CreatedAt time.Time        `bson:"createdAt"`
	UpdatedAt time.Time        `bson:"updatedAt"`
}

// SummaryApplicant is the part of Applicant a list row shows.
type SummaryApplicant struct {
	Name string `bson:"name"`
	City string `bson:"city"`
}

// SummaryTerms is the part of LoanTerms a list row shows.
type SummaryTerms struct {
	Product string `bson:"product"`
	Amount  int64  `bson:"amount"` // paise
}

// Summary is l as a list row shows it.
func (l Loan) Summary() LoanSummary {
	return LoanSummary{
		HumanID: l.HumanID, Version: l.Version, Status: l.Status, StatusAt: l.StatusAt,
		Applicant: SummaryApplicant{Name: l.Applicant.Name, City: l.Applicant.City},
		Terms:     SummaryTerms{Product: l.Terms.Product, Amount: l.Terms.Amount},
		Assignee:  l.Assignee, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
}

// DaysInStatus is Loan.DaysInStatus for a row.
func (l LoanSummary) DaysInStatus(now time.Time) int { return daysSince(l.StatusAt, now) }

// Loan statuses, in workflow order.
const (
	StatusSubmitted   = "submitted"
	StatusUnderReview = "under_review"
	StatusOnHold      = "on_hold"
	// StatusApprovalPending: approved once, waiting for a second, different
	// approver (above the two-approver amount, or an override of the
	// scorecard's decline).
	StatusApprovalPending = "approval_pending"
	StatusApproved        = "approved"
	// StatusSanctioned: sanctioned by an admin after approval, terms
	// frozen, ready to disburse.
	StatusSanctioned = "sanctioned"
	StatusRejected   = "rejected"
	StatusDisbursed  = "disbursed"
)

// LoanStatuses lists every status in workflow order (for tabs and counts).
var LoanStatuses = []string{StatusSubmitted, StatusUnderReview, StatusOnHold, StatusApprovalPending, StatusApproved, StatusSanctioned, StatusRejected, StatusDisbursed}

// Loan is a loan application. Money is integer minor units (paise).
type Loan struct {
	ID        primitive.ObjectID `bson:"_id"`
	HumanID   string             `bson:"humanId"` // LN-2026-000123
	Version   int64              `bson:"version"`
	Status    string             `bson:"status"`
	Applicant Applicant          `bson:"applicant"`
	Terms     LoanTerms          `bson:"terms"`
	Assignee  string             `bson:"assignee,omitempty"` // user email
	CreatedAt time.Time          `bson:"createdAt"`
	CreatedBy string             `bson:"createdBy"`
	UpdatedAt time.Time          `bson:"updatedAt"`
	UpdatedBy string             `bson:"updatedBy"`
	// History is every change since the application was created, oldest
	// first. It is appended in the same atomic update as the change it
	// records, so it can never miss one; lists leave it out.
	History []LoanChange `bson:"history,omitempty"`
	// SearchKeys are normalised words (name, id, PAN, email, phone)
	// matched by prefix (see LoanFilter): neither lungo nor an
	// index-friendly MongoDB query can use an unanchored regex.
	SearchKeys []string `bson:"searchKeys"`
	// CityKey is the applicant's city folded for the work queue's city
	// filter (lower case, spaces collapsed), kept by the store.
	CityKey string `bson:"cityKey,omitempty"`
	// StatusAt is when the loan entered its current status (the change
	// that set it, or its filing), for the work queue's ageing filter;
	// the store keeps it.
	StatusAt time.Time `bson:"statusAt,omitempty"`
	// Score is the scorecard's latest verdict, from the scoring job.
	Score *LoanScore `bson:"score,omitempty"`
	// Flags are warnings staff must see and acknowledge (a duplicate PAN).
	// Adding one does not make a new version.
	Flags []Flag `bson:"flags,omitempty"`
	// FlagAcks acknowledge flags (written by versioned changes only).
	FlagAcks []FlagAck `bson:"flagAcks,omitempty"`
	// IntakeKey is the idempotency key the application was filed with
	// (unique: a retry finds this application instead of filing another),
	// and IntakeHash the hash of what was filed under it.
	IntakeKey  string `bson:"intakeKey,omitempty"`
	IntakeHash string `bson:"intakeHash,omitempty"`
	// Approvals are the approvals given to this version while it waits
	// for a second approver (StatusApprovalPending); empty otherwise.
	Approvals []Approval `bson:"approvals,omitempty"`
	// FirstEMIDate is the first instalment's due date (a calendar date),
	// fixed at disbursement; before it, schedules use a provisional one.
	FirstEMIDate time.Time `bson:"firstEmiDate,omitempty"`
	// Disbursement is the money paid out, once (see the journal).
	Disbursement *Disbursement `bson:"disbursement,omitempty"`
}

// Disbursement records a loan's payout. Money is paise.
type Disbursement struct {
	Gross int64 `bson:"gross"` // the loan amount: what the borrower owes
	Fee   int64 `bson:"fee"`   // processing fee, kept by the lender
	GST   int64 `bson:"gst"`   // GST on the fee, owed to the government
	Net   int64 `bson:"net"`   // paid to the borrower's bank account
	// UTR is the bank's unique transaction reference of the payment
	// (unique across all disbursements).
	UTR string `bson:"utr"`
	// DisbursedOn and FirstEMIDate are calendar dates in the lender's zone.
	DisbursedOn  time.Time `bson:"disbursedOn"`
	FirstEMIDate time.Time `bson:"firstEmiDate"`
	// BrokenPeriodDays are the days from disbursement to the start of the
	// first EMI's month (one month before it), and BrokenPeriodInterest
	// the interest on them (actual/365, half up): shown, not capitalised.
	BrokenPeriodDays     int       `bson:"brokenPeriodDays"`
	BrokenPeriodInterest int64     `bson:"brokenPeriodInterest"`
	TxnID                string    `bson:"txnId"` // the journal transaction
	By                   string    `bson:"by"`
	At                   time.Time `bson:"at"`
}

// Ledger accounts (the chart of accounts).
const (
	AccountLoanPortfolio      = "loan_portfolio" // asset: principal owed by borrowers
	AccountBank               = "bank"           // asset: the disbursement and collection account
	AccountProcessingFee      = "processing_fee_income"
	AccountGSTOutput          = "gst_output" // liability: GST collected, owed
	AccountInterestIncome     = "interest_income"
	AccountInterestReceivable = "interest_receivable" // asset: interest due, not yet received
)

// Accounts lists the chart of accounts in the trial balance's order.
var Accounts = []string{AccountLoanPortfolio, AccountInterestReceivable, AccountBank, AccountGSTOutput, AccountProcessingFee, AccountInterestIncome}

// Journal sides.
const (
	Debit  = "debit"
	Credit = "credit"
)

// JournalTxn is one balanced double-entry transaction (Σ debits = Σ
// credits), stored whole as one document so it lands or fails as one.
// The journal is append-only: there is no update or delete path.
type JournalTxn struct {
	ID   string `bson:"_id"`
	Kind string `bson:"kind"` // disbursement, repayment
	// IdempotencyKey is unique: a retried posting finds the first.
	IdempotencyKey string `bson:"idempotencyKey"`
	UTR            string `bson:"utr,omitempty"` // unique when present
	LoanID         string `bson:"loanId"`        // the application's number
	// Seq numbers a loan's transactions 1, 2, …: unique per loan, so two
	// postings decided on the same view of the loan's journal (a holder
	// whose lock was released under it) cannot both land.
	Seq       int           `bson:"seq"`
	Fence     int64         `bson:"fence"` // of the lock it was posted under
	By        string        `bson:"by"`
	PostedAt  time.Time     `bson:"postedAt"`
	ValueDate time.Time     `bson:"valueDate"` // the business date (lender's zone)
	Narration string        `bson:"narration"`
	Lines     []JournalLine `bson:"lines"`
	// Allocations say which instalments a repayment paid.
	Allocations []Allocation `bson:"allocations,omitempty"`
}

// JournalLine is one side of a transaction. Amount is positive paise.
type JournalLine struct {
	Account  string `bson:"account"`
	Side     string `bson:"side"`
	Amount   int64  `bson:"amount"`
	Currency string `bson:"currency"` // INR
}

// Allocation is the part of a repayment applied to one instalment.
type Allocation struct {
	Instalment int   `bson:"instalment"`
	Interest   int64 `bson:"interest"`
	Principal  int64 `bson:"principal"`
}

// Flag codes.
const (
	// FlagDuplicatePAN: another open application has the same PAN.
	FlagDuplicatePAN = "duplicate_pan"
)

// Flag is a warning on an application. Flags are only ever added (with
// LoanAddFlag, no new version); acknowledging one adds a FlagAck through
// a versioned change, so an acknowledgement is in the history.
type Flag struct {
	Code      string    `bson:"code"`
	OtherLoan string    `bson:"otherLoan,omitempty"` // the other application's number
	At        time.Time `bson:"at"`
}

// FlagAck is someone's acknowledgement of the flag with the same Code
// and OtherLoan, with why they proceed.
type FlagAck struct {
	Code      string    `bson:"code"`
	OtherLoan string    `bson:"otherLoan,omitempty"`
	By        string    `bson:"by"`
	ByName    string    `bson:"byName"`
	At        time.Time `bson:"at"`
	Note      string    `bson:"note"`
}

// Approval is one approver's approval of a version (maker-checker).
type Approval struct {
	By      string    `bson:"by"`
	ByName  string    `bson:"byName"`
	At      time.Time `bson:"at"`
	Version int64     `bson:"version"` // the version approved
	Reason  string    `bson:"reason,omitempty"`
}

// LoanScore is a scorecard's verdict on an application.
type LoanScore struct {
	Points         int           `bson:"points"`         // 0–100
	Recommendation string        `bson:"recommendation"` // approve, refer, decline
	Reasons        []ScoreReason `bson:"reasons"`
	// FOIRBps is (new EMI + existing EMIs) / monthly income, in basis
	// points rounded half up for display (decisions compare exactly).
	FOIRBps int `bson:"foirBps"`
	// PolicyVersion names the credit policy that scored it.
	PolicyVersion string `bson:"policyVersion,omitempty"`
	// MaxTenureMonths is the longest tenure that keeps the age at maturity
	// within the policy (0: no limit found or needed).
	MaxTenureMonths int `bson:"maxTenureMonths,omitempty"`
	// MaxAmount is the largest amount (paise) the loan-to-value bands allow
	// (home loans; 0: not applicable).
	MaxAmount int64 `bson:"maxAmount,omitempty"`
	// Version is the application version scored: an edit after it makes
	// the score stale until the next scoring.
	Version  int64     `bson:"version"`
	ScoredAt time.Time `bson:"scoredAt"`
}

// ScoreReason is one line of a scorecard.
type ScoreReason struct {
	Factor string `bson:"factor"`
	Points int    `bson:"points"`
	Detail string `bson:"detail"`
}

// LoanChange is one entry of an application's history: who made which
// version, when, and what changed.
type LoanChange struct {
	Version int64         `bson:"version"` // the version this change produced
	At      time.Time     `bson:"at"`
	By      string        `bson:"by"` // user email
	ByName  string        `bson:"byName"`
	Fields  []FieldChange `bson:"fields"`
	Reason  string        `bson:"reason,omitempty"` // why a status changed
	// Maker is who made the terms and income an approval approves
	// (maker-checker: By, the checker, is never the maker).
	Maker string `bson:"maker,omitempty"`
	// FirstApprover is who gave the first of two approvals.
	FirstApprover string `bson:"firstApprover,omitempty"`
}

// FieldChange is one field's old and new value, as canonical text.
type FieldChange struct {
	Field string `bson:"field"`
	From  string `bson:"from"`
	To    string `bson:"to"`
}

// Applicant is the person applying.
type Applicant struct {
	Name          string    `bson:"name"`
	Email         string    `bson:"email"`
	Phone         string    `bson:"phone"`
	PAN           string    `bson:"pan"`
	DateOfBirth   time.Time `bson:"dateOfBirth"`
	Address       string    `bson:"address"`
	City          string    `bson:"city"`
	Employment    string    `bson:"employment"` // salaried, self_employed, business
	MonthlyIncome int64     `bson:"monthlyIncome"`
	// ExistingEMIs are the monthly instalments of the applicant's other
	// loans (paise), declared or from a bureau report: they count in FOIR.
	ExistingEMIs int64 `bson:"existingEmis"`
}

// LoanTerms are what is asked for.
type LoanTerms struct {
	Product       string `bson:"product"` // personal, home, auto, business
	Amount        int64  `bson:"amount"`
	TenureMonths  int    `bson:"tenureMonths"`
	AnnualRateBps int    `bson:"annualRateBps"` // 1150 = 11.50 %
	Purpose       string `bson:"purpose"`
	// PropertyValue is the value of the property a home loan buys (paise;
	// 0 for other products): loan-to-value is checked against it.
	PropertyValue int64 `bson:"propertyValue"`
}

// Document statuses: uploaded and waiting for OCR, being read, read, or
// given up on.
const (
	DocumentPending    = "pending"
	DocumentProcessing = "processing"
	DocumentDone       = "done"
	DocumentFailed     = "failed"
)

// Document is an uploaded file of a loan application. Its bytes live in
// GridFS (the "documents" bucket); this record carries what OCR read.
type Document struct {
	ID          primitive.ObjectID `bson:"_id"`
	LoanID      primitive.ObjectID `bson:"loanId"`
	LoanHumanID string             `bson:"loanHumanId"`
	Kind        string             `bson:"kind"` // see application.DocumentKinds
	Filename    string             `bson:"filename"`
	ContentType string             `bson:"contentType"`
	Size        int64              `bson:"size"`
	FileID      primitive.ObjectID `bson:"fileId"`
	Status      string             `bson:"status"`
	Error       string             `bson:"error,omitempty"`
	OCR         *OCRResult         `bson:"ocr,omitempty"`
	UploadedBy  string             `bson:"uploadedBy"`
	UploadedAt  time.Time          `bson:"uploadedAt"`
	UpdatedAt   time.Time          `bson:"updatedAt"`
	// Deleted is set when staff removed the document from the
	// application (with why, or a replacement): it is no longer read or
	// scored, but its record and file are kept for audit.
	Deleted *DocumentDeletion `bson:"deleted,omitempty"`
	// Replaces is the document this one was uploaded in place of.
	Replaces primitive.ObjectID `bson:"replaces,omitempty"`
}

// DocumentDeletion is who removed a document, when and why; ReplacedBy
// is the document uploaded in its place, if any.
type DocumentDeletion struct {
	By         string             `bson:"by"`
	At         time.Time          `bson:"at"`
	Reason     string             `bson:"reason"`
	ReplacedBy primitive.ObjectID `bson:"replacedBy,omitempty"`
	// ReplacedWith is the replacement's file name (empty on deletions and
	// on replacements recorded before it was kept: their Reason is
	// "Replaced by <name>").
	ReplacedWith string `bson:"replacedWith,omitempty"`
}

// Activity is an entry of an application's history that is not a
// versioned change of the loan: a document uploaded, read, unreadable,
// deleted or replaced, a score recorded, a background job given up.
// Activities never change the loan's version, so they never make an open
// form conflict.
type Activity struct {
	ID     primitive.ObjectID `bson:"_id"`
	LoanID primitive.ObjectID `bson:"loanId"`
	At     time.Time          `bson:"at"`
	By     string             `bson:"by,omitempty"` // a user's email; empty: the system
	Kind   string             `bson:"kind"`         // one of the Activity constants
	// Subject is what it concerns: a file name, a job type.
	Subject string `bson:"subject,omitempty"`
	// Text is what happened, for staff (a reason, a summary, the new
	// file's name); Raw is a tool's own error, for admins only.
	Text string `bson:"text,omitempty"`
	Raw  string `bson:"raw,omitempty"`
	// Reason is why staff replaced a document (ActivityReplaced; a
	// deletion's reason is its Text).
	Reason string `bson:"reason,omitempty"`
}

// Activity kinds.
const (
	ActivityUploaded   = "document_uploaded"
	ActivityRead       = "document_read"
	ActivityUnreadable = "document_unreadable"
	ActivityDeleted    = "document_deleted"
	ActivityReplaced   = "document_replaced"
	ActivityScored     = "scored"
	ActivityJobFailed  = "job_failed"
)

// OCRResult is what was read from a document.
type OCRResult struct {
	Method  string  `bson:"method"` // "pdftotext", "tesseract", or "pdftotext+tesseract"
	Text    string  `bson:"text"`   // the first MaxOCRText bytes
	PAN     string  `bson:"pan,omitempty"`
	Name    string  `bson:"name,omitempty"`
	Amounts []int64 `bson:"amounts,omitempty"` // paise, largest first
	Pages   int     `bson:"pages,omitempty"`
}

// MaxOCRText bounds the text kept per document.
const MaxOCRText = 20_000

// Note is a remark staff add to an application (who, when, text). Notes
// are not versioned changes: adding one leaves the loan's version, and so
// every open form on it, as they are (a note never conflicts with an edit,
// nor an edit with a note); they are kept beside the loan, not in it.
type Note struct {
	ID          primitive.ObjectID `bson:"_id"`
	LoanID      primitive.ObjectID `bson:"loanId"`
	LoanHumanID string             `bson:"loanHumanId"`
	By          string             `bson:"by"` // user email
	ByName      string             `bson:"byName"`
	At          time.Time          `bson:"at"`
	Text        string             `bson:"text"`
}
