package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TOTP is a user's second factor (RFC 6238): the shared secret, the last
// time step a code was accepted for (a code is accepted once: only for a
// later step), and the SHA-256 hashes of the unused recovery codes.
type TOTP struct {
	Secret     string    `bson:"secret"`
	LastStep   int64     `bson:"lastStep"`
	Recovery   []string  `bson:"recovery"`
	EnrolledAt time.Time `bson:"enrolledAt"`
}

// RecoveryCodeHash is how a recovery code is stored and looked up. The
// codes are 80 random bits, so a fast hash is enough (as for API
// tokens): a copy of the database gives no usable code.
func RecoveryCodeHash(code string) string { return tokenHash(code) }

// UserTOTPEnable stores t as the user's second factor, replacing any
// earlier one. A missing user returns ErrNotFound.
func (s *Store) UserTOTPEnable(ctx context.Context, id primitive.ObjectID, t TOTP) error {
	t.EnrolledAt = t.EnrolledAt.UTC().Truncate(time.Millisecond)
	return updateMatched(ctx, s.users, bson.M{"_id": id}, bson.M{"$set": bson.M{"totp": t, "updatedAt": t.EnrolledAt}},
		ErrNotFound, "enable TOTP of user "+id.Hex())
}

// UserTOTPUseStep records that a code for time step was accepted. A step
// not later than the last accepted one (a replayed code, or an older one)
// returns ErrConflict and records nothing; so does a user without TOTP.
func (s *Store) UserTOTPUseStep(ctx context.Context, id primitive.ObjectID, step int64) error {
	return updateMatched(ctx, s.users,
		bson.M{"_id": id, "totp.lastStep": bson.M{"$lt": step}},
		bson.M{"$set": bson.M{"totp.lastStep": step}},
		ErrConflict, fmt.Sprintf("use TOTP step %d of user %s", step, id.Hex()))
}

// UserTOTPUseRecovery spends the recovery code whose hash is hash: it is
// removed, so it works once. An unknown or spent code returns
// ErrNotFound.
func (s *Store) UserTOTPUseRecovery(ctx context.Context, id primitive.ObjectID, hash string) error {
	return updateMatched(ctx, s.users,
		bson.M{"_id": id, "totp.recovery": hash},
		bson.M{"$pull": bson.M{"totp.recovery": hash}},
		ErrNotFound, "use a recovery code of user "+id.Hex())
}

// UserTOTPReset removes the user's second factor (an admin's reset: the
// user enrols again at their next sign-in where their role requires it),
// and their devices (a lost phone is often a lost device). A missing user
// returns ErrNotFound.
func (s *Store) UserTOTPReset(ctx context.Context, id primitive.ObjectID, at time.Time) error {
	return updateMatched(ctx, s.users, bson.M{"_id": id},
		bson.M{"$unset": bson.M{"totp": "", "devices": ""}, "$set": bson.M{"updatedAt": at.UTC().Truncate(time.Millisecond)}},
		ErrNotFound, "reset TOTP of user "+id.Hex())
}
