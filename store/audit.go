package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// AuditEntry is one recorded action on accounts and access: who did
// what to whom, when and from where. Entries are only ever added.
type AuditEntry struct {
	ID primitive.ObjectID `bson:"_id"`
	At time.Time          `bson:"at"`
	// Actor is who acted (an email, or "system" for start-up changes).
	Actor string `bson:"actor"`
	// Action is a stable code, e.g. "user.deactivated" (see the
	// handlers' audit* constants).
	Action string `bson:"action"`
	// Target is the user acted on (an email), when there is one.
	Target string `bson:"target,omitempty"`
	// Detail is what changed, in words ("role viewer → admin").
	Detail string `bson:"detail,omitempty"`
	// IP is the client address of the request.
	IP string `bson:"ip,omitempty"`
}

// AuditAdd records e (its ID is assigned here; At is taken as given,
// truncated to milliseconds).
func (s *Store) AuditAdd(ctx context.Context, e AuditEntry) error {
	e.ID = primitive.NewObjectID()
	e.At = e.At.UTC().Truncate(time.Millisecond)
	if _, err := s.audit.InsertOne(ctx, e); err != nil {
		return fmt.Errorf("store: add audit entry %s: %w", e.Action, err)
	}
	return nil
}

// AuditListParams selects a page of the audit log, newest first.
type AuditListParams struct {
	// Target, when set, keeps the entries about that user only.
	Target string
	// Before, when set, continues after the entry with that at and id
	// (seek pagination on (at, _id), both descending).
	BeforeAt time.Time
	BeforeID primitive.ObjectID
	Limit    int
}

// AuditList returns entries newest first.
func (s *Store) AuditList(ctx context.Context, p AuditListParams) ([]AuditEntry, error) {
	filter := bson.M{}
	if p.Target != "" {
		filter["target"] = p.Target
	}
	if !p.BeforeAt.IsZero() {
		filter["$or"] = bson.A{
			bson.M{"at": bson.M{"$lt": p.BeforeAt}},
			bson.M{"at": p.BeforeAt, "_id": bson.M{"$lt": p.BeforeID}},
		}
	}
	limit := p.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	opts := options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit))
	cur, err := s.audit.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("store: list audit entries: %w", err)
	}
	var out []AuditEntry
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: list audit entries: %w", err)
	}
	return out, nil
}
