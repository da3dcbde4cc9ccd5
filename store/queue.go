package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"loandesk/model"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The event queue. An event is work to do later: publish it, and a worker
// claims it (pending and due → processing, under a lease), then completes
// it, fails it (retried later, dead after its attempts) or lets its lease
// run out (claimed again). Claims are one atomic findOneAndUpdate, so two
// workers never hold the same event.
//
// One field drives the claim: availableAt is when a pending event is due,
// or when a processing event's lease ends. Both kinds are "queued", and
// the index {queued, availableAt, _id} gives a worker the oldest available
// event without scanning; done and dead events leave the index's queued
// part, so the claim stays fast however long the history.

// Event statuses.
const (
	EventPending    = "pending"
	EventProcessing = "processing"
	EventDone       = "done"
	EventDead       = "dead"
	EventDiscarded  = "discarded"
)

// EventStatuses lists the statuses in the order the queue page shows them.
var EventStatuses = []string{EventPending, EventProcessing, EventDone, EventDead, EventDiscarded}

// Event is one unit of background work.
type Event struct {
	ID          primitive.ObjectID `bson:"_id"`
	Type        string             `bson:"type"`
	Payload     bson.Raw           `bson:"payload,omitempty"`
	Status      string             `bson:"status"`
	Queued      bool               `bson:"queued,omitempty"`      // pending or processing
	AvailableAt time.Time          `bson:"availableAt,omitempty"` // due, or lease end
	Attempts    int                `bson:"attempts"`
	MaxAttempts int                `bson:"maxAttempts"`
	DedupeKey   string             `bson:"dedupeKey,omitempty"`
	LoanID      string             `bson:"loanId,omitempty"` // the loan it works on, if any
	Worker      string             `bson:"worker,omitempty"`
	Lease       string             `bson:"lease,omitempty"` // the current claim's token
	LastError   string             `bson:"lastError,omitempty"`
	CreatedAt   time.Time          `bson:"createdAt"`
	UpdatedAt   time.Time          `bson:"updatedAt"`
	StartedAt   time.Time          `bson:"startedAt,omitempty"`
	FinishedAt  time.Time          `bson:"finishedAt,omitempty"`
	ExpireAt    time.Time          `bson:"expireAt,omitempty"` // TTL, once finished
}

// DecodePayload unmarshals the event's payload into v.
func (e Event) DecodePayload(v any) error {
	if len(e.Payload) == 0 {
		return errors.New("store: event has no payload")
	}
	return bson.Unmarshal(e.Payload, v)
}

// ErrLeaseLost is returned when a worker completes, fails or extends an
// event it no longer holds: its lease ran out and the event was claimed
// again (or an admin acted on it). The worker must drop the result.
var ErrLeaseLost = errors.New("store: lease lost")

// DefaultMaxAttempts is how often an event is tried before it is dead.
const DefaultMaxAttempts = 5

// DefaultEventRetention is how long finished events are kept.
const DefaultEventRetention = 7 * 24 * time.Hour

// PublishOptions are an event's optional settings.
type PublishOptions struct {
	Delay       time.Duration // due this long from now
	DedupeKey   string        // publishing the same key again returns the first event
	MaxAttempts int           // default DefaultMaxAttempts
	LoanID      string
}

// Publish queues an event. With a dedupe key already used, it returns
// the existing event's id and publishes nothing.
func (s *Store) Publish(ctx context.Context, typ string, payload any, opts PublishOptions) (primitive.ObjectID, error) {
	ev, err := newEvent(typ, payload, opts, s.now())
	if err != nil {
		return primitive.NilObjectID, err
	}
	if _, err := s.events.InsertOne(ctx, ev); err != nil {
		if isDuplicateKey(err) && opts.DedupeKey != "" {
			var first Event
			if err := s.events.FindOne(ctx, bson.M{"dedupeKey": opts.DedupeKey}).Decode(&first); err != nil {
				return primitive.NilObjectID, fmt.Errorf("store: publish %s: find the event of key %q: %w", typ, opts.DedupeKey, err)
			}
			return first.ID, nil
		}
		return primitive.NilObjectID, fmt.Errorf("store: publish %s: %w", typ, err)
	}
	s.queueSignal.notify()
	return ev.ID, nil
}

func newEvent(typ string, payload any, opts PublishOptions, now time.Time) (Event, error) {
	if typ == "" {
		return Event{}, errors.New("store: publish: an event needs a type")
	}
	ev := Event{
		ID: primitive.NewObjectID(), Type: typ, Status: EventPending, Queued: true,
		AvailableAt: now.Add(opts.Delay), MaxAttempts: opts.MaxAttempts, DedupeKey: opts.DedupeKey,
		LoanID: opts.LoanID, CreatedAt: now, UpdatedAt: now,
	}
	if ev.MaxAttempts <= 0 {
		ev.MaxAttempts = DefaultMaxAttempts
	}
	if payload != nil {
		raw, err := bson.Marshal(payload)
		if err != nil {
			return Event{}, fmt.Errorf("store: publish %s: payload: %w", typ, err)
		}
		ev.Payload = raw
	}
	return ev, nil
}

// Claim takes the oldest available event of one of types (pending and
// due, or processing with its lease run out) for worker, for lease. It
// returns ErrNotFound when there is none.
//
// An event whose lease ran out on its last attempt (its worker died each
// time) is not tried again: it goes dead, and Claim looks further.
func (s *Store) Claim(ctx context.Context, worker string, types []string, lease time.Duration) (Event, error) {
	for {
		now := s.now()
		token, err := leaseToken()
		if err != nil {
			return Event{}, err
		}
		var ev Event
		err = s.events.FindOneAndUpdate(ctx,
			bson.M{"queued": true, "availableAt": bson.M{"$lte": now}, "type": bson.M{"$in": types}},
			bson.M{
				"$set": bson.M{"status": EventProcessing, "availableAt": now.Add(lease), "worker": worker, "lease": token, "startedAt": now, "updatedAt": now},
				"$inc": bson.M{"attempts": 1},
			},
			options.FindOneAndUpdate().
				SetSort(bson.D{{Key: "availableAt", Value: 1}, {Key: "_id", Value: 1}}).
				SetReturnDocument(options.After),
		).Decode(&ev)
		if err != nil {
			return Event{}, fmt.Errorf("store: claim: %w", notFound(err))
		}
		if ev.Attempts <= ev.MaxAttempts {
			return ev, nil
		}
		msg := fmt.Sprintf("its worker stopped before finishing, %d times (last: %s)", ev.MaxAttempts, ev.LastError)
		if ev.LastError == "" {
			msg = fmt.Sprintf("its worker stopped before finishing, %d times", ev.MaxAttempts)
		}
		if err := s.finish(ctx, ev, EventDead, msg, now); err != nil && !errors.Is(err, ErrLeaseLost) {
			return Event{}, err
		}
	}
}

// leaseToken is a claim's unguessable token: only its holder can finish
// the event.
func leaseToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: lease token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// held is the filter that matches ev only while its claim holds.
func held(ev Event) bson.M {
	return bson.M{"_id": ev.ID, "status": EventProcessing, "lease": ev.Lease}
}

// Complete marks a claimed event done. A worker that lost its lease gets
// ErrLeaseLost.
func (s *Store) Complete(ctx context.Context, ev Event) error {
	return s.finish(ctx, ev, EventDone, "", s.now())
}

// finish ends a claimed event as done or dead.
func (s *Store) finish(ctx context.Context, ev Event, status, lastError string, now time.Time) error {
	set := bson.M{"status": status, "finishedAt": now, "updatedAt": now}
	if status == EventDone {
		set["expireAt"] = now.Add(s.eventRetention)
	}
	if lastError != "" {
		set["lastError"] = lastError
	}
	return s.leaseUpdate(ctx, ev, "finish", bson.M{"$set": set, "$unset": bson.M{"queued": "", "availableAt": "", "lease": ""}})
}

// Fail records a failed attempt: the event is tried again at retryAt,
// or goes dead with cause when it has had its attempts (or retryAt is
// zero: the failure is permanent), which is recorded in the history of
// the application it works on.
func (s *Store) Fail(ctx context.Context, ev Event, cause string, retryAt time.Time) error {
	now := s.now()
	if ev.Attempts >= ev.MaxAttempts || retryAt.IsZero() {
		if err := s.finish(ctx, ev, EventDead, cause, now); err != nil {
			return err
		}
		s.recordDeadEvent(ctx, ev, cause)
		return nil
	}
	return s.leaseUpdate(ctx, ev, "fail", bson.M{
		"$set":   bson.M{"status": EventPending, "availableAt": retryAt, "lastError": cause, "updatedAt": now},
		"$unset": bson.M{"lease": ""},
	})
}

// Extend keeps a claimed event for lease from now (long jobs call it
// before their lease runs out).
func (s *Store) Extend(ctx context.Context, ev Event, lease time.Duration) error {
	now := s.now()
	return s.leaseUpdate(ctx, ev, "extend", bson.M{"$set": bson.M{"availableAt": now.Add(lease), "updatedAt": now}})
}

// Release gives a claimed event back unfinished (its worker is shutting
// down): pending again at once, the attempt not counted.
func (s *Store) Release(ctx context.Context, ev Event) error {
	now := s.now()
	err := s.leaseUpdate(ctx, ev, "release", bson.M{
		"$set":   bson.M{"status": EventPending, "availableAt": now, "updatedAt": now},
		"$inc":   bson.M{"attempts": -1},
		"$unset": bson.M{"lease": ""},
	})
	if err == nil {
		s.queueSignal.notify()
	}
	return err
}

func (s *Store) leaseUpdate(ctx context.Context, ev Event, what string, update bson.M) error {
	return updateMatched(ctx, s.events, held(ev), update, ErrLeaseLost, what+" event "+ev.ID.Hex())
}

// Requeue makes a dead event pending again, with a fresh set of attempts.
func (s *Store) Requeue(ctx context.Context, id primitive.ObjectID) error {
	now := s.now()
	err := updateMatched(ctx, s.events, bson.M{"_id": id, "status": EventDead}, bson.M{
		"$set":   bson.M{"status": EventPending, "queued": true, "availableAt": now, "attempts": 0, "updatedAt": now},
		"$unset": bson.M{"finishedAt": "", "worker": ""},
	}, ErrNotFound, "requeue event "+id.Hex())
	if err == nil {
		s.queueSignal.notify()
	}
	return err
}

// Discard gives up on a dead event for good; it is kept (for the record)
// until the retention runs out.
func (s *Store) Discard(ctx context.Context, id primitive.ObjectID) error {
	now := s.now()
	return updateMatched(ctx, s.events, bson.M{"_id": id, "status": EventDead}, bson.M{
		"$set": bson.M{"status": EventDiscarded, "updatedAt": now, "expireAt": now.Add(s.eventRetention)},
	}, ErrNotFound, "discard event "+id.Hex())
}

// EventGet returns one event.
func (s *Store) EventGet(ctx context.Context, id primitive.ObjectID) (Event, error) {
	var ev Event
	if err := s.events.FindOne(ctx, bson.M{"_id": id}).Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("store: event %s: %w", id.Hex(), notFound(err))
	}
	return ev, nil
}

// EventListParams select events for a page.
type EventListParams struct {
	Status string // empty: any
	LoanID string // empty: any
	Limit  int
}

// EventList returns events, newest first.
func (s *Store) EventList(ctx context.Context, p EventListParams) ([]Event, error) {
	filter := bson.M{}
	if p.Status != "" {
		filter["status"] = p.Status
	}
	if p.LoanID != "" {
		filter["loanId"] = p.LoanID
	}
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetProjection(bson.M{"payload": 0})
	if p.Limit > 0 {
		opts.SetLimit(int64(p.Limit))
	}
	cur, err := s.events.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	var out []Event
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return out, nil
}

// queueSignal wakes this process's idle workers when an event is
// published here: on the embedded engine every publisher is in the
// process, so no worker has to poll to notice. (Across processes, on
// MongoDB, workers poll with backoff.)
type queueSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next notify.
func (q *queueSignal) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ch == nil {
		q.ch = make(chan struct{})
	}
	return q.ch
}

func (q *queueSignal) notify() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ch != nil {
		close(q.ch)
		q.ch = nil
	}
}

// EventsPublished returns a channel closed when an event is next
// published (or released, or requeued) through this store.
func (s *Store) EventsPublished() <-chan struct{} { return s.queueSignal.wait() }

// The application's event types.
const (
	// EventDocumentUploaded asks for a document's OCR.
	EventDocumentUploaded = "document:uploaded"
	// EventScoreApplication asks for an application's scorecard.
	EventScoreApplication = "application:score"
)

// EventTypes lists them, for the queue's statistics.
var EventTypes = []string{EventDocumentUploaded, EventScoreApplication}

// DocumentEvent is the payload of EventDocumentUploaded.
type DocumentEvent struct {
	DocumentID primitive.ObjectID `bson:"documentId"`
}

// ScoreEvent is the payload of EventScoreApplication.
type ScoreEvent struct {
	LoanID primitive.ObjectID `bson:"loanId"`
	Reason string             `bson:"reason"` // why scoring was asked for
}

// PublishDocumentOCR queues d's OCR. Its dedupe key is the document's, so
// the upload and the sweeper (after a crash) may both publish it: one
// event results.
func (s *Store) PublishDocumentOCR(ctx context.Context, d model.Document) (primitive.ObjectID, error) {
	return s.Publish(ctx, EventDocumentUploaded, DocumentEvent{DocumentID: d.ID},
		PublishOptions{DedupeKey: "ocr:" + d.ID.Hex(), LoanID: d.LoanHumanID})
}

// PublishScoring queues scoring of l. key, when set, makes it idempotent
// (e.g. one scoring per document read).
func (s *Store) PublishScoring(ctx context.Context, l model.Loan, reason, key string) (primitive.ObjectID, error) {
	opts := PublishOptions{LoanID: l.HumanID}
	if key != "" {
		opts.DedupeKey = "score:" + key
	}
	return s.Publish(ctx, EventScoreApplication, ScoreEvent{LoanID: l.ID, Reason: reason}, opts)
}
