package store

import (
	"context"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// Ledger errors (the model's).
var (
	ErrUnbalanced = model.ErrUnbalanced
	ErrUTRUsed    = model.ErrUTRUsed
)

// appendOnly is the journal collection with only the methods an
// append-only journal needs: there is no update, replace or delete path
// in the code (TestLedger_JournalIsAppendOnly checks the type).
type appendOnly struct{ c lungo.ICollection }

func (a appendOnly) InsertOne(ctx context.Context, doc any) error {
	_, err := a.c.InsertOne(ctx, doc)
	return err
}

func (a appendOnly) InsertMany(ctx context.Context, docs []any) error {
	_, err := a.c.InsertMany(ctx, docs)
	return err
}

func (a appendOnly) Find(ctx context.Context, filter any, opts ...*options.FindOptions) (lungo.ICursor, error) {
	return a.c.Find(ctx, filter, opts...)
}

func (a appendOnly) FindOne(ctx context.Context, filter any) lungo.ISingleResult {
	return a.c.FindOne(ctx, filter)
}

// CheckBalanced refuses a transaction unless every line is a positive
// INR amount on an account of the chart, debits and credits both exist
// and Σ debits = Σ credits to the paisa (no line's amount can overflow
// the sums: each is below 10^15 paise).
func CheckBalanced(t model.JournalTxn) error {
	var debits, credits int64
	known := map[string]bool{}
	for _, a := range model.Accounts {
		known[a] = true
	}
	for _, l := range t.Lines {
		switch {
		case !known[l.Account]:
			return fmt.Errorf("%w: unknown account %q", ErrUnbalanced, l.Account)
		case l.Currency != "INR":
			return fmt.Errorf("%w: currency %q (only INR)", ErrUnbalanced, l.Currency)
		case l.Amount <= 0 || l.Amount >= 1e15:
			return fmt.Errorf("%w: amount %d paise", ErrUnbalanced, l.Amount)
		case l.Side == model.Debit:
			debits += l.Amount
		case l.Side == model.Credit:
			credits += l.Amount
		default:
			return fmt.Errorf("%w: side %q", ErrUnbalanced, l.Side)
		}
	}
	if debits == 0 || debits != credits {
		return fmt.Errorf("%w: debits %d, credits %d paise", ErrUnbalanced, debits, credits)
	}
	return nil
}

// LedgerPost appends a balanced transaction to the journal, whole or not
// at all (one document). A transaction that does not balance is
// ErrUnbalanced; an idempotency key already posted is ErrDuplicate (the
// caller reads the first with LedgerTxnByKey); a UTR on another
// transaction is ErrUTRUsed; a sequence number of the loan already taken
// (t.Seq: the loan's postings are numbered 1, 2, … under a unique index)
// is ErrConflict — the caller decided on a journal that changed since.
func (s *Store) LedgerPost(ctx context.Context, t model.JournalTxn) error {
	if err := CheckBalanced(t); err != nil {
		return err
	}
	if t.IdempotencyKey == "" || t.ID == "" || t.Seq < 1 {
		return fmt.Errorf("store: post journal: an id, an idempotency key and a sequence number are required")
	}
	if err := s.journal.InsertOne(ctx, t); err != nil {
		if !isDuplicateKey(err) {
			return fmt.Errorf("store: post journal: %w", err)
		}
		// Which unique field clashed: the idempotency key (a retry), else
		// the UTR (another transaction's reference).
		if _, e := s.LedgerTxnByKey(ctx, t.IdempotencyKey); e == nil {
			return fmt.Errorf("store: post journal %s: %w", t.IdempotencyKey, ErrDuplicate)
		}
		if _, e := s.LedgerTxnByUTR(ctx, t.UTR); t.UTR != "" && e == nil {
			return fmt.Errorf("store: post journal %s: UTR %s: %w", t.IdempotencyKey, t.UTR, ErrUTRUsed)
		}
		// Another posting took this sequence number of the loan: the
		// caller decided on a journal that has changed since.
		return fmt.Errorf("store: post journal %s: %s #%d: %w", t.IdempotencyKey, t.LoanID, t.Seq, ErrConflict)
	}
	return nil
}

// LedgerPostMany appends balanced transactions in one batch (the seed's
// payouts); every one is checked first and none is stored if any does not
// balance. Unlike LedgerPost it is not idempotent per transaction.
func (s *Store) LedgerPostMany(ctx context.Context, txns []model.JournalTxn) error {
	if len(txns) == 0 {
		return nil
	}
	docs := make([]any, len(txns))
	for i, t := range txns {
		if err := CheckBalanced(t); err != nil {
			return fmt.Errorf("store: post journal %s: %w", t.ID, err)
		}
		docs[i] = t
	}
	if err := s.journal.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("store: post %d journal transactions: %w", len(txns), err)
	}
	return nil
}

// LedgerTxnByKey returns the transaction posted with an idempotency key,
// or ErrNotFound.
func (s *Store) LedgerTxnByKey(ctx context.Context, key string) (model.JournalTxn, error) {
	var t model.JournalTxn
	if err := s.journal.FindOne(ctx, bson.M{"idempotencyKey": key}).Decode(&t); err != nil {
		return model.JournalTxn{}, fmt.Errorf("store: journal %s: %w", key, notFound(err))
	}
	return t, nil
}

// LedgerTxnByUTR returns the transaction carrying a UTR, or ErrNotFound.
func (s *Store) LedgerTxnByUTR(ctx context.Context, utr string) (model.JournalTxn, error) {
	var t model.JournalTxn
	if err := s.journal.FindOne(ctx, bson.M{"utr": utr}).Decode(&t); err != nil {
		return model.JournalTxn{}, fmt.Errorf("store: journal UTR %s: %w", utr, notFound(err))
	}
	return t, nil
}

// LedgerTxnsOfLoan returns a loan's transactions in their order (Seq).
func (s *Store) LedgerTxnsOfLoan(ctx context.Context, loanID string) ([]model.JournalTxn, error) {
	return s.ledgerFind(ctx, bson.M{"loanId": loanID}, bson.D{{Key: "seq", Value: 1}})
}

// LedgerTxns returns every transaction in posting order (the trial
// balance reads them all).
func (s *Store) LedgerTxns(ctx context.Context) ([]model.JournalTxn, error) {
	return s.ledgerFind(ctx, bson.M{}, bson.D{{Key: "postedAt", Value: 1}, {Key: "_id", Value: 1}})
}

func (s *Store) ledgerFind(ctx context.Context, filter bson.M, sort bson.D) ([]model.JournalTxn, error) {
	cur, err := s.journal.Find(ctx, filter, options.Find().SetSort(sort))
	if err != nil {
		return nil, fmt.Errorf("store: read journal: %w", err)
	}
	out := []model.JournalTxn{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: read journal: %w", err)
	}
	return out, nil
}

// LedgerFenceAdvance records that a writer holding fencing token fence
// is about to write what scope names (a loan's ledger), and refuses with
// ErrStaleFence if a newer token was seen for it: a holder whose lock
// expired and was taken over cannot write after the new holder did. One
// conditional upsert: a newer stored fence makes the insert hit the _id
// index.
func (s *Store) LedgerFenceAdvance(ctx context.Context, scope string, fence int64) error {
	_, err := s.ledgerFences.UpdateOne(ctx, bson.M{"_id": scope, "fence": bson.M{"$lte": fence}},
		bson.M{"$set": bson.M{"fence": fence, "at": s.now().UTC()}}, options.Update().SetUpsert(true))
	if isDuplicateKey(err) {
		s.logger.Warn("write refused: stale fencing token", "scope", scope, "fence", fence)
		return fmt.Errorf("store: %s at fence %d: %w", scope, fence, ErrStaleFence)
	}
	if err != nil {
		return fmt.Errorf("store: fence %s: %w", scope, err)
	}
	return nil
}
