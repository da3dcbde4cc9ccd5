package jobs

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"loandesk/store"
)

// Observe hears each handled event with its type and outcome: a failure
// that is retried, then the run that succeeds.
func TestRunner_ObserveHearsOutcomes(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	var (
		mu       sync.Mutex
		outcomes []string
		calls    int
	)
	r := fast(st, 1, map[string]Handler{"flaky": func(context.Context, store.Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("try again")
		}
		return nil
	}})
	r.Observe = func(eventType, outcome string, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if took < 0 {
			outcome += " (negative duration)"
		}
		outcomes = append(outcomes, eventType+" "+outcome)
	}
	start(t, r)
	if _, err := st.Publish(ctx, "flaky", nil, store.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two outcomes", 10*time.Second, finished(st), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(outcomes) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"flaky failed", "flaky done"}; !slices.Equal(outcomes, want) {
		t.Fatalf("observed %q, want %q", outcomes, want)
	}
}
