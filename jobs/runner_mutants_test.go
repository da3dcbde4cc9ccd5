package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/store"
)

// lostLeaseQueue hands out one event whose lease is lost at the first
// extension, and records every outcome the runner tries to record. Unlike
// the store it refuses none, so the runner's own check is what is tested.
type lostLeaseQueue struct {
	mu       sync.Mutex
	claimed  bool
	outcomes []string
}

func (q *lostLeaseQueue) Claim(context.Context, string, []string, time.Duration) (store.Event, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.claimed {
		return store.Event{}, store.ErrNotFound
	}
	q.claimed = true
	return store.Event{ID: primitive.NewObjectID(), Type: "ocr", Status: store.EventProcessing, Attempts: 1, MaxAttempts: 5, Lease: "token"}, nil
}

func (q *lostLeaseQueue) record(what string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.outcomes = append(q.outcomes, what)
	return nil
}

func (q *lostLeaseQueue) Complete(context.Context, store.Event) error { return q.record("complete") }
func (q *lostLeaseQueue) Fail(context.Context, store.Event, string, time.Time) error {
	return q.record("fail")
}
func (q *lostLeaseQueue) Release(context.Context, store.Event) error { return q.record("release") }
func (q *lostLeaseQueue) Extend(context.Context, store.Event, time.Duration) error {
	return store.ErrLeaseLost
}
func (q *lostLeaseQueue) WorkerHeartbeat(context.Context, store.Worker) error { return nil }
func (q *lostLeaseQueue) WorkerGone(context.Context, string) error            { return nil }
func (q *lostLeaseQueue) EventsPublished() <-chan struct{}                    { return make(chan struct{}) }

// A worker whose lease was lost drops the event: it records no outcome,
// whether its handler then succeeds or fails, since another worker may
// hold the event now. (The store refuses such a write too; this is the
// runner's own check.)
func TestRunner_LostLeaseRecordsNoOutcome(t *testing.T) {
	t.Parallel()
	for name, result := range map[string]func(ctx context.Context) error{
		"HandlerSucceedsAfterwards": func(context.Context) error { return nil },
		"HandlerFailsAfterwards":    func(ctx context.Context) error { return ctx.Err() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := &lostLeaseQueue{}
			done := make(chan struct{}, 1)
			r := &Runner{Queue: q, Workers: 1, Lease: 30 * time.Millisecond, IdleMin: time.Millisecond, IdleMax: 10 * time.Millisecond,
				Handlers: map[string]Handler{"ocr": func(ctx context.Context, _ store.Event) error {
					<-ctx.Done() // the runner gives the event up
					return result(ctx)
				}},
				signals: testSignals{finished: done}}
			stop := start(t, r)
			receive(t, "the worker to be done with the event", 10*time.Second, done)
			stop()
			q.mu.Lock()
			defer q.mu.Unlock()
			if len(q.outcomes) != 0 {
				t.Fatalf("after losing the lease the runner recorded %v", q.outcomes)
			}
		})
	}
}
