package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

func TestMetrics_ObserveRequest(t *testing.T) {
	t.Parallel()

	t.Run("CountsByRoutePatternMethodAndCode", func(t *testing.T) {
		t.Parallel()
		m := New()
		m.ObserveRequest("GET", []string{"/loans/{id}"}, 200, 3*time.Millisecond)
		m.ObserveRequest("GET", []string{"/loans/{id}"}, 200, 4*time.Millisecond)
		m.ObserveRequest("PATCH", []string{"/api/*", "/applications/{id}"}, 409, time.Millisecond)
		m.ObserveRequest("POST", []string{"/login"}, 429, time.Millisecond)
		m.ObserveRequest("BREW", nil, 404, time.Millisecond)
		for series, want := range map[string]float64{
			`loandesk_http_requests_total{code="200",method="GET",route="/loans/{id}"}`:                  2,
			`loandesk_http_requests_total{code="409",method="PATCH",route="/api/applications/{id}"}`:     1,
			`loandesk_http_requests_total{code="404",method="other",route="unmatched"}`:                  1,
			`loandesk_conflicts_total{route="/api/applications/{id}"}`:                                   1,
			`loandesk_rate_limited_total{route="/login"}`:                                                1,
			`loandesk_http_request_duration_seconds_count{method="GET",route="/loans/{id}"}`:             2,
			`loandesk_http_request_duration_seconds_bucket{method="GET",route="/loans/{id}",le="0.005"}`: 2,
		} {
			if got := value(t, scrape(t, m), series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
	})

}

// After a series exists, recording a request allocates nothing (the
// server is tuned for thousands of requests a second). Not parallel:
// AllocsPerRun counts the whole process's allocations.
func TestMetrics_ObserveRequestAllocatesNothing(t *testing.T) {
	m := New()
	api := []string{"/api/*", "/applications/{id}"}
	m.ObserveRequest("GET", api, 200, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() { m.ObserveRequest("GET", api, 200, time.Millisecond) }); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

func TestMetrics_JobsAndLocks(t *testing.T) {
	t.Parallel()
	m := New()
	m.ObserveJob("application:score", JobDone, 20*time.Millisecond)
	m.ObserveJob("application:score", JobFailed, time.Second)
	m.LockAcquired("loan:LN-2026-000001", 2*time.Millisecond, false)
	m.LockAcquired("loan:LN-2026-000002", 0, true)
	m.LockBusy("loan:LN-2026-000003", time.Second)
	m.LockLost("loan:LN-2026-000004")
	m.SignInFailed()
	text := scrape(t, m)
	for series, want := range map[string]float64{
		`loandesk_job_duration_seconds_count{outcome="done",type="application:score"}`: 1,
		`loandesk_job_failures_total{type="application:score"}`:                        1,
		`loandesk_lock_wait_seconds_count{kind="loan",result="acquired"}`:              2,
		`loandesk_lock_wait_seconds_count{kind="loan",result="busy"}`:                  1,
		`loandesk_lock_takeovers_total{kind="loan"}`:                                   1,
		`loandesk_lock_busy_total{kind="loan"}`:                                        1,
		`loandesk_lock_lost_total{kind="loan"}`:                                        1,
		`loandesk_signin_failures_total`:                                               1,
	} {
		if got := value(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(text, "LN-2026") {
		t.Error("a lock key became a label value")
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total"} {
		if !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("%s missing", name)
		}
	}
}

func TestQueueCollector(t *testing.T) {
	t.Parallel()
	m := New()
	snap := QueueSnapshot{
		Counts:        map[string]map[string]int64{"application:score": {"pending": 3, "dead": 1}, "document:uploaded": {"pending": 0}},
		OldestPending: map[string]float64{"application:score": 42},
		Workers:       2,
	}
	fail := false
	if err := m.Register(NewQueueCollector(func(context.Context) (QueueSnapshot, error) {
		if fail {
			return QueueSnapshot{}, errors.New("database unreachable")
		}
		return snap, nil
	}, time.Second)); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	for series, want := range map[string]float64{
		`loandesk_queue_events{status="pending",type="application:score"}`: 3,
		`loandesk_queue_events{status="dead",type="application:score"}`:    1,
		`loandesk_queue_oldest_pending_seconds{type="application:score"}`:  42,
		`loandesk_queue_oldest_pending_seconds{type="document:uploaded"}`:  0,
		`loandesk_queue_workers`: 2,
		`loandesk_queue_up`:      1,
	} {
		if got := value(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// A database that does not answer gives queue_up 0; the rest of the
	// scrape still works.
	fail = true
	text = scrape(t, m)
	if value(t, text, "loandesk_queue_up") != 0 || strings.Contains(text, "loandesk_queue_events{") || !strings.Contains(text, "go_goroutines") {
		t.Fatalf("failed read:\n%s", text)
	}
	if n := strings.Count(text, "\nloandesk_queue_up "); n != 1 {
		t.Fatalf("%d queue_up series", n)
	}
}
