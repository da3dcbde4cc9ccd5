package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"
)

// Degradation is one feature the database's server lacked at start (an
// index option, a query shape, transactions), and what the store does
// instead. MongoDB-compatible servers that are not MongoDB degrade
// (FerretDB v1 refuses TTL and partial indexes and has no transactions),
// and so does a standalone MongoDB (no transactions); a MongoDB replica
// set, `loandesk db` and the embedded engine never do.
type Degradation struct {
	Collection string // the collection, e.g. "sessions"
	Keys       string // the index's keys, e.g. "expiry" or "journal.utr"
	Feature    string // what the server lacks: FeatureTTL or FeaturePartialUnique
	Instead    string // what the store does instead, in words
	Cause      string // the server's refusal
}

// The features a server may lack.
const (
	FeatureTTL           = "TTL index"
	FeaturePartialUnique = "partial unique index"
	// FeatureFindAndModifyFields: findAndModify with a projection
	// ("fields"), which a versioned edit sends.
	FeatureFindAndModifyFields = "findAndModify with a projection"
	// FeatureElemMatchRange: $elemMatch holding both ends of a range on
	// one array element, which search sends.
	FeatureElemMatchRange = "$elemMatch range on one array element"
	// FeatureTransactions: multi-document transactions, which keep an
	// account change and its audit entry together (Store.Audited).
	FeatureTransactions = "transactions"
)

// String is the degradation as one log-ready sentence.
func (d Degradation) String() string {
	return fmt.Sprintf("%s on %s.%s refused by the server (%s): %s", d.Feature, d.Collection, d.Keys, d.Cause, d.Instead)
}

// Degraded returns what the server refused at start, in index order
// (transactions last); empty on a MongoDB replica set, `loandesk db` and
// the embedded engine.
func (s *Store) Degraded() []Degradation { return append([]Degradation(nil), s.degraded...) }

// compat is what the store learnt at start about the server's
// features, and the interval of its own TTL sweeps.
type compat struct {
	degraded    []Degradation
	ttlFallback []ttlField
	ttlInterval time.Duration // 30 s unless Config.TTLInterval
	// noFieldsInFindAndModify: versioned edits read the whole document
	// back (decoding ignores the search keys).
	noFieldsInFindAndModify bool
	// searchByRegex: search matches each token as a ^prefix $regex on
	// the search keys instead of an $elemMatch range.
	searchByRegex bool
	// noTransactions: an audited action and its entry are two writes
	// (see Audited).
	noTransactions bool
}

// ttlField is a TTL index the server refused: the store's own sweeper
// deletes the collection's documents whose field is at or before now
// minus after.
type ttlField struct {
	coll  string
	field string
	after time.Duration
}

// refusesOption reports whether err is the server refusing an index
// option it does not implement (FerretDB: code 238, "Index option
// \"expireAfterSeconds\" is not implemented yet"; Cosmos DB documents
// TTL indexes only on _ts), as opposed to a clash with
// an existing index (codes 85 and 86) or a lost connection.
func refusesOption(err error, option string) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) || se.HasErrorCode(85) || se.HasErrorCode(86) {
		return false
	}
	return strings.Contains(se.Error(), option)
}

// createIndexesDegrading creates coll's indexes one at a time after the
// server refused them together, replacing each index whose option the
// server lacks: a TTL index by a plain index on its field, which the
// store's sweeper then deletes by (see sweepExpired); a partial unique
// index by a plain index on its keys, its uniqueness no longer enforced
// by the server. Every replacement is recorded in s.degraded and logged
// as a warning. Any other refusal is returned as it came.
func (s *Store) createIndexesDegrading(ctx context.Context, coll string, models []mongo.IndexModel) error {
	iv := s.db.Collection(coll).Indexes()
	for _, m := range models {
		_, err := iv.CreateOne(ctx, m)
		if err == nil {
			continue
		}
		d := Degradation{Collection: coll, Keys: keysText(m.Keys), Cause: err.Error()}
		plain := mongo.IndexModel{Keys: m.Keys}
		switch {
		case m.Options != nil && m.Options.ExpireAfterSeconds != nil && refusesOption(err, "expireAfterSeconds"):
			d.Feature = FeatureTTL
			d.Instead = fmt.Sprintf("the store deletes expired documents itself every %s", s.ttlInterval)
			field, ok := singleField(m.Keys)
			if !ok {
				return fmt.Errorf("a TTL index must have one key: %w", err)
			}
			s.ttlFallback = append(s.ttlFallback, ttlField{coll: coll, field: field,
				after: time.Duration(*m.Options.ExpireAfterSeconds) * time.Second})
		case m.Options != nil && m.Options.PartialFilterExpression != nil && refusesOption(err, "partialFilterExpression"):
			d.Feature = FeaturePartialUnique
			d.Instead = "a plain index instead: duplicates are no longer refused by the server, so concurrent retries may create them"
		default:
			return err
		}
		if _, err := iv.CreateOne(ctx, plain); err != nil {
			return fmt.Errorf("a plain index on %s in place of the refused %s: %w", d.Keys, d.Feature, err)
		}
		s.degrade(d)
	}
	return nil
}

// probeQueries finds out, with one scratch document in counters that
// it deletes afterwards, whether the server answers the two query shapes
// FerretDB v1 gets wrong, and records a degradation for each it does
// not: findAndModify with a projection (refused: "not implemented"), and
// $elemMatch with $gte and $lt on an array of strings (FerretDB applies
// each operator to any element, so search found every loan). Only for
// servers reached through MONGO_URI; an error is a failed round trip.
func (s *Store) probeQueries(ctx context.Context) error {
	id := "compat-probe:" + primitive.NewObjectID().Hex()
	counters := s.db.Collection("counters")
	if _, err := counters.InsertOne(ctx, bson.M{"_id": id, "k": bson.A{"ashok", "sharma"}}); err != nil {
		return fmt.Errorf("store: probe the server's queries: %w", err)
	}
	defer func() { _, _ = counters.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": id}) }()

	n, err := counters.CountDocuments(ctx, bson.M{"_id": id, "k": bson.M{"$elemMatch": bson.M{"$gte": "i", "$lt": "i" + maxRune}}})
	if err != nil {
		return fmt.Errorf("store: probe the server's queries: $elemMatch: %w", err)
	}
	if n != 0 {
		s.degrade(Degradation{Collection: "loans", Keys: "searchKeys", Feature: FeatureElemMatchRange,
			Instead: "search matches each word as a ^prefix $regex on the search keys",
			Cause:   "an $elemMatch range matched an array none of whose elements is in it"})
		s.searchByRegex = true
	}

	err = counters.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"n": 1}},
		options.FindOneAndUpdate().SetProjection(bson.M{"k": 0})).Err()
	switch {
	case refusesOption(err, "fields"):
		s.degrade(Degradation{Collection: "loans", Keys: "_id, version", Feature: FeatureFindAndModifyFields,
			Instead: "a versioned edit reads the whole document back", Cause: err.Error()})
		s.noFieldsInFindAndModify = true
	case err != nil:
		return fmt.Errorf("store: probe the server's queries: findAndModify: %w", err)
	}
	return nil
}

// errProbeAbort ends probeTransactions' transaction.
var errProbeAbort = errors.New("store: probe transaction aborted on purpose")

// probeTransactions finds out whether the server keeps a transaction's
// writes to itself until it commits: it inserts a scratch document into
// counters in a transaction and aborts it. A server that refuses the
// transaction (a standalone MongoDB, FerretDB v1) or keeps the document
// anyway is degraded to FeatureTransactions (see Audited). Only for
// servers reached through MONGO_URI; the embedded engines have
// transactions.
func (s *Store) probeTransactions(ctx context.Context) error {
	id := "txn-probe:" + primitive.NewObjectID().Hex()
	counters := s.db.Collection("counters")
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		if _, err := counters.InsertOne(ctx, bson.M{"_id": id}); err != nil {
			return err
		}
		return errProbeAbort
	})
	cause := ""
	switch {
	case errors.Is(err, errProbeAbort):
		n, err := counters.CountDocuments(ctx, bson.M{"_id": id})
		if err != nil {
			return fmt.Errorf("store: probe the server's transactions: %w", err)
		}
		if n != 0 {
			cause = "a document written in an aborted transaction was kept"
			_, _ = counters.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": id})
		}
	case err != nil:
		cause = err.Error()
	}
	if cause != "" {
		s.degrade(Degradation{Collection: "audit", Keys: "_id", Feature: FeatureTransactions, Cause: cause,
			Instead: "an account change and its audit entry are two writes: should the app stop between them, the change stands without its entry"})
		s.noTransactions = true
	}
	return nil
}

// degrade records d and logs it as a warning.
func (s *Store) degrade(d Degradation) {
	s.degraded = append(s.degraded, d)
	s.logger.Warn("store: the database lacks a feature Loan Desk relies on; degraded",
		"feature", d.Feature, "collection", d.Collection, "keys", d.Keys, "instead", d.Instead, "cause", d.Cause)
}

// loanQuery is f as a filter this server answers right (see
// probeQueries).
func (s *Store) loanQuery(f LoanFilter) bson.M {
	q := f.Query()
	if !s.searchByRegex || len(f.Search) == 0 {
		return q
	}
	words := make(bson.A, len(f.Search))
	for i, t := range f.Search {
		words[i] = bson.M{"searchKeys": bson.M{"$regex": "^" + regexp.QuoteMeta(t)}}
	}
	q["$and"] = words
	return q
}

// withoutSearchKeys leaves the search keys out of what o returns,
// where the server takes a projection on findAndModify.
func (s *Store) withoutSearchKeys(o *options.FindOneAndUpdateOptions) *options.FindOneAndUpdateOptions {
	if s.noFieldsInFindAndModify {
		return o
	}
	return o.SetProjection(bson.M{"searchKeys": 0})
}

// mongoClientOptions are the driver's options for cfg.MongoURI (parsed
// as cs): writes acknowledged by a majority, so a write the app reported
// as saved survives a primary failover; retryable writes unless the URI
// sets retryWrites (Amazon DocumentDB before 8.0.2 refuses them and
// needs retryWrites=false); connecting and server selection bounded by
// cfg.ConnectTimeout; the pool capped at cfg.PoolMax when set.
func mongoClientOptions(cfg Config, cs *connstring.ConnString) *options.ClientOptions {
	opts := options.Client().
		ApplyURI(cfg.MongoURI).
		SetWriteConcern(writeconcern.Majority()).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetServerSelectionTimeout(cfg.ConnectTimeout)
	if !cs.RetryWritesSet {
		opts.SetRetryWrites(true)
	}
	if cfg.PoolMax > 0 {
		opts.SetMaxPoolSize(cfg.PoolMax)
	}
	return opts
}

// startSweeper starts deleting expired documents every TTL interval in
// place of the TTL indexes the server refused, until Close; it does
// nothing when the server refused none.
func (s *Store) startSweeper() {
	interval := s.ttlInterval
	if len(s.ttlFallback) == 0 {
		return
	}
	s.stopTTL = make(chan struct{})
	stop := s.stopTTL
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval)
				if _, err := s.SweepExpired(ctx); err != nil {
					s.logger.Error("store: deleting expired documents failed", "err", err)
				}
				cancel()
			}
		}
	}()
}

// SweepExpired deletes, in place of each TTL index the server refused,
// the documents whose TTL field is a date at or before the store's clock
// minus the index's expireAfterSeconds, and returns how many it deleted.
// With no refused TTL index (MongoDB, the embedded engine) it deletes
// nothing and returns 0, nil. The store runs it every TTL interval; it
// is exported for tests and `loandesk doctor`.
func (s *Store) SweepExpired(ctx context.Context) (int64, error) {
	var n int64
	now := s.now()
	for _, f := range s.ttlFallback {
		res, err := s.db.Collection(f.coll).DeleteMany(ctx, bson.M{f.field: bson.M{"$lte": now.Add(-f.after)}})
		if err != nil {
			return n, fmt.Errorf("store: delete expired %s: %w", f.coll, err)
		}
		n += res.DeletedCount
	}
	return n, nil
}

// keysText is an index's keys as "a, b".
func keysText(keys any) string {
	d, ok := keys.(bson.D)
	if !ok {
		return fmt.Sprint(keys)
	}
	names := make([]string, len(d))
	for i, e := range d {
		names[i] = e.Key
	}
	return strings.Join(names, ", ")
}

// singleField is the field of a one-key index.
func singleField(keys any) (string, bool) {
	d, ok := keys.(bson.D)
	if !ok || len(d) != 1 {
		return "", false
	}
	return d[0].Key, true
}
