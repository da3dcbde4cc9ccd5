package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// LoginAttemptAdd counts one sign-in attempt against key (an IP address or
// an email) in the fixed window of length window that contains now, and
// returns the count so far in that window and when the window ends.
// Counters live in the database, so every instance sees the same count;
// a TTL index removes finished windows.
func (s *Store) LoginAttemptAdd(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	start := now.Truncate(window)
	end := start.Add(window)
	id := fmt.Sprintf("%s|%d", key, start.Unix())
	filter := bson.M{"_id": id}
	update := bson.M{"$inc": bson.M{"n": 1}, "$setOnInsert": bson.M{"expiresAt": end}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)

	var doc struct {
		N int `bson:"n"`
	}
	err := s.loginAttempts.FindOneAndUpdate(ctx, filter, update, opts).Decode(&doc)
	if err != nil && isDuplicateKey(err) {
		// A concurrent first attempt inserted the window; count on it.
		err = s.loginAttempts.FindOneAndUpdate(ctx, filter, update, opts).Decode(&doc)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: count login attempt: %w", err)
	}
	return doc.N, end, nil
}

// LoginAttemptsReset forgets key's attempts in the window containing now
// (after a successful sign-in).
func (s *Store) LoginAttemptsReset(ctx context.Context, key string, window time.Duration, now time.Time) error {
	id := fmt.Sprintf("%s|%d", key, now.Truncate(window).Unix())
	if _, err := s.loginAttempts.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("store: reset login attempts: %w", err)
	}
	return nil
}
