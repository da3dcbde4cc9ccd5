package jobs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"loandesk/store"
)

// BenchmarkQueue publishes events and has a runner complete them with a
// no-op handler, on the embedded engine: events per second from the
// first publish to the last completion. Publishers (4) and workers run at
// once, as in production.
//
//	go test -run '^$' -bench Queue -benchtime 5000x ./jobs/
func BenchmarkQueue(b *testing.B) {
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			st := openStore(b, b.TempDir())
			defer st.Close(context.Background())
			var done atomic.Int64
			all := make(chan struct{})
			n := int64(b.N)
			r := fast(st, workers, map[string]Handler{"noop": func(context.Context, store.Event) error {
				if done.Add(1) == n {
					close(all)
				}
				return nil
			}})
			idle := make(chan struct{}, 1)
			r.signals.idle = idle
			stop := start(b, r)
			receive(b, "the runner to be up and idle", time.Minute, idle)
			b.ResetTimer()
			var wg sync.WaitGroup
			for p := range 4 {
				wg.Go(func() {
					for i := p; i < b.N; i += 4 {
						if _, err := st.Publish(context.Background(), "noop", nil, store.PublishOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			select {
			case <-all:
			case <-time.After(5 * time.Minute):
				b.Fatalf("%d of %d events completed", done.Load(), n)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			stop()
		})
	}
}
