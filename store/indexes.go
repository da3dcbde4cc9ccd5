package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ensureIndexes creates every index the application's queries need.
// CreateMany is idempotent for identical definitions on both engines, so
// this runs on every start.
func (s *Store) ensureIndexes(ctx context.Context) error {
	ttl := options.Index().SetExpireAfterSeconds(0)
	unique := options.Index().SetUnique(true)
	all := []struct {
		coll   string
		models []mongo.IndexModel
	}{
		{coll: "users", models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: unique},
		}},
		{coll: "sessions", models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "token", Value: 1}}, Options: unique},
			{Keys: bson.D{{Key: "expiry", Value: 1}}, Options: ttl},
		}},
		{coll: "login_attempts", models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: ttl},
		}},
		{coll: "loans", models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "humanId", Value: 1}}, Options: unique},
			{Keys: bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "searchKeys", Value: 1}}},
		}},
	}
	for _, c := range all {
		if _, err := s.db.Collection(c.coll).Indexes().CreateMany(ctx, c.models); err != nil {
			return fmt.Errorf("store: create indexes on %s: %w", c.coll, err)
		}
	}
	return nil
}
