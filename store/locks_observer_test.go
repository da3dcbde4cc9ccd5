package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"loandesk/clock"
)

// lockEvents records what a LockObserver hears.
type lockEvents struct {
	mu  sync.Mutex
	got []string
}

func (l *lockEvents) add(s string) { l.mu.Lock(); l.got = append(l.got, s); l.mu.Unlock() }
func (l *lockEvents) LockAcquired(key string, _ time.Duration, takeover bool) {
	if takeover {
		l.add("takeover " + key)
		return
	}
	l.add("acquired " + key)
}
func (l *lockEvents) LockBusy(key string, _ time.Duration) { l.add("busy " + key) }
func (l *lockEvents) LockLost(key string)                  { l.add("lost " + key) }

// The lock observer hears each acquisition, each takeover of an expired
// lock, each wait given up and each held lock lost.
func TestLock_ObserverHearsAcquireBusyTakeoverLost(t *testing.T) {
	t.Parallel()
	c := clock.NewManual(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	events := &lockEvents{}
	st, err := Open(context.Background(), Config{DataDir: t.TempDir(), Now: c.Now, Locks: events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	ctx := context.Background()
	p := LockParams{Key: "loan:9", TTL: 30 * time.Second}

	err = st.WithLock(ctx, p, func(ctx context.Context, _ int64) error {
		return st.WithLock(ctx, p, func(context.Context, int64) error { return nil })
	})
	if !errors.Is(err, ErrLockHeld) {
		t.Fatalf("nested: %v", err)
	}
	if _, err := st.lockAcquire(ctx, p, "paused-holder"); err != nil {
		t.Fatal(err)
	}
	c.Advance(31 * time.Second)
	// Taken over; then an admin releases it while held, and the next
	// renewal (every TTL/3 of real time) finds it lost.
	p.TTL = 30 * time.Millisecond
	err = st.WithLock(ctx, p, func(ctx context.Context, fence int64) error {
		// The admin's release is a request of its own, not the holder's:
		// with the holder's context, a renewal that already found the
		// lock gone (30 ms TTL on a loaded machine) cancelled the
		// release's own record of itself ("context canceled").
		if err := st.LockRelease(context.Background(), LockReleaseParams{Key: p.Key, Fence: fence, By: "admin", Reason: "test"}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("released while held: %v", err)
	}
	want := []string{"acquired loan:9", "busy loan:9", "takeover loan:9", "lost loan:9"}
	events.mu.Lock()
	defer events.mu.Unlock()
	if !slices.Equal(events.got, want) {
		t.Fatalf("observer heard %q, want %q", events.got, want)
	}
}
