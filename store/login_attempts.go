package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/auth"
)

// loginCounter is a sign-in counter as stored (see auth.Throttle for
// what the counters mean). A TTL index removes it once expired; reads
// also skip the expired ones, as the TTL monitor runs only now and then.
type loginCounter struct {
	ID        string    `bson:"_id"`
	N         int       `bson:"n"`
	Last      time.Time `bson:"last"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func (c loginCounter) public() auth.Counter {
	return auth.Counter{ID: c.ID, N: c.N, Last: c.Last, ExpiresAt: c.ExpiresAt}
}

// LoginCounterAdd adds delta to the counter id, creating it at zero, sets
// its last change to last and pushes its expiry to at least expiresAt,
// in one atomic update, and returns the counter after it. A counter that
// had expired but not yet been removed starts again from zero.
func (s *Store) LoginCounterAdd(ctx context.Context, id string, delta int, last, expiresAt time.Time) (auth.Counter, error) {
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	update := bson.M{"$inc": bson.M{"n": delta}, "$set": bson.M{"last": last}, "$max": bson.M{"expiresAt": expiresAt}}
	var c loginCounter
	// An expired leftover is dropped first, so it cannot lend its count.
	if _, err := s.loginAttempts.DeleteOne(ctx, bson.M{"_id": id, "expiresAt": bson.M{"$lte": last}}); err != nil {
		return auth.Counter{}, fmt.Errorf("store: login counter %s: %w", id, err)
	}
	err := s.loginAttempts.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, opts).Decode(&c)
	if err != nil && isDuplicateKey(err) {
		// A concurrent first add inserted it; add on it.
		err = s.loginAttempts.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, opts).Decode(&c)
	}
	if err != nil {
		return auth.Counter{}, fmt.Errorf("store: login counter %s: %w", id, err)
	}
	return c.public(), nil
}

// LoginCounters returns those of ids that exist and expire after now
// (none is not an error).
func (s *Store) LoginCounters(ctx context.Context, ids []string, now time.Time) ([]auth.Counter, error) {
	cur, err := s.loginAttempts.Find(ctx, bson.M{"_id": bson.M{"$in": ids}, "expiresAt": bson.M{"$gt": now}})
	if err != nil {
		return nil, fmt.Errorf("store: read login counters: %w", err)
	}
	var cs []loginCounter
	if err := cur.All(ctx, &cs); err != nil {
		return nil, fmt.Errorf("store: read login counters: %w", err)
	}
	out := make([]auth.Counter, len(cs))
	for i, c := range cs {
		out[i] = c.public()
	}
	return out, nil
}

// LoginCounterDelete forgets the counter id; a missing one is fine.
func (s *Store) LoginCounterDelete(ctx context.Context, id string) error {
	if _, err := s.loginAttempts.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("store: delete login counter %s: %w", id, err)
	}
	return nil
}

// LoginCounterList returns every stored sign-in counter, by id (for
// tests and diagnosis: the collection holds at most a few per recent
// attempt).
func (s *Store) LoginCounterList(ctx context.Context) ([]auth.Counter, error) {
	cur, err := s.loginAttempts.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: list login counters: %w", err)
	}
	var cs []loginCounter
	if err := cur.All(ctx, &cs); err != nil {
		return nil, fmt.Errorf("store: list login counters: %w", err)
	}
	out := make([]auth.Counter, len(cs))
	for i, c := range cs {
		out[i] = c.public()
	}
	return out, nil
}
