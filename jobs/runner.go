package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"loandesk/clock"
	"loandesk/store"
)

// Handler does one event's work. It must be idempotent: an event whose
// worker died is done again. Returning an error retries the event later
// (Permanent: never); ctx ends when the runner gives the event up.
type Handler func(ctx context.Context, ev store.Event) error

// Permanent marks an error that retrying cannot fix (a malformed
// payload, a loan that no longer exists): the event goes dead at once.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Queue is the part of the store a runner uses.
type Queue interface {
	Claim(ctx context.Context, worker string, types []string, lease time.Duration) (store.Event, error)
	Complete(ctx context.Context, ev store.Event) error
	Fail(ctx context.Context, ev store.Event, cause string, retryAt time.Time) error
	Extend(ctx context.Context, ev store.Event, lease time.Duration) error
	Release(ctx context.Context, ev store.Event) error
	WorkerHeartbeat(ctx context.Context, w store.Worker) error
	WorkerGone(ctx context.Context, id string) error
	EventsPublished() <-chan struct{}
}

// Runner claims events and runs their handlers on a number of concurrent
// workers until its context ends.
type Runner struct {
	Queue    Queue
	Handlers map[string]Handler
	// Workers is how many events run at once (default 4).
	Workers int
	// Dedicated gives event types workers of their own: each of the n
	// workers of a type runs only that type, on top of Workers (which run
	// every type). Work a person waits for ("Score now") then never
	// queues behind slow work (reading scanned documents) that fills the
	// shared workers. Types without a handler are ignored.
	Dedicated map[string]int
	// Lease is how long a claim holds before another runner may take the
	// event; running handlers extend it every third of it (default 30 s).
	Lease time.Duration
	// IdleMin and IdleMax bound the wait between claims when the queue is
	// empty: it doubles from IdleMin to IdleMax while nothing comes, and
	// a publish in this process ends it at once (defaults 50 ms, 2 s).
	IdleMin, IdleMax time.Duration
	// Backoff is the wait before retry number attempt (1, 2, ...); the
	// default doubles from 2 s up to 10 minutes, with jitter.
	Backoff func(attempt int) time.Duration
	// Grace is how long running handlers may finish at shutdown before
	// their events are released for another runner (default 10 s).
	Grace time.Duration
	// Heartbeat is how often the runner records itself (default 5 s).
	Heartbeat time.Duration
	// Now is the clock for retry times and the times the heartbeat
	// records (the wall clock when nil). Give it the store's clock: the
	// store decides, by its own clock, when a retry is due and a lease
	// ends. Waits (idle polls, lease extensions, grace) are real time.
	Now    clock.Func
	Logger *slog.Logger
	// Observe, when set, hears each event handled: its type, the outcome
	// (done, failed, dropped: its lease was lost, released: given back
	// at shutdown) and how long the handler ran (metrics).
	Observe func(eventType, outcome string, took time.Duration)

	signals   testSignals
	id        string
	handled   atomic.Int64
	recording sync.WaitGroup // completions on their way to the store
	mu        sync.Mutex
	current   map[string]store.WorkerEvent // by event id
}

// testSignals let tests wait for what a runner does instead of sleeping
// (River's rivershared/testsignal). Each is off (nil) unless a test sets
// it before Run. A send never blocks: when the channel is full the signal
// is dropped, so a test waits for a condition and checks it again after
// each signal (a dropped signal had one pending before it).
type testSignals struct {
	idle     chan<- struct{} // a worker found nothing to claim and waits
	finished chan<- struct{} // a worker is done with an event: its outcome is in the store, or it dropped the event (lease lost)
	extended chan<- struct{} // a running event's lease was extended
}

func signal(ch chan<- struct{}) {
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// DefaultBackoff waits 2 s before the first retry, doubling up to 10
// minutes, each wait drawn from its upper half so that events failed
// together do not all come back together.
func DefaultBackoff(attempt int) time.Duration {
	d := 2 * time.Second << min(max(attempt-1, 0), 16)
	d = min(d, 10*time.Minute)
	return d/2 + rand.N(d/2+1)
}

func (r *Runner) defaults() {
	if r.Workers <= 0 {
		r.Workers = 4
	}
	if r.Lease <= 0 {
		r.Lease = 30 * time.Second
	}
	if r.IdleMin <= 0 {
		r.IdleMin = 50 * time.Millisecond
	}
	if r.IdleMax <= 0 {
		r.IdleMax = 2 * time.Second
	}
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff
	}
	if r.Grace <= 0 {
		r.Grace = 10 * time.Second
	}
	if r.Heartbeat <= 0 {
		r.Heartbeat = 5 * time.Second
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	r.id = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
	r.current = map[string]store.WorkerEvent{}
}

// ID is the runner's worker id (set once Run starts).
func (r *Runner) ID() string { return r.id }

// concurrency is how many events the runner may run at once: the shared
// workers and the dedicated ones of handled types.
func (r *Runner) concurrency() int {
	n := r.Workers
	for typ, k := range r.Dedicated {
		if _, ok := r.Handlers[typ]; ok {
			n += k
		}
	}
	return n
}

// DefaultDedicated is the runner's own worker for scoring, so that
// "Score now" answers in moments while documents are being read.
var DefaultDedicated = map[string]int{store.EventScoreApplication: 1}

// types lists the handled event types.
func (r *Runner) types() []string {
	out := make([]string, 0, len(r.Handlers))
	for t := range r.Handlers {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Run works until ctx ends, then stops claiming, lets running handlers
// finish within Grace and releases the events of those that do not.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.Handlers) == 0 {
		return errors.New("jobs: a runner needs handlers")
	}
	r.defaults()
	types := r.types()
	r.Logger.Info("job runner started", "worker", r.id, "workers", r.Workers, "types", types)

	// Handlers run under work, which outlives ctx by the grace period.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for range r.Workers {
		wg.Go(func() { r.loop(ctx, work, types) })
	}
	for typ, n := range r.Dedicated {
		if _, ok := r.Handlers[typ]; !ok {
			continue
		}
		for range n {
			wg.Go(func() { r.loop(ctx, work, []string{typ}) })
		}
	}
	beatDone := make(chan struct{})
	go func() { defer close(beatDone); r.beat(ctx, types) }()

	<-ctx.Done()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(r.Grace):
		stopWork() // handlers see their context end; their events are released
		<-finished
	}
	r.recording.Wait()
	<-beatDone
	gone, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.Queue.WorkerGone(gone, r.id); err != nil {
		r.Logger.Warn("job runner: could not remove its heartbeat", "worker", r.id, "err", err)
	}
	r.Logger.Info("job runner stopped", "worker", r.id, "handled", r.handled.Load())
	return nil
}

// loop is one worker: claim, run, repeat; idle with backoff when the
// queue is empty.
func (r *Runner) loop(ctx, work context.Context, types []string) {
	idle := r.IdleMin
	for ctx.Err() == nil {
		published := r.Queue.EventsPublished() // before the claim: a publish after it wakes us
		ev, err := r.Queue.Claim(ctx, r.id, types, r.Lease)
		switch {
		case err == nil:
			idle = r.IdleMin
			r.run(work, ev)
			continue
		case errors.Is(err, store.ErrNotFound):
		case ctx.Err() != nil:
			return
		default:
			r.Logger.Error("job runner: claim failed", "worker", r.id, "err", err)
		}
		signal(r.signals.idle)
		select {
		case <-ctx.Done():
			return
		case <-published:
			idle = r.IdleMin
		case <-time.After(idle):
			idle = min(idle*2, r.IdleMax)
		}
	}
}

// run handles one claimed event and records the outcome.
func (r *Runner) run(work context.Context, ev store.Event) {
	log := r.Logger.With("worker", r.id, "event", ev.ID.Hex(), "type", ev.Type, "attempt", ev.Attempts)
	r.track(ev, true)
	defer r.track(ev, false)

	ctx, cancel := context.WithCancel(work)
	defer cancel()
	lost := make(chan struct{})
	go r.keepLease(ctx, ev, cancel, lost)

	start := time.Now() // the handler's real duration, for the log
	err := r.call(ctx, ev)
	took := time.Since(start)
	cancel()
	select {
	case <-lost:
		r.observe(ev.Type, "dropped", took)
		log.Warn("job dropped: its lease was lost (it ran too long without extending, or was taken over)")
		signal(r.signals.finished)
		return
	default:
	}
	// Outcomes are recorded even when the runner is stopping.
	out, done := context.WithTimeout(context.WithoutCancel(work), 10*time.Second)
	if err == nil {
		r.observe(ev.Type, "done", took)
		// The worker claims its next event without waiting for this
		// completion to reach the disk: the two commits share one sync
		// (the engine's group commit), which nearly doubles a lone
		// worker's rate. Should the process die before it lands, the
		// event runs again, as handlers allow.
		r.recording.Go(func() {
			defer done()
			defer signal(r.signals.finished)
			if err := r.Queue.Complete(out, ev); err != nil {
				log.Error("job runner: recording the outcome failed", "err", err)
				return
			}
			r.handled.Add(1)
			log.Debug("job done", "duration", time.Since(start))
		})
		return
	}
	defer done()
	defer signal(r.signals.finished)
	switch {
	case work.Err() != nil:
		// Shutting down past the grace period: give the event back.
		r.observe(ev.Type, "released", took)
		err = r.Queue.Release(out, ev)
		log.Info("job released at shutdown")
	default:
		var retryAt time.Time
		var perm permanentError
		if !errors.As(err, &perm) {
			retryAt = r.Now.Now().Add(r.Backoff(ev.Attempts))
		}
		r.observe(ev.Type, "failed", took)
		log.Warn("job failed", "err", err, "retry_at", retryAt, "max_attempts", ev.MaxAttempts)
		err = r.Queue.Fail(out, ev, err.Error(), retryAt)
	}
	if err != nil {
		log.Error("job runner: recording the outcome failed", "err", err)
	}
}

func (r *Runner) observe(eventType, outcome string, took time.Duration) {
	if r.Observe != nil {
		r.Observe(eventType, outcome, took)
	}
}

// call runs the event's handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, ev store.Event) (err error) {
	h, ok := r.Handlers[ev.Type]
	if !ok {
		return Permanent(fmt.Errorf("no handler for event type %q", ev.Type))
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, ev)
}

// keepLease extends the event's lease every third of it while the
// handler runs; if the lease is lost it cancels the handler.
func (r *Runner) keepLease(ctx context.Context, ev store.Event, cancel context.CancelFunc, lost chan<- struct{}) {
	t := time.NewTicker(r.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := r.Queue.Extend(ctx, ev, r.Lease)
			switch {
			case err == nil:
				signal(r.signals.extended)
			case errors.Is(err, store.ErrLeaseLost):
				close(lost)
				cancel()
				return
			case ctx.Err() == nil:
				r.Logger.Warn("job runner: extending a lease failed", "event", ev.ID.Hex(), "err", err)
			}
		}
	}
}

func (r *Runner) track(ev store.Event, running bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if running {
		r.current[ev.ID.Hex()] = store.WorkerEvent{ID: ev.ID, Type: ev.Type, Since: r.Now.Now()}
	} else {
		delete(r.current, ev.ID.Hex())
	}
}

// beat records the runner's heartbeat until ctx ends.
func (r *Runner) beat(ctx context.Context, types []string) {
	host, _ := os.Hostname()
	started := r.Now.Now()
	t := time.NewTicker(r.Heartbeat)
	defer t.Stop()
	for {
		r.mu.Lock()
		current := make([]store.WorkerEvent, 0, len(r.current))
		for _, c := range r.current {
			current = append(current, c)
		}
		r.mu.Unlock()
		slices.SortFunc(current, func(a, b store.WorkerEvent) int { return a.Since.Compare(b.Since) })
		w := store.Worker{ID: r.id, Host: host, PID: os.Getpid(), Types: types, Concurrency: r.concurrency(),
			StartedAt: started, Current: current, Handled: r.handled.Load()}
		if err := r.Queue.WorkerHeartbeat(ctx, w); err != nil && ctx.Err() == nil {
			r.Logger.Warn("job runner: heartbeat failed", "worker", r.id, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
