package store

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

var (
	ttl    = options.Index().SetExpireAfterSeconds(0)
	unique = options.Index().SetUnique(true)
)

// indexes are every index the application's queries need, per collection.
var indexes = []struct {
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
	{coll: "audit", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "target", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
	}},
	{coll: "api_tokens", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "hash", Value: 1}}, Options: unique},
	}},
	{coll: "login_attempts", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: ttl},
	}},
	{coll: "locks", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: ttl}, // clean-up only: expiry is decided in the acquire filter
	}},
	{coll: "journal", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "idempotencyKey", Value: 1}}, Options: unique},
		{Keys: bson.D{{Key: "utr", Value: 1}}, Options: options.Index().SetUnique(true).
			SetPartialFilterExpression(bson.M{"utr": bson.M{"$exists": true}})},
		{Keys: bson.D{{Key: "loanId", Value: 1}, {Key: "seq", Value: 1}}, Options: unique},
		{Keys: bson.D{{Key: "postedAt", Value: 1}, {Key: "_id", Value: 1}}},
	}},
	{coll: "loans", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "humanId", Value: 1}}, Options: unique},
		// One per list order, with and without the status tab (read
		// backwards for the ascending orders); the status prefix also
		// serves the tab counts.
		{Keys: bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "terms.amount", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "terms.amount", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "updatedAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "updatedAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "assignee", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		// The work queue's product filter, with and without the tab (the
		// tab counts are this index's range sizes).
		{Keys: bson.D{{Key: "terms.product", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		// …and newest first over every status (the All tab): without it a
		// product's page sorted its whole range (0.6 s at 100k, loaded).
		{Keys: bson.D{{Key: "terms.product", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		// The city and score-recommendation filters, by tab (the tab
		// counts are their range sizes), and the ageing filter: a tab's
		// loans by the time they entered their status.
		{Keys: bson.D{{Key: "cityKey", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "score.recommendation", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "statusAt", Value: 1}}},
		{Keys: bson.D{{Key: "searchKeys", Value: 1}}},
		{Keys: bson.D{{Key: "applicant.pan", Value: 1}, {Key: "status", Value: 1}}}, // duplicate PANs at intake
		{Keys: bson.D{{Key: "intakeKey", Value: 1}}, Options: options.Index().SetUnique(true).
			SetPartialFilterExpression(bson.M{"intakeKey": bson.M{"$exists": true}})},
	}},
	{coll: "events", models: []mongo.IndexModel{
		// The claim: the oldest available of the queued events.
		{Keys: bson.D{{Key: "queued", Value: 1}, {Key: "availableAt", Value: 1}, {Key: "_id", Value: 1}}},
		{Keys: bson.D{{Key: "dedupeKey", Value: 1}}, Options: options.Index().SetUnique(true).
			SetPartialFilterExpression(bson.M{"dedupeKey": bson.M{"$exists": true}})},
		{Keys: bson.D{{Key: "type", Value: 1}, {Key: "status", Value: 1}}},                                // stats
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "finishedAt", Value: 1}}},                          // done lately
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}}, // queue page
		{Keys: bson.D{{Key: "loanId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}}, // a loan's jobs
		{Keys: bson.D{{Key: "expireAt", Value: 1}}, Options: ttl},
	}},
	{coll: "activity", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "loanId", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}}, // a loan's history, newest first
	}},
	{coll: "notes", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "loanId", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}}, // a loan's notes, newest first
	}},
	{coll: "documents", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "loanId", Value: 1}, {Key: "uploadedAt", Value: 1}, {Key: "_id", Value: 1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "uploadedAt", Value: 1}, {Key: "_id", Value: 1}}},
	}},
	{coll: "workers", models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "expireAt", Value: 1}}, Options: ttl},
	}},
}

// enforces reports whether an index does something besides speeding up
// reads: keeps keys unique or expires documents.
func enforces(m mongo.IndexModel) bool {
	return m.Options != nil && (m.Options.Unique != nil && *m.Options.Unique || m.Options.ExpireAfterSeconds != nil)
}

// ensureIndexes creates every index (CreateMany is idempotent for
// identical definitions on both engines, so this runs on every start).
//
// On lungo's engine only the enforcing ones are created: lungo answers
// every query by scanning, never from an index, so the others would only
// cost memory (the multikey search index alone is as large as the
// documents), start-up time and time on every write.
func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, c := range indexes {
		models := ownOptions(c.models)
		if s.engine != nil {
			models = enforcingOnly(models)
		}
		if len(models) == 0 {
			continue
		}
		_, err := s.db.Collection(c.coll).Indexes().CreateMany(ctx, models)
		if err != nil && !s.Embedded() {
			// A MongoDB-compatible server may lack an option (TTL,
			// partial): find which, and degrade only those.
			err = s.createIndexesDegrading(ctx, c.coll, models)
		}
		if err != nil {
			return fmt.Errorf("store: create indexes on %s: %w", c.coll, err)
		}
	}
	return nil
}

func enforcingOnly(models []mongo.IndexModel) []mongo.IndexModel {
	var out []mongo.IndexModel
	for _, m := range models {
		if enforces(m) {
			out = append(out, m)
		}
	}
	return out
}

// ownOptions copies models with a copy of each one's options: the
// driver writes each index's generated name into its options, and the
// ttl and unique options are shared, so without copies the first name
// given ("email_1") would stick to every later unique index, and two in
// one collection would clash (MongoDB and FerretDB refuse the second).
func ownOptions(models []mongo.IndexModel) []mongo.IndexModel {
	out := slices.Clone(models)
	for i, m := range out {
		if m.Options != nil {
			o := *m.Options
			out[i].Options = &o
		}
	}
	return out
}

// IndexModels returns the indexes the application creates on coll, for
// benchmarks that must carry the same ones.
func IndexModels(coll string) []mongo.IndexModel {
	for _, c := range indexes {
		if c.coll == coll {
			return ownOptions(c.models)
		}
	}
	return nil
}
