package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/clock"
	"loandesk/store"
)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	return openStoreClock(t, dir, nil)
}

// openStoreClock opens a store whose clock is now (nil: the wall clock).
func openStoreClock(t testing.TB, dir string, now clock.Func) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// manualClock is a clock for a store and its runners, standing at the
// wall clock's time (so the engine's TTL sweeps, on wall time, expire
// nothing early) in whole milliseconds (as BSON stores times).
func manualClock() *clock.Manual { return clock.NewManual(time.Now().Truncate(time.Millisecond)) }

// testLease is the lease of the runners fast makes.
const testLease = 5 * time.Second

// fast is a runner tuned for tests: short idle waits and retries. It
// signals each event it finishes on finished(q).
func fast(q Queue, workers int, handlers map[string]Handler) *Runner {
	return &Runner{Queue: q, Handlers: handlers, Workers: workers, IdleMin: 5 * time.Millisecond, IdleMax: 50 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Heartbeat: 50 * time.Millisecond, Lease: testLease,
		signals: testSignals{finished: finishedSignal(q)}}
}

// finishedSignals holds a channel per queue: every runner fast makes for
// the queue signals on it when it finishes an event.
var finishedSignals sync.Map // Queue → chan struct{}

func finishedSignal(q Queue) chan struct{} {
	ch, _ := finishedSignals.LoadOrStore(q, make(chan struct{}, 1))
	return ch.(chan struct{})
}

// finished is the channel the runners fast made for q signal on when
// they are done with an event (its outcome is in the store): wait on it
// with waitFor.
func finished(q Queue) <-chan struct{} { return finishedSignal(q) }

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

// waitFor waits until cond holds, checking it at once and again after
// each signal: no polling, and no signal is missed, since a signal that
// finds the channel full has one pending before it. It gives up after
// within.
func waitFor(t testing.TB, what string, within time.Duration, signal <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-signal:
		case <-deadline:
			t.Fatalf("gave up waiting for %s after %s", what, within)
		}
	}
}

// receive waits for one signal, or fails the test after within.
func receive(t testing.TB, what string, within time.Duration, signal <-chan struct{}) {
	t.Helper()
	select {
	case <-signal:
	case <-time.After(within):
		t.Fatalf("gave up waiting for %s after %s", what, within)
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
	waitFor(t, "all events handled", 60*time.Second, finished(st), func() bool {
		if total.Load() < events { // cheap, before asking the store
			return false
		}
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

// A handler that keeps failing is retried MaxAttempts times, each retry
// due after the backoff by the runner's clock, then its event is dead
// with the last error; a panic counts as a failure.
func TestRunner_PoisonEventGoesDead(t *testing.T) {
	t.Parallel()
	clk := manualClock()
	st := openStoreClock(t, t.TempDir(), clk.Now)
	defer st.Close(context.Background())
	ctx := context.Background()
	var calls atomic.Int32
	r := fast(st, 2, map[string]Handler{
		"poison": func(context.Context, store.Event) error {
			if calls.Add(1) == 2 {
				panic("bad input")
			}
			return errors.New("cannot read the file")
		},
	})
	r.Now, r.Backoff = clk.Now, DefaultBackoff
	stop := start(t, r)
	id, _ := st.Publish(ctx, "poison", nil, store.PublishOptions{MaxAttempts: 3})
	for attempt := 1; attempt <= 2; attempt++ {
		var ev store.Event
		waitFor(t, fmt.Sprint("failed attempt ", attempt), 10*time.Second, finished(st), func() bool {
			ev, _ = st.EventGet(ctx, id)
			return ev.Status == store.EventPending && ev.Attempts == attempt
		})
		// DefaultBackoff(attempt), drawn from the upper half of 2 s, 4 s.
		wait, most := ev.AvailableAt.Sub(clk.Now()), 2*time.Second<<(attempt-1)
		if wait < most/2 || wait > most || !strings.Contains(ev.LastError, []string{"cannot read the file", "handler panicked: bad input"}[attempt-1]) {
			t.Fatalf("after attempt %d: retry in %s (want within [%s, %s]), last error %.40q", attempt, wait, most/2, most, ev.LastError)
		}
		if n := calls.Load(); n != int32(attempt) {
			t.Fatalf("%d calls before the retry was due, want %d", n, attempt)
		}
		clk.Advance(wait)
	}
	waitFor(t, "the event to die", 10*time.Second, finished(st), func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDead
	})
	stop() // no worker is left to call the handler again
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
	waitFor(t, "the event to die", 10*time.Second, finished(st), func() bool {
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
	clk := manualClock()
	st := openStoreClock(t, t.TempDir(), clk.Now)
	defer st.Close(context.Background())
	ctx := context.Background()
	var calls atomic.Int32
	release := make(chan struct{})
	slow := func(ctx context.Context, _ store.Event) error {
		calls.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	const lease = 60 * time.Millisecond // extended every 20 ms of real time
	extended := make(chan struct{}, 1)
	for range 2 {
		r := fast(st, 2, map[string]Handler{"slow": slow})
		r.Lease, r.Now, r.signals.extended = lease, clk.Now, extended
		start(t, r)
	}
	id, _ := st.Publish(ctx, "slow", nil, store.PublishOptions{})
	// The job runs for four leases of the store's clock: after each
	// extension the clock moves to a third of a lease before the lease's
	// new end, while the other runner keeps trying to claim the event.
	began := clk.Now()
	for clk.Now().Sub(began) < 4*lease {
		receive(t, "a lease extension", 10*time.Second, extended)
		ev, _ := st.EventGet(ctx, id)
		if ev.Status != store.EventProcessing || ev.Attempts != 1 {
			t.Fatalf("%s into the job: %+v, want its first claim still processing", clk.Now().Sub(began), ev)
		}
		if next := ev.AvailableAt.Add(-lease / 3); next.After(clk.Now()) {
			clk.Set(next)
		}
	}
	close(release)
	waitFor(t, "the job", 10*time.Second, finished(st), func() bool {
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
	waitFor(t, "the released job", 10*time.Second, finished(st), func() bool {
		ev, _ := st.EventGet(ctx, id)
		return ev.Status == store.EventDone
	})
}

// Idle workers wake at once when an event is published in the process,
// even after backing off to a long poll. The poll is an hour and the
// wait for the wake a minute: a worker that slept out its poll could
// never pass, and a loaded CI machine (-race, other work on both cores)
// cannot make a real wake miss (a 10 s poll against a 2 s wait could).
func TestRunner_WakesOnPublish(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	done := make(chan time.Time, 1)
	r := fast(st, 1, map[string]Handler{"x": func(context.Context, store.Event) error { done <- time.Now(); return nil }})
	r.IdleMin, r.IdleMax = time.Hour, time.Hour
	idle := make(chan struct{}, 1)
	r.signals.idle = idle
	start(t, r)
	receive(t, "the worker to go idle", 10*time.Second, idle) // it now waits out its hour's poll
	published := time.Now()
	st.Publish(ctx, "x", nil, store.PublishOptions{})
	select {
	case at := <-done:
		t.Logf("handled %s after publishing", at.Sub(published))
	case <-time.After(time.Minute):
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

// A type with a worker of its own runs while slow events of other types
// fill every shared worker: "Score now" does not wait for documents being
// read (issue 19).
func TestRunner_DedicatedWorkersDoNotWaitBehindOthers(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close(context.Background()) })
	ctx := context.Background()

	release := make(chan struct{})
	reading := make(chan struct{}, 8)
	scored := make(chan struct{}, 1)
	r := fast(st, 2, map[string]Handler{
		"slow.read": func(ctx context.Context, _ store.Event) error {
			reading <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		},
		"quick.score": func(context.Context, store.Event) error {
			scored <- struct{}{}
			return nil
		},
	})
	r.Dedicated = map[string]int{"quick.score": 1, "no.handler": 3}
	for range 4 {
		if _, err := st.Publish(ctx, "slow.read", map[string]string{}, store.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, r)
	// Both shared workers are busy reading, two more reads wait.
	for range 2 {
		select {
		case <-reading:
		case <-time.After(10 * time.Second):
			t.Fatal("the shared workers did not start reading")
		}
	}
	if _, err := st.Publish(ctx, "quick.score", map[string]string{}, store.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-scored:
	case <-time.After(10 * time.Second):
		t.Fatal("scoring waited behind the reads")
	}
	select {
	case <-reading:
		t.Fatal("a third read started: the dedicated worker ran another type")
	default:
	}
	close(release)
}
