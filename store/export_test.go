package store

import (
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/store/durable"
)

// NewLungoStore lets the external benchmark package persist lungo's
// engine through our durable store.
func NewLungoStore(db *durable.DB) lungo.Store { return newLungoStore(db) }

// TestChildren are entry points a test binary runs instead of its tests
// when started with LOANDESK_TEST_CHILD=name (the argument is in
// LOANDESK_TEST_CHILD_ARG): a fresh process to crash or to measure.
// External test packages register theirs in init.
var TestChildren = map[string]func(arg string){}

// LungoIndexDefs are the index definitions ensureIndexes gives coll on
// lungo's engine, as lungo stores them (for benchmarks that build a
// catalog directly).
func LungoIndexDefs(coll string) (map[string]lungo.FileIndex, error) {
	defs := map[string]lungo.FileIndex{"_id_": {Key: &bson.D{{Key: "_id", Value: int32(1)}}, Unique: true}}
	for _, c := range indexes {
		if c.coll != coll {
			continue
		}
		for _, m := range enforcingOnly(c.models) {
			key, err := bsonkit.Convert(m.Keys)
			if err != nil {
				return nil, err
			}
			cfg := mongokit.IndexConfig{Key: key, Unique: m.Options.Unique != nil && *m.Options.Unique}
			if m.Options.ExpireAfterSeconds != nil {
				cfg.Expiry = time.Duration(*m.Options.ExpireAfterSeconds) * time.Second
			}
			name, err := cfg.Name()
			if err != nil {
				return nil, err
			}
			defs[name] = lungo.FileIndex{Key: key, Unique: cfg.Unique, Expiry: cfg.Expiry}
		}
	}
	return defs, nil
}

// LoansCollection exposes the loans collection to benchmarks that call
// the driver interfaces directly.
func LoansCollection(s *Store) lungo.ICollection { return s.loans }
