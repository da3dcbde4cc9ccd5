// Package loadtest drives a running Loan Desk over HTTP the way its staff
// do, and reports what they would feel: per route, requests per second
// and latency percentiles, status codes, errors and edit conflicts, the
// app's and the tool's CPU, and whether any edit the app accepted was
// lost. Requests are made by vegeta's attacker (github.com/tsenart/vegeta,
// a well-kept load library: its pacing, its connection handling and its
// t-digest latency metrics); this package only decides what each admin
// asks next. cmd/loadtest is its command line.
package loadtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Recorder collects results by route. It is safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	routes    map[string]*routeStats
	total     vegeta.Metrics
	began     time.Time
	conflicts int
	signedOut int
}

type routeStats struct {
	metrics vegeta.Metrics
	codes   map[int]int
	errors  int
	// firstErr is the first unexpected answer, to show what went wrong.
	firstErr string
}

// NewRecorder starts recording now.
func NewRecorder() *Recorder {
	return &Recorder{routes: map[string]*routeStats{}, began: time.Now()}
}

// Route names a request for the report: the route it takes, without ids
// or query values (/loans/LN-2026-000001 and /loans/LN-2026-000002 are
// both "GET /loans/{id}").
func Route(method, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return method + " ?"
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "LN-") {
			parts[i] = "{id}"
		}
	}
	path := "/" + strings.Join(parts, "/")
	q := u.Query()
	var tags []string
	for _, k := range []string{"status", "q", "page", "sort"} {
		if q.Has(k) {
			tags = append(tags, k)
		}
	}
	if len(tags) > 0 {
		path += "?" + strings.Join(tags, "&")
	}
	return method + " " + path
}

// Expected reports whether an answer is what a working app gives: 2xx
// and 3xx, and 409 for a save (a conflict, counted apart). Anything else,
// and any transport error, is an error.
func Expected(method string, code uint16) (ok, conflict bool) {
	switch {
	case code >= 200 && code < 400:
		return true, false
	case code == 409 && method != "GET":
		return true, true
	}
	return false, false
}

// SignInRedirect reports whether an answer sends the session elsewhere
// first: to sign in again (a session signed out, e.g. one of more than
// the 20 a user keeps), or to a step every page waits for (a password
// to change, a second factor to enrol). A browser would follow it; for
// the tool it is an error, whatever its status.
func SignInRedirect(h http.Header) bool {
	for _, loc := range []string{h.Get("Location"), h.Get("HX-Redirect")} {
		if p := pathOf(loc); p == "/login" || p == pathCode || p == pathPassword || p == pathTwoFactorEnrol {
			return true
		}
	}
	return false
}

// Add records one result.
func (r *Recorder) Add(res *vegeta.Result) {
	route := Route(res.Method, res.URL)
	ok, conflict := Expected(res.Method, res.Code)
	redirected := SignInRedirect(res.Headers)
	if redirected {
		ok, conflict = false, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.routes[route]
	if s == nil {
		s = &routeStats{codes: map[int]int{}}
		r.routes[route] = s
	}
	s.metrics.Add(res)
	r.total.Add(res)
	s.codes[int(res.Code)]++
	if conflict {
		r.conflicts++
	}
	if redirected {
		r.signedOut++
	}
	if !ok {
		s.errors++
		if s.firstErr == "" {
			s.firstErr = fmt.Sprintf("%d %s", res.Code, res.Error)
			if redirected {
				s.firstErr = fmt.Sprintf("%d to %s%s", res.Code, res.Headers.Get("Location"), res.Headers.Get("HX-Redirect"))
			}
		}
	}
}

// RouteSummary is one route's figures (latencies in milliseconds).
type RouteSummary struct {
	Route              string
	Requests           int
	Rate               float64 // requests per second over the run
	P50, P95, P99, Max float64
	Codes              map[int]int
	Errors             int
	FirstError         string
}

// Summary is a run's figures: every route, and all of them together.
type Summary struct {
	Seconds   float64
	Routes    []RouteSummary
	Total     RouteSummary
	Conflicts int
	// Saves counts the requests that could conflict (non-GET).
	Saves int
	// SignedOut counts answers that sent a session to sign in again (or
	// to another step first): each is also an error.
	SignedOut int
}

// Summary closes the books: figures per route, sorted by route, and the
// total over every route.
func (r *Recorder) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := time.Since(r.began).Seconds()
	out := Summary{Seconds: secs, Conflicts: r.conflicts, SignedOut: r.signedOut}
	allCodes := map[int]int{}
	allErrors := 0
	firstErr := ""
	names := make([]string, 0, len(r.routes))
	for name := range r.routes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := r.routes[name]
		s.metrics.Close()
		out.Routes = append(out.Routes, summarize(name, &s.metrics, s.codes, s.errors, s.firstErr, secs))
		if !strings.HasPrefix(name, "GET ") {
			out.Saves += int(s.metrics.Requests)
		}
		for code, n := range s.codes {
			allCodes[code] += n
		}
		allErrors += s.errors
		if firstErr == "" {
			firstErr = s.firstErr
		}
	}
	r.total.Close()
	out.Total = summarize("all", &r.total, allCodes, allErrors, firstErr, secs)
	return out
}

func summarize(name string, m *vegeta.Metrics, codes map[int]int, errs int, firstErr string, secs float64) RouteSummary {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return RouteSummary{
		Route: name, Requests: int(m.Requests), Rate: float64(m.Requests) / secs,
		P50: ms(m.Latencies.P50), P95: ms(m.Latencies.P95), P99: ms(m.Latencies.P99), Max: ms(m.Latencies.Max),
		Codes: codes, Errors: errs, FirstError: firstErr,
	}
}

// Print writes s as a Markdown table.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "| route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | codes | errors |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n")
	for _, r := range append(slices.Clone(s.Routes), s.Total) {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %d |\n",
			r.Route, r.Requests, r.Rate, r.P50, r.P95, r.P99, r.Max, codeList(r.Codes), r.Errors)
	}
	if s.Saves > 0 {
		fmt.Fprintf(w, "\nconflicts: %d of %d saves (%.1f %%)\n", s.Conflicts, s.Saves, 100*float64(s.Conflicts)/float64(s.Saves))
	}
	if s.SignedOut > 0 {
		fmt.Fprintf(w, "sent to sign in again (or to change a password, enrol a second factor): %d\n", s.SignedOut)
	}
	if s.Total.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", s.Total.FirstError)
	}
}

func codeList(codes map[int]int) string {
	keys := make([]int, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d×%d", k, codes[k])
	}
	return strings.Join(parts, " ")
}
