package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/mongo"

	"loandesk/model"
)

var (
	// ErrNotFound means the requested record does not exist (the same
	// value as model.ErrNotFound, so the loan service can test for it
	// without importing the store).
	ErrNotFound = model.ErrNotFound
	// ErrDuplicate means a unique field (an email, a token) is taken.
	ErrDuplicate = model.ErrDuplicate
	// ErrConflict means a versioned write found a newer version: someone
	// else saved first (the same value as model.ErrConflict).
	ErrConflict = model.ErrConflict
)

// isDuplicateKey recognises a unique-index violation from either engine:
// the driver reports code 11000, lungo a plain "duplicate document" error.
func isDuplicateKey(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "duplicate document for index") || strings.Contains(msg, "duplicate key")
}

// updateMatched updates the document filter matches; when none does it
// returns unmatched (ErrNotFound, ErrConflict, ErrLeaseLost: what "none"
// means to the caller). what names the operation in errors.
func updateMatched(ctx context.Context, coll lungo.ICollection, filter, update any, unmatched error, what string) error {
	res, err := coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("store: %s: %w", what, unmatched)
	}
	return nil
}

// notFound translates the driver's "no documents" into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}
