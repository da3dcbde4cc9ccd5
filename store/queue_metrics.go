package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// QueueOldestPending is, per type of types, how many seconds the
// longest-waiting due pending event has waited; a type with none waiting
// is absent. Each type is one query on the claim index (queued,
// availableAt), for the metrics scrape.
func (s *Store) QueueOldestPending(ctx context.Context, types []string) (map[string]float64, error) {
	now := s.now()
	out := map[string]float64{}
	for _, typ := range types {
		var oldest Event
		err := s.events.FindOne(ctx,
			bson.M{"queued": true, "availableAt": bson.M{"$lte": now}, "status": EventPending, "type": typ},
			options.FindOne().SetSort(bson.D{{Key: "availableAt", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.M{"availableAt": 1}),
		).Decode(&oldest)
		switch {
		case err == nil:
			out[typ] = now.Sub(oldest.AvailableAt).Seconds()
		case notFound(err) != ErrNotFound:
			return nil, fmt.Errorf("store: oldest pending %s event: %w", typ, err)
		}
	}
	return out, nil
}
