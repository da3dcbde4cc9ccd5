package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Worker is a job runner's heartbeat: who it is, what it handles and what
// it is doing.
type Worker struct {
	ID          string        `bson:"_id" json:"id"`
	Host        string        `bson:"host" json:"host"`
	PID         int           `bson:"pid" json:"pid"`
	Types       []string      `bson:"types" json:"types"`
	Concurrency int           `bson:"concurrency" json:"concurrency"`
	StartedAt   time.Time     `bson:"startedAt" json:"startedAt"`
	LastSeen    time.Time     `bson:"lastSeen" json:"lastSeen"`
	Current     []WorkerEvent `bson:"current" json:"current"`
	Handled     int64         `bson:"handled" json:"handled"` // events finished since it started
	ExpireAt    time.Time     `bson:"expireAt" json:"-"`
}

// WorkerEvent is an event a runner is working on.
type WorkerEvent struct {
	ID    primitive.ObjectID `bson:"id" json:"id"`
	Type  string             `bson:"type" json:"type"`
	Since time.Time          `bson:"since" json:"since"`
}

// WorkerLiveFor is how long after its last heartbeat a runner counts as
// live; runners beat several times within it.
const WorkerLiveFor = 30 * time.Second

// WorkerHeartbeat records that w is alive now.
func (s *Store) WorkerHeartbeat(ctx context.Context, w Worker) error {
	now := s.now()
	w.LastSeen, w.ExpireAt = now, now.Add(24*time.Hour)
	if w.Current == nil {
		w.Current = []WorkerEvent{}
	}
	_, err := s.workers.ReplaceOne(ctx, bson.M{"_id": w.ID}, w, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: worker heartbeat: %w", err)
	}
	return nil
}

// WorkerGone removes a runner that stopped cleanly.
func (s *Store) WorkerGone(ctx context.Context, id string) error {
	if _, err := s.workers.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("store: remove worker %s: %w", id, err)
	}
	return nil
}

// QueueStats is the queue at a glance.
type QueueStats struct {
	// Counts is per event type, then per status.
	Counts map[string]map[string]int64 `json:"counts"`
	// Totals is per status, over all types.
	Totals map[string]int64 `json:"totals"`
	// OldestPendingSeconds is how long the longest-waiting due event has
	// waited (0: none waits).
	OldestPendingSeconds float64 `json:"oldestPendingSeconds"`
	// CompletedLast5Minutes counts events done in the last five minutes.
	CompletedLast5Minutes int64     `json:"completedLast5Minutes"`
	Dead                  int64     `json:"dead"`
	Workers               []Worker  `json:"workers"` // live ones
	At                    time.Time `json:"at"`
}

// QueueStats counts events of types (by type and status, from an index:
// a count is two rank lookups on the embedded engine) and lists the live
// workers.
func (s *Store) QueueStats(ctx context.Context, types []string) (QueueStats, error) {
	now := s.now()
	st := QueueStats{Counts: map[string]map[string]int64{}, Totals: map[string]int64{}, At: now}
	for _, typ := range types {
		st.Counts[typ] = map[string]int64{}
		for _, status := range EventStatuses {
			n, err := s.events.CountDocuments(ctx, bson.M{"type": typ, "status": status})
			if err != nil {
				return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
			}
			st.Counts[typ][status] = n
			st.Totals[status] += n
		}
	}
	st.Dead = st.Totals[EventDead]

	var oldest Event
	err := s.events.FindOne(ctx,
		bson.M{"queued": true, "availableAt": bson.M{"$lte": now}, "status": EventPending},
		options.FindOne().SetSort(bson.D{{Key: "availableAt", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.M{"availableAt": 1}),
	).Decode(&oldest)
	switch {
	case err == nil:
		st.OldestPendingSeconds = now.Sub(oldest.AvailableAt).Seconds()
	case notFound(err) != ErrNotFound:
		return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
	}

	st.CompletedLast5Minutes, err = s.events.CountDocuments(ctx, bson.M{"status": EventDone, "finishedAt": bson.M{"$gte": now.Add(-5 * time.Minute)}})
	if err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
	}

	cur, err := s.workers.Find(ctx, bson.M{"lastSeen": bson.M{"$gte": now.Add(-WorkerLiveFor)}}, options.Find().SetSort(bson.D{{Key: "startedAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: workers: %w", err)
	}
	st.Workers = []Worker{}
	if err := cur.All(ctx, &st.Workers); err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: workers: %w", err)
	}
	return st, nil
}
