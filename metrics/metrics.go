// Package metrics owns Loan Desk's Prometheus collectors: HTTP requests
// per route pattern, 409 conflicts, sign-in failures and rate-limit hits,
// the job queue (read from the store at scrape time), job durations and
// failures, distributed-lock waits and takeovers, and the Go runtime and
// process. The web server, the job runner and the store report to one
// *Metrics; Handler serves them in the Prometheus text format.
//
// Every series has bounded labels: route patterns (never raw URLs),
// normalised methods, status codes, event types and lock kinds (a lock
// key up to its first ':').
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every Loan Desk series.
const Namespace = "loandesk"

// UnmatchedRoute is the route label of a request no route matched (404s).
const UnmatchedRoute = "unmatched"

// Metrics is one process's collectors and their registry.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	conflicts      *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	signInFailures prometheus.Counter

	jobDuration *prometheus.HistogramVec
	jobFailures *prometheus.CounterVec

	lockWait      *prometheus.HistogramVec
	lockTakeovers *prometheus.CounterVec
	lockBusy      *prometheus.CounterVec
	lockLost      *prometheus.CounterVec

	// codes holds the status codes as label values, so a request never
	// formats one.
	codes [600]string
	// routes caches each (method, route, status)'s series: after the
	// first request of a kind, recording one is two atomic adds and a
	// map read, with no allocation.
	mu     sync.RWMutex
	routes map[routeKey]*routeSeries
}

// routeKey identifies a request's series by the router's pattern parts
// (chi's RoutePatterns: one, or two under a mount), so the joined
// pattern is built only for a new series.
type routeKey struct {
	method string
	p0, p1 string
	status int
}

type routeSeries struct {
	requests    prometheus.Counter
	duration    prometheus.Observer
	conflicts   prometheus.Counter // status 409, else nil
	rateLimited prometheus.Counter // status 429, else nil
}

// New registers Loan Desk's collectors, the Go runtime's and the
// process's in a new registry.
func New() *Metrics {
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		routes: map[routeKey]*routeSeries{},
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: latency,
		}, []string{"method", "route"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "conflicts_total",
			Help: "409 answers (an edit on a stale version, a lock or fence lost), by route pattern.",
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rate_limited_total",
			Help: "429 answers (rate limits hit, such as sign-in throttling), by route pattern.",
		}, []string{"route"}),
		signInFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "signin_failures_total",
			Help: "Sign-ins refused for a wrong email or password.",
		}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "job", Name: "duration_seconds",
			Help:    "Time a job handler ran, by event type and outcome (done, failed, dropped, released).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"type", "outcome"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "job", Name: "failures_total",
			Help: "Job runs that failed (to be retried, or dead when permanent or out of attempts), by event type.",
		}, []string{"type"}),
		lockWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "lock", Name: "wait_seconds",
			Help:    "Time spent waiting to acquire a distributed lock, by lock kind and result (acquired, busy).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind", "result"}),
		lockTakeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "lock", Name: "takeovers_total",
			Help: "Locks acquired by taking over one whose holder's lease had expired, by lock kind.",
		}, []string{"kind"}),
		lockBusy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "lock", Name: "busy_total",
			Help: "Lock acquisitions given up because another holder kept the lock past the wait, by lock kind.",
		}, []string{"kind"}),
		lockLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "lock", Name: "lost_total",
			Help: "Held locks lost before their work finished (lease expired and taken over, or released by an admin), by lock kind.",
		}, []string{"kind"}),
	}
	for code := range m.codes {
		m.codes[code] = strconv.Itoa(code)
	}
	m.reg.MustRegister(
		m.httpRequests, m.httpDuration, m.conflicts, m.rateLimited, m.signInFailures,
		m.jobDuration, m.jobFailures,
		m.lockWait, m.lockTakeovers, m.lockBusy, m.lockLost,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Register adds more collectors (such as a QueueCollector).
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: 4})
}

// Gatherer is the registry, for tests and for pushing elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ObserveRequest records an answered request: its method, the route
// patterns the router matched (chi's RouteContext.RoutePatterns; none
// for a 404), its status and how long it took. It allocates only the
// first time a (method, route, status) is seen.
func (m *Metrics) ObserveRequest(method string, patterns []string, status int, took time.Duration) {
	if status < 100 || status >= len(m.codes) {
		status = 599
	}
	k := routeKey{method: normalMethod(method), status: status}
	switch len(patterns) {
	case 0:
	case 1:
		k.p0 = patterns[0]
	case 2:
		k.p0, k.p1 = patterns[0], patterns[1]
	default:
		k.p0 = routePattern(patterns)
	}
	m.mu.RLock()
	rs := m.routes[k]
	m.mu.RUnlock()
	if rs == nil {
		rs = m.series(k, patterns)
	}
	rs.requests.Inc()
	rs.duration.Observe(took.Seconds())
	if rs.conflicts != nil {
		rs.conflicts.Inc()
	}
	if rs.rateLimited != nil {
		rs.rateLimited.Inc()
	}
}

// series creates (once) the series of k.
func (m *Metrics) series(k routeKey, patterns []string) *routeSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs := m.routes[k]; rs != nil {
		return rs
	}
	route := routePattern(patterns)
	rs := &routeSeries{
		requests: m.httpRequests.WithLabelValues(k.method, route, m.codes[k.status]),
		duration: m.httpDuration.WithLabelValues(k.method, route),
	}
	switch k.status {
	case http.StatusConflict:
		rs.conflicts = m.conflicts.WithLabelValues(route)
	case http.StatusTooManyRequests:
		rs.rateLimited = m.rateLimited.WithLabelValues(route)
	}
	m.routes[k] = rs
	return rs
}

// SignInFailed counts a sign-in refused for wrong credentials.
func (m *Metrics) SignInFailed() { m.signInFailures.Inc() }

// Job outcomes as ObserveJob takes them.
const (
	JobDone     = "done"
	JobFailed   = "failed"   // the handler returned an error: retried or dead
	JobDropped  = "dropped"  // its lease was lost while it ran
	JobReleased = "released" // given back at shutdown
)

// ObserveJob records one run of a job handler.
func (m *Metrics) ObserveJob(eventType, outcome string, took time.Duration) {
	m.jobDuration.WithLabelValues(eventType, outcome).Observe(took.Seconds())
	if outcome == JobFailed {
		m.jobFailures.WithLabelValues(eventType).Inc()
	}
}

// LockAcquired records a lock taken after waiting waited; takeover when
// an expired holder's lock was taken over.
func (m *Metrics) LockAcquired(key string, waited time.Duration, takeover bool) {
	kind := lockKind(key)
	m.lockWait.WithLabelValues(kind, "acquired").Observe(waited.Seconds())
	if takeover {
		m.lockTakeovers.WithLabelValues(kind).Inc()
	}
}

// LockBusy records giving up on a lock held by another after waiting.
func (m *Metrics) LockBusy(key string, waited time.Duration) {
	kind := lockKind(key)
	m.lockWait.WithLabelValues(kind, "busy").Observe(waited.Seconds())
	m.lockBusy.WithLabelValues(kind).Inc()
}

// LockLost records a held lock lost before its work finished.
func (m *Metrics) LockLost(key string) {
	m.lockLost.WithLabelValues(lockKind(key)).Inc()
}

// lockKind is a lock key's label: up to its first ':' ("loan:LN-1" is
// "loan"), so there is a series per kind of lock, not per loan.
func lockKind(key string) string {
	kind, _, _ := strings.Cut(key, ":")
	return kind
}

// normalMethod keeps the standard methods and folds the rest into
// "other", so a client cannot invent label values.
func normalMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// routePattern joins chi's pattern parts as chi's RoutePattern does
// ("/api/*" and "/applications/{id}" make "/api/applications/{id}").
func routePattern(patterns []string) string {
	if len(patterns) == 0 {
		return UnmatchedRoute
	}
	p := strings.Join(patterns, "")
	for strings.Contains(p, "/*/") {
		p = strings.ReplaceAll(p, "/*/", "/")
	}
	if p != "/" {
		p = strings.TrimSuffix(p, "//")
		p = strings.TrimSuffix(p, "/")
	}
	return p
}
