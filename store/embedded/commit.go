package embedded

import (
	"fmt"
	"sync"
	"sync/atomic"

	"loandesk/store/durable"
)

// groupCommit writes queued commits to the durable store in batches: while
// one batch syncs, writers keep building on the head state and queue
// behind it, and the next batch takes them all in one transaction and one
// sync. A commit is published (readers see it) only once it is durable,
// and its writer hears back only then.
type groupCommit struct {
	engine  *Engine
	mu      sync.Mutex
	pending []*queuedCommit
	last    *queuedCommit // the latest queued; only the writer uses it
	stopped bool
	wake    chan struct{} // a commit was queued
	quit    chan struct{}
	done    chan struct{}

	commits, syncs atomic.Uint64 // written so far, for tests and stats
}

type queuedCommit struct {
	changes []durable.Change
	result  *catalog      // the head once this commit was applied
	done    chan struct{} // closed once written (or failed)
	err     error
}

func (q *queuedCommit) finish(err error) {
	q.err = err
	close(q.done)
}

func (g *groupCommit) start(e *Engine) {
	g.engine = e
	g.wake = make(chan struct{}, 1)
	g.quit = make(chan struct{})
	g.done = make(chan struct{})
	go g.run()
}

// queue adds a commit (the caller is the writer, so commits queue in head
// order) and returns the wait for its outcome.
func (g *groupCommit) queue(changes []durable.Change, result *catalog) func() error {
	q := &queuedCommit{changes: changes, result: result, done: make(chan struct{})}
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return func() error { return ErrClosed }
	}
	g.pending = append(g.pending, q)
	g.mu.Unlock()
	g.last = q
	select {
	case g.wake <- struct{}{}:
	default:
	}
	return func() error { <-q.done; return q.err }
}

// settled returns the wait for the head state to be durable: for a write
// that changed nothing, whose answer (no match, a version conflict) may
// rest on commits still queued. Its caller may read again as soon as it
// has the answer, and must then see what the answer was based on. The
// caller is the writer.
func (g *groupCommit) settled() func() error {
	q := g.last
	if q == nil {
		return func() error { return nil }
	}
	return func() error { <-q.done; return q.err }
}

// stop writes what is queued and ends the loop.
func (g *groupCommit) stop() {
	g.mu.Lock()
	already := g.stopped
	g.stopped = true
	g.mu.Unlock()
	if !already {
		close(g.quit)
	}
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	for {
		select {
		case <-g.wake:
			g.flush()
		case <-g.quit:
			g.flush()
			return
		}
	}
}

// flush writes every queued commit in one durable transaction.
func (g *groupCommit) flush() {
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	group := make([][]durable.Change, len(batch))
	for i, q := range batch {
		group[i] = q.changes
	}
	if err := g.engine.db.CommitGroup(group); err != nil {
		g.fail(batch, fmt.Errorf("embedded: persist: %w", err))
		return
	}
	g.syncs.Add(1)
	g.commits.Add(uint64(len(batch)))
	g.engine.snap.Store(batch[len(batch)-1].result)
	for _, q := range batch {
		q.finish(nil)
	}
}

// fail reports a failed batch. Commits queued after it were built on its
// state, so they fail too, and the head goes back to what is on disk. It
// takes the writer's place so that no one queues meanwhile (unless the
// engine is closing, when no one writes any more).
func (g *groupCommit) fail(batch []*queuedCommit, err error) {
	e := g.engine
	select {
	case e.writer <- struct{}{}:
		defer e.release()
		defer func() { e.head = e.snap.Load() }()
	case <-g.quit:
	}
	g.mu.Lock()
	batch = append(batch, g.pending...)
	g.pending = nil
	g.mu.Unlock()
	for _, q := range batch {
		q.finish(err)
	}
}
