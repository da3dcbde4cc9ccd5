package metrics

import (
	"testing"
	"time"
)

// BenchmarkObserveRequest is the metrics' cost per request, alone and
// from 16 goroutines on one series (the worst case for contention):
//
//	go test -run '^$' -bench ObserveRequest ./metrics/
func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	api := []string{"/api/*", "/applications/{id}"}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.ObserveRequest("GET", api, 200, 3*time.Millisecond)
		}
	})
	b.Run("16_goroutines", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.ObserveRequest("GET", api, 200, 3*time.Millisecond)
			}
		})
	})
}
