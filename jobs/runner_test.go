package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/store"
)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fast is a runner tuned for tests: short idle waits and retries.
func fast(q Queue, workers int, handlers map[string]Handler) *Runner {
	return &Runner{Queue: q, Handlers: handlers, Workers: workers, IdleMin: 5 * time.Millisecond, IdleMax: 50 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Heartbeat: 50 * time.Millisecond, Lease: 5 * time.Second}
}

// start runs r until the test ends (or stop is called).
func start(t testing.TB, r *Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunner_ExactlyOnce: four runners of two workers each (8 workers)
// share 2,000 events; every event is handled and completed exactly once.
func TestRunner_ExactlyOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	const events = 2000
	var mu sync.Mutex
	handled := map[primitive.ObjectID]int{}
	var total atomic.Int64
	handler := func(_ context.Context, ev store.Event) error {
		mu.Lock()
		handled[ev.ID]++
		mu.Unlock()
		total.Add(1)
		return nil
	}
	for range 4 {
		start(t, fast(st, 2, map[string]Handler{"x": handler}))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < events; i += 4 {
				if _, err := st.Publish(ctx, "x", map[string]int{"i": i}, store.PublishOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, "all events handled", 60*time.Second, func() bool {
		s, err := st.QueueStats(ctx, []string{"x"})
		return err == nil && s.Counts["x"][store.EventDone] == events
	})
	dups := 0
	for _, n := range handled {
		if n > 1 {
			dups++
		}
	}
	t.Logf("8 workers in 4 runners: %d events, %d handled, %d handled twice, %d handler calls", events, len(handled), dups, total.Load())
	if len(handled) != events || dups != 0 || total.Load() != events {
		t.Fatalf("%d of %d events handled, %d more than once", len(handled), events, dups)
	}
}

// A handler that keeps failing is retried MaxAttempts times, then its
// event is dead with the last error; a panic counts as a failure.
func TestRunner_PoisonEventGoesDead(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	var calls atomic.Int32
	start(t, fast(st, 2, map[string]Handler{
		"poison": func(context.Context, store.Event) error {
			if calls.Add(1) == 2 {
				panic("bad input")
			}
			return errors.New("cannot read the file")
		},
	}))
	id, _ := st.Publish(ctx, "poison", nil, store.PublishOptions{MaxAttempts: 3})
	waitFor(t, "the event to die", 10*time.Second, func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDead
	})
	time.Sleep(50 * time.Millisecond)
	ev, _ := st.EventGet(ctx, id)
	if calls.Load() != 3 || ev.Attempts != 3 || ev.LastError != "cannot read the file" {
		t.Fatalf("%d calls; event %+v", calls.Load(), ev)
	}
}

func TestRunner_PermanentErrorAndUnknownType(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	var calls atomic.Int32
	r := fast(st, 1, map[string]Handler{"bad": func(context.Context, store.Event) error {
		calls.Add(1)
		return Permanent(errors.New("no such loan"))
	}})
	start(t, r)
	id, _ := st.Publish(ctx, "bad", nil, store.PublishOptions{})
	waitFor(t, "the event to die", 10*time.Second, func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDead
	})
	if ev, _ := st.EventGet(ctx, id); calls.Load() != 1 || ev.LastError != "no such loan" {
		t.Fatalf("%d calls, event %+v: a permanent error is not retried", calls.Load(), ev)
	}
}

// A job longer than its lease keeps it (the runner extends it), so a
// second runner never takes it over.
func TestRunner_LongJobKeepsItsLease(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	var calls atomic.Int32
	slow := func(ctx context.Context, _ store.Event) error {
		calls.Add(1)
		select {
		case <-time.After(1200 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for range 2 {
		r := fast(st, 2, map[string]Handler{"slow": slow})
		r.Lease = 300 * time.Millisecond // extended every 100 ms; the job takes four leases
		start(t, r)
	}
	id, _ := st.Publish(ctx, "slow", nil, store.PublishOptions{})
	waitFor(t, "the job", 10*time.Second, func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDone
	})
	if ev, _ := st.EventGet(ctx, id); calls.Load() != 1 || ev.Attempts != 1 {
		t.Fatalf("%d calls, %d attempts: the lease was lost while the job ran", calls.Load(), ev.Attempts)
	}
}

// At shutdown a running handler gets the grace period; past it, its
// event is released (not counted as an attempt) and another runner does
// it.
func TestRunner_ShutdownReleasesRunningJobs(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	started := make(chan struct{}, 1)
	first := fast(st, 1, map[string]Handler{"long": func(ctx context.Context, _ store.Event) error {
		started <- struct{}{}
		<-ctx.Done() // ends only when the runner gives up on it
		return ctx.Err()
	}})
	first.Grace = 50 * time.Millisecond
	stop := start(t, first)
	id, _ := st.Publish(ctx, "long", nil, store.PublishOptions{})
	<-started
	stop()
	ev, _ := st.EventGet(ctx, id)
	if ev.Status != store.EventPending || ev.Attempts != 0 {
		t.Fatalf("after shutdown: %+v, want pending with no attempt counted", ev)
	}
	if s, _ := st.QueueStats(ctx, nil); len(s.Workers) != 0 {
		t.Fatalf("a stopped runner is still listed: %+v", s.Workers)
	}
	start(t, fast(st, 1, map[string]Handler{"long": func(context.Context, store.Event) error { return nil }}))
	waitFor(t, "the released job", 10*time.Second, func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDone
	})
}

// Idle workers wake at once when an event is published in the process,
// even after backing off to a long poll.
func TestRunner_WakesOnPublish(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	done := make(chan time.Time, 1)
	r := fast(st, 1, map[string]Handler{"x": func(context.Context, store.Event) error { done <- time.Now(); return nil }})
	r.IdleMin, r.IdleMax = 10*time.Second, 10*time.Second
	start(t, r)
	time.Sleep(100 * time.Millisecond) // the worker is now waiting out its 10 s poll
	published := time.Now()
	st.Publish(ctx, "x", nil, store.PublishOptions{})
	select {
	case at := <-done:
		t.Logf("handled %s after publishing", at.Sub(published))
	case <-time.After(2 * time.Second):
		t.Fatal("an idle worker did not wake on publish")
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 20: 10 * time.Minute} {
		for range 50 {
			if d := DefaultBackoff(attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %s, want within [%s, %s]", attempt, d, want/2, want)
			}
		}
	}
	if d := DefaultBackoff(0); d < time.Second || d > 2*time.Second {
		t.Fatalf("attempt 0 (a released event): %s, want the first wait", d)
	}
}
