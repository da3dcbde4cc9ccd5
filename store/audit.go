package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/256dpi/lungo"
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

// AuditAdd records e on its own (At is taken as given, truncated to
// milliseconds; an ID is assigned unless e has one). For an entry about
// a change, use Audited instead, which makes the two one write.
func (s *Store) AuditAdd(ctx context.Context, e AuditEntry) error {
	if e.ID.IsZero() {
		e.ID = primitive.NewObjectID()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	if _, err := s.audit.InsertOne(ctx, e); err != nil {
		return fmt.Errorf("store: add audit entry %s: %w", e.Action, err)
	}
	return nil
}

// ErrAuditNotRecorded is an action that took effect on a server without
// transactions whose audit entry could not be added after it (see
// Audited).
var ErrAuditNotRecorded = errors.New("store: the action took effect but its audit entry was not recorded")

// Audited makes an action and its audit entry one change: act does the
// action's writes through the ctx it is given and returns the entry
// (built from what it found, e.g. the role before), and both are
// committed together in one transaction. So an action that is refused
// or fails (act returns an error, which Audited returns as it came)
// leaves neither its writes nor an entry, and an action that took effect
// always has its entry: if the entry cannot be added, the action is
// undone and the error returned. On MongoDB the driver may run act again
// after a transient conflict, so act must not depend on having run once.
//
// On a server without transactions (FeatureTransactions in Degraded:
// FerretDB v1, a standalone MongoDB) act's writes take effect as it
// makes them and the entry is added after act succeeded: a refused or
// failed act still leaves no entry, but should the process stop between
// the two, or the entry's write fail (ErrAuditNotRecorded, wrapped), the
// action stands without its entry.
func (s *Store) Audited(ctx context.Context, act func(ctx context.Context) (AuditEntry, error)) error {
	if s.noTransactions {
		e, err := act(ctx)
		if err != nil {
			return err
		}
		if err := s.AuditAdd(context.WithoutCancel(ctx), e); err != nil {
			return fmt.Errorf("%w: %w", ErrAuditNotRecorded, err)
		}
		return nil
	}
	// After the commit, not only after act's writes (which forget the
	// staff list too): a list read between those and the commit is the
	// old one and must not be kept.
	defer s.staff.forget()
	return s.inTransaction(ctx, func(ctx context.Context) error {
		e, err := act(ctx)
		if err != nil {
			return err
		}
		return s.AuditAdd(ctx, e)
	})
}

// inTransactionKey marks a context whose writes are in a transaction of
// the store's (see WithLock).
type inTransactionKey struct{}

// inTransaction runs fn in a transaction: its writes through the ctx it
// is given commit together if it returns nil, and none of them does
// otherwise. fn must not use ctx from two goroutines at once.
func (s *Store) inTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	sess, err := s.client.StartSession()
	if err != nil {
		return fmt.Errorf("store: start a session: %w", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	_, err = sess.WithTransaction(ctx, func(sc lungo.ISessionContext) (any, error) {
		return nil, fn(context.WithValue(sc, inTransactionKey{}, true))
	})
	return err
}

// inTransactionCtx reports whether ctx's writes are in a transaction.
func inTransactionCtx(ctx context.Context) bool {
	in, _ := ctx.Value(inTransactionKey{}).(bool)
	return in
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
