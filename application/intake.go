package application

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/model"
)

// Intake is what filing a new application needs of storage, beyond
// LoanRepository.
type Intake interface {
	// LoanCreate numbers l LN-<year>-NNNNNN and inserts it at version 1;
	// with an idempotency key it returns the application that key filed
	// (created false), or model.ErrKeyReused when hash differs.
	LoanCreate(ctx context.Context, l model.Loan, year int, key, hash string) (model.Loan, bool, error)
	// LoanNumbersOpenWithPAN lists open applications with pan but except.
	LoanNumbersOpenWithPAN(ctx context.Context, pan string, except primitive.ObjectID) ([]string, error)
	// LoanAddFlag adds a flag without a new version.
	LoanAddFlag(ctx context.Context, humanID string, f model.Flag) error
}

// CreateRequest files a new application.
type CreateRequest struct {
	Actor auth.User
	// Fields are every editable field's text, by key (see Fields).
	Fields map[string]string
	// IdempotencyKey, when set, makes a retry return the application the
	// first request filed instead of filing a second (at most 255
	// printable ASCII characters).
	IdempotencyKey string
}

// Problem codes of intake.
const (
	CodeKeyReused = "idempotency_key_reused"
)

// Create files a new application from req: status submitted, version 1.
// Every field is required and checked alone and together (*Invalid with
// per-field problems otherwise; nothing is stored); only staff who work
// applications file them (*Forbidden). An open application with the same
// PAN flags both with duplicate_pan (a warning to acknowledge before
// approval, not a block). Result.Saved is false when an idempotent retry
// found the application filed before.
func (s *Service) Create(ctx context.Context, req CreateRequest) (Result, error) {
	if !CanWork(req.Actor.Role) {
		return Result{}, &Forbidden{Reason: "Your role can view applications but not file them."}
	}
	errs := Errors{}
	key := req.IdempotencyKey
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r > '~' }) {
		errs.Add("idempotencyKey", CodeInvalidFormat, "An idempotency key is at most 255 printable ASCII characters.")
	}
	values, fieldErrs := s.normalizeFields(req.Fields)
	for k, p := range fieldErrs {
		errs[k] = p
	}
	for _, f := range Fields {
		if _, ok := req.Fields[f.Key]; !ok {
			errs.Add(f.Key, CodeRequired, "Required.")
		}
	}
	for k, p := range CheckTogether(values, values) { // on what could be read, so every problem shows at once
		if _, ok := errs[k]; !ok {
			errs[k] = p
		}
	}
	if len(errs) > 0 {
		return Result{}, &Invalid{Fields: errs}
	}
	now := s.now()
	l := model.Loan{
		Status: model.StatusSubmitted, CreatedAt: now.UTC(), CreatedBy: req.Actor.Email, UpdatedAt: now.UTC(), UpdatedBy: req.Actor.Email,
	}
	if err := Apply(&l, values); err != nil {
		return Result{}, err
	}
	created, isNew, err := s.Intake.LoanCreate(ctx, l, now.Year(), key, fingerprint(req.Actor.Email, values))
	if errors.Is(err, model.ErrKeyReused) {
		errs.Add("idempotencyKey", CodeKeyReused, "This idempotency key already filed a different application.")
		return Result{}, &Invalid{Fields: errs}
	}
	if err != nil || !isNew {
		return Result{Loan: created}, err
	}
	if err := s.flagDuplicatePAN(ctx, created); err != nil {
		return Result{}, err
	}
	if created, err = s.Loans.LoanByID(ctx, created.ID); err != nil {
		return Result{}, err
	}
	return Result{Loan: created, Saved: true}, nil
}

// fingerprint identifies what a key filed: who, and the canonical values.
func fingerprint(actor string, v Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", actor)
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q\n", k, v[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// flagDuplicatePAN flags l and every other open application with its PAN.
func (s *Service) flagDuplicatePAN(ctx context.Context, l model.Loan) error {
	others, err := s.Intake.LoanNumbersOpenWithPAN(ctx, l.Applicant.PAN, l.ID)
	if err != nil {
		return err
	}
	at := s.Clock.Now().UTC()
	for _, other := range others {
		if err := s.Intake.LoanAddFlag(ctx, l.HumanID, model.Flag{Code: model.FlagDuplicatePAN, OtherLoan: other, At: at}); err != nil {
			return err
		}
		if err := s.Intake.LoanAddFlag(ctx, other, model.Flag{Code: model.FlagDuplicatePAN, OtherLoan: l.HumanID, At: at}); err != nil {
			return err
		}
	}
	return nil
}

// AckRequest acknowledges a flag on an application.
type AckRequest struct {
	Actor     auth.User
	LoanID    string
	Version   int64
	Code      string // the flag's code
	OtherLoan string // the flag's other application
	Note      string // why it is fine to go on (required)
}

// AcknowledgeFlag records that req.Actor has seen the flag and why the
// application may go on, as a new version with a history entry. Staff
// who work applications acknowledge; the note is required (*Invalid);
// an unknown or already acknowledged flag is *Invalid too.
func (s *Service) AcknowledgeFlag(ctx context.Context, req AckRequest) (Result, error) {
	allowed := worksApplications(req.Actor, "Your role can view applications but not acknowledge their warnings.")
	return s.versioned(ctx, req.LoanID, req.Version, allowed, func(l model.Loan) (model.Loan, model.LoanChange, error) {
		invalid := func(key, code, msg string) error { return invalidField(l, key, code, msg) }
		note, problem := NormalizeReason(req.Note)
		switch {
		case problem != nil:
			return l, model.LoanChange{}, invalid("note", problem.Code, problem.Message)
		case note == "":
			return l, model.LoanChange{}, invalid("note", CodeRequired, "Say why the application may go on (the note is recorded).")
		}
		var flag *model.Flag
		for _, f := range l.OpenFlags() {
			if f.Code == req.Code && f.OtherLoan == req.OtherLoan {
				flag = &f
			}
		}
		if flag == nil {
			return l, model.LoanChange{}, invalid("flag", CodeInvalidChoice, "There is no such open warning on this application.")
		}
		next := l
		next.FlagAcks = append(append([]model.FlagAck(nil), l.FlagAcks...), model.FlagAck{
			Code: flag.Code, OtherLoan: flag.OtherLoan, By: req.Actor.Email, ByName: req.Actor.Name, At: s.Clock.Now().UTC(), Note: note,
		})
		change := s.change(req.Actor, []model.FieldChange{{Field: "flag", From: FlagText(*flag), To: "acknowledged"}}, note)
		return next, change, nil
	})
}
