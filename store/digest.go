package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// digestSkipped are the collections that change by themselves with
// requests that store nothing: a session's expiry is touched, sign-in
// attempts are counted, workers beat.
var digestSkipped = []string{"sessions", "login_attempts", "workers"}

// digestOnly narrows a collection to the documents that do not go by
// themselves: a released lock is kept (for its fence) only until the TTL
// clean-up deletes it, which may come between any two digests, so only
// held locks count.
var digestOnly = map[string]bson.M{"locks": {"owner": bson.M{"$ne": ""}}}

// Digest returns a SHA-256 of each collection's documents in _id order,
// by collection name, leaving out digestSkipped and what digestOnly
// leaves out. Two digests are equal exactly when nothing stored changed
// between them: the authorization tests take one before and after every
// refused request.
func (s *Store) Digest(ctx context.Context) (map[string]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("store: digest: %w", err)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		if slices.Contains(digestSkipped, name) {
			continue
		}
		filter := digestOnly[name]
		if filter == nil {
			filter = bson.M{}
		}
		cur, err := s.db.Collection(name).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("store: digest %s: %w", name, err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("store: digest %s: %w", name, err)
		}
		h := sha256.New()
		for _, d := range docs {
			h.Write(d)
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}
