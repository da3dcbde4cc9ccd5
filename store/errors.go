package store

import (
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/mongo"
)

var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate means a unique field (an email, a token) is taken.
	ErrDuplicate = errors.New("store: duplicate")
	// ErrConflict means a versioned write found a newer version: someone
	// else saved first.
	ErrConflict = errors.New("store: conflict")
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

// notFound translates the driver's "no documents" into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}
