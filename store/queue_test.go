package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/clock"
)

// queueEngines runs a queue test on both embedded engines, and on the
// indexed one through MONGO_URI and the wire server (targetWire). The store's
// clock is clk, which stands still unless the test moves it: leases run
// out and retries come due when the test says so, not after a sleep.
func queueEngines(t *testing.T, test func(t *testing.T, st *Store, clk *clock.Manual)) {
	for _, engine := range []string{EngineIndexed, EngineLungo, targetWire} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			// Near the wall clock, so the engine's TTL sweeps (on wall
			// time) do not take finished events for expired; whole
			// milliseconds, as BSON stores times.
			clk := clock.NewManual(time.Now().Truncate(time.Millisecond))
			st, err := Open(context.Background(), targetConfig(t, engine, clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(context.Background()) })
			test(t, st, clk)
		})
	}
}

func TestQueue_PublishClaimComplete(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		id, err := st.Publish(ctx, "ocr", map[string]string{"doc": "d1"}, PublishOptions{LoanID: "LN-2026-000001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Claim(ctx, "w1", []string{"score"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim of another type: %v, want ErrNotFound", err)
		}
		ev, err := st.Claim(ctx, "w1", []string{"ocr", "score"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Doc string }
		if ev.ID != id || ev.Status != EventProcessing || ev.Attempts != 1 || ev.Worker != "w1" || ev.LoanID != "LN-2026-000001" || ev.DecodePayload(&p) != nil || p.Doc != "d1" {
			t.Fatalf("claimed %+v (payload %+v)", ev, p)
		}
		if _, err := st.Claim(ctx, "w2", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second claim while leased: %v, want ErrNotFound", err)
		}
		stale := ev
		stale.Lease = "not-the-token"
		if err := st.Complete(ctx, stale); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("complete without the lease: %v, want ErrLeaseLost", err)
		}
		if err := st.Complete(ctx, ev); err != nil {
			t.Fatal(err)
		}
		got, err := st.EventGet(ctx, id)
		if err != nil || got.Status != EventDone || got.Queued || got.ExpireAt.Sub(got.FinishedAt) != DefaultEventRetention {
			t.Fatalf("after complete: %+v %v", got, err)
		}
		if err := st.Complete(ctx, ev); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("second complete: %v, want ErrLeaseLost", err)
		}
	})
}

// A worker whose lease ran out loses the event to the next claim and can
// neither complete nor fail it; the new holder completes it once.
func TestQueue_LeaseExpiry(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		if _, err := st.Publish(ctx, "ocr", nil, PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		first, err := st.Claim(ctx, "dies", []string{"ocr"}, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(30*time.Second - time.Millisecond)
		if _, err := st.Claim(ctx, "lives", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim before the lease ran out: %v, want ErrNotFound", err)
		}
		clk.Advance(time.Millisecond)
		second, err := st.Claim(ctx, "lives", []string{"ocr"}, time.Minute)
		if err != nil {
			t.Fatalf("claim after the lease ran out: %v", err)
		}
		if second.ID != first.ID || second.Attempts != 2 || second.Worker != "lives" {
			t.Fatalf("second claim %+v", second)
		}
		if err := st.Complete(ctx, first); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("late complete by the first worker: %v, want ErrLeaseLost", err)
		}
		if err := st.Fail(ctx, first, "late", clk.Now()); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("late fail by the first worker: %v, want ErrLeaseLost", err)
		}
		if err := st.Extend(ctx, first, time.Minute); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("late extend by the first worker: %v, want ErrLeaseLost", err)
		}
		if err := st.Complete(ctx, second); err != nil {
			t.Fatal(err)
		}
	})
}

// Failures retry at the time given, and the last attempt's failure makes
// the event dead with its error; an admin can requeue or discard it.
func TestQueue_RetryDeadRequeueDiscard(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		id, err := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Fail(ctx, ev, "tesseract crashed", clk.Now().Add(80*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim before the retry is due: %v, want ErrNotFound", err)
		}
		clk.Advance(80*time.Second - time.Millisecond)
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim a moment before the retry is due: %v, want ErrNotFound", err)
		}
		clk.Advance(time.Millisecond)
		ev, err = st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err != nil || ev.Attempts != 2 || ev.LastError != "tesseract crashed" {
			t.Fatalf("retry claim: %+v %v", ev, err)
		}
		if err := st.Fail(ctx, ev, "tesseract crashed again", clk.Now()); err != nil {
			t.Fatal(err)
		}
		dead, _ := st.EventGet(ctx, id)
		if dead.Status != EventDead || dead.Queued || dead.LastError != "tesseract crashed again" {
			t.Fatalf("after the last attempt: %+v", dead)
		}
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a dead event was claimed: %v", err)
		}
		if err := st.Requeue(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := st.Requeue(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("requeue of a pending event: %v, want ErrNotFound", err)
		}
		ev, err = st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err != nil || ev.Attempts != 1 {
			t.Fatalf("claim after requeue: %+v %v", ev, err)
		}
		if err := st.Fail(ctx, ev, "permanent", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.EventGet(ctx, id); got.Status != EventDead {
			t.Fatalf("a permanent failure left %s, want dead", got.Status)
		}
		if err := st.Discard(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.EventGet(ctx, id); got.Status != EventDiscarded || got.ExpireAt.IsZero() {
			t.Fatalf("after discard: %+v", got)
		}
		if err := st.Discard(ctx, primitive.NewObjectID()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("discard of an unknown event: %v, want ErrNotFound", err)
		}
	})
}

// An event whose worker died on every attempt goes dead at the next claim
// instead of being tried forever.
func TestQueue_LeaseRunsOutOnLastAttempt(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		id, _ := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: 2})
		for range 2 {
			if _, err := st.Claim(ctx, "dies", []string{"ocr"}, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			clk.Advance(10 * time.Second)
		}
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("third claim: %v, want ErrNotFound (dead)", err)
		}
		if got, _ := st.EventGet(ctx, id); got.Status != EventDead || got.LastError == "" {
			t.Fatalf("after its workers died twice: %+v", got)
		}
	})
}

func TestQueue_Dedupe(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		a, err := st.Publish(ctx, "score", nil, PublishOptions{DedupeKey: "score:LN-1"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.Publish(ctx, "score", nil, PublishOptions{DedupeKey: "score:LN-1"})
		if err != nil || b != a {
			t.Fatalf("second publish: %s %v, want the first event %s", b.Hex(), err, a.Hex())
		}
		if _, err := st.Publish(ctx, "score", nil, PublishOptions{}); err != nil {
			t.Fatalf("events without a key do not collide: %v", err)
		}
		if _, err := st.Publish(ctx, "score", nil, PublishOptions{}); err != nil {
			t.Fatalf("events without a key do not collide: %v", err)
		}
		st2, _ := st.QueueStats(ctx, []string{"score"})
		if st2.Counts["score"][EventPending] != 3 {
			t.Fatalf("pending: %v, want 3", st2.Counts)
		}
	})
}

// TestQueue_ClaimRace: 8 goroutines claim 2,000 events; each is claimed
// exactly once.
func TestQueue_ClaimRace(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		events, workers := 2000, 8
		if st.indexed == nil {
			events = 500 // lungo scans the queue for every claim
		}
		publishConcurrently(t, st, "x", events)
		var mu sync.Mutex
		claimed := map[primitive.ObjectID]int{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for {
					ev, err := st.Claim(ctx, fmt.Sprint("w", w), []string{"x"}, time.Minute)
					if errors.Is(err, ErrNotFound) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					claimed[ev.ID]++
					mu.Unlock()
					if err := st.Complete(ctx, ev); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		dups := 0
		for _, n := range claimed {
			if n > 1 {
				dups++
			}
		}
		t.Logf("%d events, %d claimed, %d claimed twice", events, len(claimed), dups)
		if len(claimed) != events || dups != 0 {
			t.Fatalf("%d of %d events claimed, %d more than once", len(claimed), events, dups)
		}
	})
}

func TestQueue_Stats(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		for range 3 {
			st.Publish(ctx, "ocr", nil, PublishOptions{})
		}
		st.Publish(ctx, "score", nil, PublishOptions{MaxAttempts: 1})
		st.Publish(ctx, "score", nil, PublishOptions{Delay: time.Hour})
		ev, _ := st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		st.Complete(ctx, ev)
		ev, _ = st.Claim(ctx, "w", []string{"score"}, time.Minute)
		st.Fail(ctx, ev, "boom", clk.Now())
		ev, _ = st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err := st.WorkerHeartbeat(ctx, Worker{ID: "w", Types: []string{"ocr"}, Current: []WorkerEvent{{ID: ev.ID, Type: ev.Type, Since: clk.Now()}}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Second)
		got, err := st.QueueStats(ctx, []string{"ocr", "score"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]int64{
			"ocr":   {EventPending: 1, EventProcessing: 1, EventDone: 1, EventDead: 0, EventDiscarded: 0},
			"score": {EventPending: 1, EventProcessing: 0, EventDone: 0, EventDead: 1, EventDiscarded: 0},
		}
		if fmt.Sprint(got.Counts) != fmt.Sprint(want) || got.Dead != 1 || got.CompletedLast5Minutes != 1 {
			t.Fatalf("stats %+v\nwant counts %v, 1 dead, 1 completed", got, want)
		}
		if got.OldestPendingSeconds != 2 {
			t.Fatalf("oldest pending %v s, want 2", got.OldestPendingSeconds)
		}
		if len(got.Workers) != 1 || got.Workers[0].ID != "w" || len(got.Workers[0].Current) != 1 {
			t.Fatalf("workers %+v", got.Workers)
		}
		// Five minutes on, the completion is no longer recent and the
		// silent worker no longer counts as live.
		clk.Advance(5*time.Minute - 2*time.Second + time.Millisecond)
		if got, err := st.QueueStats(ctx, []string{"ocr", "score"}); err != nil || got.CompletedLast5Minutes != 0 || len(got.Workers) != 0 {
			t.Fatalf("five minutes later: %+v %v, want no recent completion and no live worker", got, err)
		}
		if err := st.WorkerGone(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.QueueStats(ctx, nil); len(got.Workers) != 0 {
			t.Fatalf("workers after it left: %+v", got.Workers)
		}
	})
}

// publishConcurrently publishes n events of typ from 8 goroutines (their
// commits share syncs).
func publishConcurrently(t *testing.T, st *Store, typ string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				if _, err := st.Publish(context.Background(), typ, map[string]int{"i": i}, PublishOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
