package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"loandesk/auth"
	"loandesk/store"
)

// BenchmarkLoanPages measures the loan pages through the real router and
// middleware (sessions included) on the embedded engine with 10,000 and
// 100,000 seeded loans:
//
//	go test -run '^$' -bench LoanPages ./web/
func BenchmarkLoanPages(b *testing.B) {
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
	target := first[0]
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Errorf("%s: status %d", path, rec.Code)
		}
	}
	for _, tc := range []struct{ name, path string }{
		{"list", "/loans"},
		{"list_tab", "/loans?status=under_review"},
		{"list_search", "/loans?q=" + target.Applicant.PAN},
		{"list_page_20_by_amount", "/loans?page=20&sort=amount_desc"},
		{"detail", "/loans/" + target.HumanID},
		{"api_list", "/api/applications"},
		{"api_get", "/api/applications/" + target.HumanID},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				get(b, tc.path)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
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
