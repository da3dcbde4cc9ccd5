package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// APIToken is a bearer token for the JSON API. Only the token's SHA-256
// is stored: tokens are long random strings, so a fast hash is enough,
// and a copy of the database hands out no working tokens.
type APIToken struct {
	Name      string    `bson:"_id"` // unique, e.g. "ADMIN_TOKEN"
	Hash      string    `bson:"hash"`
	Role      string    `bson:"role"`
	CreatedAt time.Time `bson:"createdAt"`
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// APITokenSet creates or replaces the token called name (replacing
// revokes the old value).
func (s *Store) APITokenSet(ctx context.Context, name, token, role string) error {
	_, err := s.apiTokens.UpdateOne(ctx,
		bson.M{"_id": name},
		bson.M{"$set": bson.M{"hash": tokenHash(token), "role": role}, "$setOnInsert": bson.M{"createdAt": time.Now()}},
		options.Update().SetUpsert(true),
	)
	if err != nil {
		return fmt.Errorf("store: set API token %s: %w", name, err)
	}
	return nil
}

// APITokenDelete revokes the token called name; a missing one is fine.
func (s *Store) APITokenDelete(ctx context.Context, name string) error {
	if _, err := s.apiTokens.DeleteOne(ctx, bson.M{"_id": name}); err != nil {
		return fmt.Errorf("store: delete API token %s: %w", name, err)
	}
	return nil
}

// APITokenByValue returns the token whose value is token, or ErrNotFound.
func (s *Store) APITokenByValue(ctx context.Context, token string) (APIToken, error) {
	var t APIToken
	if err := s.apiTokens.FindOne(ctx, bson.M{"hash": tokenHash(token)}).Decode(&t); err != nil {
		return APIToken{}, fmt.Errorf("store: find API token: %w", notFound(err))
	}
	return t, nil
}
