package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/ferrettest"
	"loandesk/jobs"
	"loandesk/model"
	"loandesk/store"
)

// TestFerretDB_App runs the app through MONGO_URI and the official
// driver against FerretDB v1 (in-process, SQLite in a temporary
// directory), one request at a time: sign-in through the form, the
// session surviving a restart of the server and its store, list and
// search, a versioned edit and the 409 for a stale version, and a
// scoring job run by the job runner with the real handlers. What
// FerretDB loses under concurrency is measured in store's tests and by
// `loandesk doctor`.
func TestFerretDB_App(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uri := ferrettest.Start(t, "loandesk")

	// start opens a store on uri and serves it, as a new process would.
	start := func(t *testing.T) (*store.Store, string, func()) {
		t.Helper()
		st, err := store.Open(ctx, store.Config{MongoURI: uri})
		if err != nil {
			t.Fatalf("open through MONGO_URI: %v", err)
		}
		srv := httptest.NewServer(newHandler(t, st))
		stop := func() {
			srv.Close()
			_ = st.Close(ctx)
		}
		t.Cleanup(stop)
		return st, srv.URL, stop
	}

	st, base, stop := start(t)
	hash, err := auth.NewHasher(testCost).Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: "admin@example.com", Name: "admin", Role: auth.RoleAdmin, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	loans := []model.Loan{
		{HumanID: "LN-2026-000042", Applicant: model.Applicant{Name: "Asha Verma", PAN: "ABCPV1234K", Phone: "+91 98765 43210", City: "Pune"}},
		{HumanID: "LN-2026-000043", Applicant: model.Applicant{Name: "Ravi Iyer", PAN: "ABCPI5678K", Phone: "+91 91234 56789", City: "Chennai"}},
	}
	for i := range loans {
		loans[i].Status, loans[i].CreatedAt, loans[i].UpdatedAt = model.StatusSubmitted, now, now
		loans[i].CreatedBy, loans[i].UpdatedBy = "seed", "seed"
		loans[i].Terms = model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"}
		loans[i].Applicant.MonthlyIncome, loans[i].Applicant.Employment = 85_000_00, "salaried"
		loans[i].Applicant.DateOfBirth = time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	}
	if err := st.LoanInsertMany(ctx, loans); err != nil {
		t.Fatal(err)
	}

	c := newClient(t)
	mustLogin(t, c, base, "admin@example.com")

	// A restart: the session is in the database, not the process.
	stop()
	st, base, _ = start(t)
	if !signedIn(t, c, base) {
		t.Fatal("signed out after the server and its store restarted")
	}

	for q, want := range map[string]string{"asha": "LN-2026-000042", "iyer": "LN-2026-000043", "98765": "LN-2026-000042"} {
		res := get(t, c, base+"/loans?q="+url.QueryEscape(q))
		other := map[string]string{"LN-2026-000042": "LN-2026-000043", "LN-2026-000043": "LN-2026-000042"}[want]
		if res.status != http.StatusOK || !strings.Contains(res.body, want) || strings.Contains(res.body, other) {
			t.Errorf("search %q: status %d, want %s listed and %s not", q, res.status, want, other)
		}
	}

	res := send(t, c, http.MethodPut, base, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Mumbai"}}, true)
	if res.status != http.StatusOK || !strings.Contains(res.body, "Saved as version 2") {
		t.Fatalf("versioned edit: status %d\n%s", res.status, res.body)
	}
	res = send(t, c, http.MethodPut, base, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Nagpur"}}, true)
	if res.status != http.StatusConflict {
		t.Fatalf("an edit at the old version: status %d, want 409", res.status)
	}
	loan, err := st.LoanGet(ctx, "LN-2026-000042")
	if err != nil || loan.Applicant.City != "Mumbai" || loan.Version != 2 {
		t.Fatalf("after the edits: city %q version %d, %v", loan.Applicant.City, loan.Version, err)
	}

	// A job run: the runner claims the scoring event and the real
	// handler records a score.
	svc := &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: application.DefaultPolicy, Zone: application.DefaultZone()}
	id, err := st.PublishScoring(ctx, loan, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	runner := &jobs.Runner{Queue: st, Handlers: jobs.Handlers(st, svc, slog.New(slog.DiscardHandler)), Workers: 1, Logger: slog.New(slog.DiscardHandler)}
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ev, err := st.EventGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status == store.EventDone {
			break
		}
		if ev.Status == store.EventDead {
			t.Fatalf("the scoring job died: %s", ev.LastError)
		}
		select {
		case <-deadline:
			t.Fatalf("the scoring job is still %s after 20 s", ev.Status)
		case <-tick.C:
		}
	}
	scored, err := st.LoanGet(ctx, "LN-2026-000042")
	if err != nil || scored.Score == nil {
		t.Fatalf("after the job: score %+v, %v", scored.Score, err)
	}
	if res := get(t, c, base+"/loans/LN-2026-000042"); res.status != http.StatusOK || !strings.Contains(res.body, "Mumbai") {
		t.Fatalf("the application's page after the job: status %d", res.status)
	}
}
