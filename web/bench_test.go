package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/auth"
	"loandesk/gcpolicy"
	"loandesk/model"
	"loandesk/store"
	"loandesk/store/durable"
	"loandesk/store/embedded"
)

// BenchmarkLoanPages measures the loan pages through the real router and
// middleware (sessions included) on the embedded engine with 10,000 and
// 100,000 seeded loans:
//
//	go test -run '^$' -bench LoanPages ./web/
func BenchmarkLoanPages(b *testing.B) {
	withServeGC(b)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("loans=%dk", n/1000), func(b *testing.B) { benchLoanPages(b, n) })
	}
}

func benchLoanPages(b *testing.B, n int) {
	bundle := setup(b)
	bundle.seedLoans(b, n)
	bundle.createUser(b, "uw@example.com", auth.RoleUnderwriter)
	c := newClient(b)
	mustLogin(b, c, bundle.url, "uw@example.com")
	cookie := sessionCookie(b, c, bundle.url)
	handler := newHandler(b, bundle.store) // the same router, called directly: no network in the figure

	first, err := bundle.store.LoanList(context.Background(), store.LoanListParams{Limit: 1})
	if err != nil || len(first) != 1 {
		b.Fatalf("no loans: %v", err)
	}
	target, err := bundle.store.LoanGet(context.Background(), first[0].HumanID)
	if err != nil {
		b.Fatal(err)
	}
	long := find360(b, bundle.store)
	var pageBytes atomic.Int64 // the last answer's size
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Errorf("%s: status %d", path, rec.Code)
		}
		pageBytes.Store(int64(rec.Body.Len()))
	}
	for _, tc := range []struct{ name, path string }{
		{"list", "/loans"},
		{"list_tab", "/loans?status=under_review"},
		{"list_search", "/loans?q=" + target.Applicant.PAN},
		{"list_page_20_by_amount", "/loans?page=20&sort=amount_desc"},
		{"detail", "/loans/" + target.HumanID},
		{"detail_360_months", "/loans/" + long},
		{"api_list", "/api/applications"},
		{"api_get", "/api/applications/" + target.HumanID},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cpu := startCPU()
			for b.Loop() {
				get(b, tc.path)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(pageBytes.Load()), "bytes/page")
			cpu.report(b)
		})
	}
	b.Run("save_applicant", func(b *testing.B) {
		// One writer at a time holds the engine: a save's cost is what
		// keeps the other writers waiting. Saves rotate over 100
		// applications so each one's history stays as short as staff
		// would leave it.
		loans, err := bundle.store.LoanList(context.Background(), store.LoanListParams{LoanFilter: store.LoanFilter{Status: model.StatusSubmitted}, Limit: 100})
		if err != nil || len(loans) == 0 {
			b.Fatalf("no submitted loan: %v", err)
		}
		versions := make([]int64, len(loans))
		for i, l := range loans {
			versions[i] = l.Version
		}
		i := 0
		cpu := startCPU()
		for b.Loop() {
			k := i % len(loans)
			form := url.Values{"version": {strconv.FormatInt(versions[k], 10)}, "city": {[]string{"Pune", "Nagpur"}[(i/len(loans))%2]}}
			req := httptest.NewRequest(http.MethodPut, "/loans/"+loans[k].HumanID+"/applicant", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("save %d of %s at version %d: status %d", i, loans[k].HumanID, versions[k], rec.Code)
			}
			// A save that changes nothing keeps the version: read it back.
			m := savedVersion.FindStringSubmatch(rec.Body.String())
			if m == nil {
				b.Fatalf("save %d: no version in the answer", i)
			}
			versions[k], _ = strconv.ParseInt(m[1], 10, 64)
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
		cpu.report(b)
	})
	for _, tc := range []struct{ name, path string }{
		{"list_16_clients", "/loans"},
		{"detail_16_clients", "/loans/" + target.HumanID},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(8) // 8 × GOMAXPROCS (2 here) = 16 goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, tc.path)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkListAPIvsEngine measures, in one run, the list API through the
// router (API token, JSON, tab counts included) and the engine's own
// query for the same page (the loans collection opened directly, the
// same filter, sort, window and projection, no decoding), and reports
// their ratio: what the app adds on top of its database.
//
//	go test -run '^$' -bench ListAPIvsEngine ./web/
func BenchmarkListAPIvsEngine(b *testing.B) {
	withServeGC(b)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("loans=%dk", n/1000), func(b *testing.B) {
			bundle := setup(b)
			bundle.seedLoans(b, n)
			if err := bundle.store.APITokenSet(context.Background(), "bench", benchToken, auth.RoleAdmin); err != nil {
				b.Fatal(err)
			}
			handler := newHandler(b, bundle.store)
			var apiRate, engineRate, apiCPU float64
			b.Run("api_list", func(b *testing.B) {
				cpu := startCPU()
				// The request as net/http hands it over (no parsing from
				// text into a fresh 4 KB reader, as httptest.NewRequest
				// does for each one) and an answer written to a reused
				// writer (net/http's buffers are pooled): the figure is
				// the app's work, not the harness's.
				w := &reusedWriter{header: http.Header{}}
				for b.Loop() {
					req, err := http.NewRequest(http.MethodGet, "/api/applications", nil)
					if err != nil {
						b.Fatal(err)
					}
					req.RemoteAddr = "192.0.2.1:1234"
					req.Header.Set("Authorization", "Bearer "+benchToken)
					w.reset()
					handler.ServeHTTP(w, req)
					if w.code != http.StatusOK || w.bytes == 0 {
						b.Fatalf("status %d, %d bytes", w.code, w.bytes)
					}
				}
				apiRate = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(apiRate, "req/s")
				apiCPU = cpu.report(b)
			})
			bundle.stop() // the engine belongs to one opener at a time
			db, err := durable.Open(filepath.Join(bundle.dir, store.DataFile), durable.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			engine, err := embedded.Open(db)
			if err != nil {
				b.Fatal(err)
			}
			defer engine.Close()
			q := embedded.Query{
				Filter: &bson.D{},
				Sort:   &bson.D{{Key: "createdAt", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}},
				Limit:  25,
			}
			proj := &bson.D{{Key: "searchKeys", Value: int32(0)}, {Key: "history", Value: int32(0)}}
			b.Run("engine_list_page", func(b *testing.B) {
				cpu := startCPU()
				for b.Loop() {
					docs, _, err := engine.Find(context.Background(), store.DefaultDatabase+".loans", q, proj)
					if err != nil || len(docs) != 25 {
						b.Fatalf("%d docs, %v", len(docs), err)
					}
				}
				engineRate = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(engineRate, "queries/s")
				b.ReportMetric(apiRate/engineRate, "api/engine")
				// The same ratio in CPU time per request: steadier than
				// elapsed time when other work shares the machine.
				b.ReportMetric(cpu.report(b)/apiCPU, "api/engine-cpu")
			})
		})
	}
}

// cpuMeter measures the process's CPU time (user and system, the
// garbage collector's included) over a benchmark's loop.
type cpuMeter struct{ start time.Duration }

// startCPU collects the garbage earlier work left (seeding, the previous
// sub-benchmark) first: without it the first sub-benchmark after seeding
// paid for marking it, which doubled the list API's figure.
func startCPU() cpuMeter {
	runtime.GC()
	return cpuMeter{processCPU()}
}

// report adds cpu-µs/op, the process's CPU time per iteration, and
// returns it.
func (m cpuMeter) report(b *testing.B) float64 {
	perOp := float64(processCPU()-m.start) / float64(time.Microsecond) / float64(b.N)
	b.ReportMetric(perOp, "cpu-µs/op")
	return perOp
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// withServeGC runs a benchmark under the garbage-collector policy
// `loandesk serve` applies (package gcpolicy), so its figures are the
// server's, and puts the test binary's own back afterwards.
func withServeGC(b *testing.B) {
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	limit := debug.SetMemoryLimit(-1)
	b.Cleanup(func() {
		debug.SetGCPercent(gogc)
		debug.SetMemoryLimit(limit)
	})
	if _, err := gcpolicy.Apply(os.Getenv); err != nil {
		b.Fatal(err)
	}
}

var savedVersion = regexp.MustCompile(`name="version" value="(\d+)"`)

const benchToken = "bench-token-5b2e9c1d7a3f4e60"

// find360 returns the number of a seeded 360-month loan (home loans run
// up to 360 months): the detail page's worst case, with a 360-row
// schedule behind its EMI.
func find360(b *testing.B, st *store.Store) string {
	found := errors.New("found")
	var id string
	err := st.LoanEach(context.Background(), store.LoanFilter{}, store.SortAmountDesc, 40_000, func(l model.Loan) error {
		if l.Terms.TenureMonths == 360 {
			id = l.HumanID
			return found
		}
		return nil
	})
	if !errors.Is(err, found) {
		b.Fatalf("no 360-month loan seeded (%v)", err)
	}
	return id
}

// reusedWriter is an http.ResponseWriter kept from one request to the
// next, as a server's connection keeps its buffers: it counts the
// bytes of the answer and drops them.
type reusedWriter struct {
	header http.Header
	code   int
	bytes  int
}

func (w *reusedWriter) reset() {
	clear(w.header)
	w.code, w.bytes = 0, 0
}

func (w *reusedWriter) Header() http.Header { return w.header }

func (w *reusedWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *reusedWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.bytes += len(p)
	return len(p), nil
}
