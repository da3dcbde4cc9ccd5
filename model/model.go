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
)

// Loan statuses, in workflow order.
const (
	StatusSubmitted   = "submitted"
	StatusUnderReview = "under_review"
	StatusOnHold      = "on_hold"
	StatusApproved    = "approved"
	StatusRejected    = "rejected"
	StatusDisbursed   = "disbursed"
)

// LoanStatuses lists every status in workflow order (for tabs and counts).
var LoanStatuses = []string{StatusSubmitted, StatusUnderReview, StatusOnHold, StatusApproved, StatusRejected, StatusDisbursed}

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
	// Score is the scorecard's latest verdict, from the scoring job.
	Score *LoanScore `bson:"score,omitempty"`
}

// LoanScore is a scorecard's verdict on an application.
type LoanScore struct {
	Points         int           `bson:"points"`         // 0–100
	Recommendation string        `bson:"recommendation"` // approve, refer, decline
	Reasons        []ScoreReason `bson:"reasons"`
	FOIRBps        int           `bson:"foirBps"` // EMI / monthly income, basis points
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
}

// LoanTerms are what is asked for.
type LoanTerms struct {
	Product       string `bson:"product"` // personal, home, auto, business
	Amount        int64  `bson:"amount"`
	TenureMonths  int    `bson:"tenureMonths"`
	AnnualRateBps int    `bson:"annualRateBps"` // 1150 = 11.50 %
	Purpose       string `bson:"purpose"`
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
}

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
