package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// TestLoanSaveRace_ThreeInstancesOnTheWireServer: three server
// instances, each with its own store and driver connection pool on one
// wire server (three `serve` processes on `loandesk db`, as the database
// sees them). 50 admins, each signed in on one instance, load the same application
// (all at the same version) on one instance and save it at once on the
// next: exactly one save is answered 200, the other 49 get 409, and the
// application moved one version.
func TestLoanSaveRace_ThreeInstancesOnTheWireServer(t *testing.T) {
	t.Parallel()
	srv := wiretest.Start(t, wire.Config{})
	ctx := context.Background()
	var bases []string
	var stores []*store.Store
	for range 3 {
		st, err := store.Open(ctx, store.Config{MongoURI: srv.URI, ConnectTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		stores = append(stores, st)
		bases = append(bases, newTestServer(t, newHandler(t, st)))
	}
	const admins = 50
	for i := range admins {
		(&testBundle{store: stores[i%3]}).createUser(t, fmt.Sprintf("admin%d@example.com", i), auth.RoleAdmin)
	}
	l := model.Loan{
		HumanID: "LN-2026-000042", Status: model.StatusSubmitted, CreatedAt: time.Now(), CreatedBy: "seed", UpdatedAt: time.Now(), UpdatedBy: "seed",
		Applicant: model.Applicant{Name: "Asha Verma", Email: "asha@example.com", Phone: "+91 98765 43210", PAN: "ABCPV1234K",
			DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Address: "12, MG Road, Pune 411001", City: "Pune", Employment: "salaried", MonthlyIncome: 85_000_00},
		Terms: model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"},
	}
	if err := stores[1].LoanInsertMany(ctx, []model.Loan{l}); err != nil {
		t.Fatal(err)
	}

	clients := make([]*http.Client, admins)
	for i := range clients {
		clients[i] = newClient(t)
		mustLogin(t, clients[i], bases[i%3], fmt.Sprintf("admin%d@example.com", i))
	}
	var loaded sync.WaitGroup
	loaded.Add(admins)
	start := make(chan struct{})
	statuses := make([]int, admins)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, bases[(i+1)%3]+"/loans/LN-2026-000042/terms/edit", nil)
			req.Header.Set("HX-Request", "true")
			version := parse(t, do(t, c, req).body).Find(`input[name="version"]`).AttrOr("value", "")
			loaded.Done()
			<-start
			statuses[i] = send(t, c, http.MethodPut, bases[(i+2)%3], "/loans/LN-2026-000042/terms",
				url.Values{"version": {version}, "purpose": {fmt.Sprint("Purpose from admin ", i)}}, true).status
		})
	}
	loaded.Wait()
	close(start)
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	got, err := stores[2].LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusConflict] != admins-1 || got.Version != 2 || len(got.History) != 1 {
		t.Fatalf("statuses %v; version %d with %d history entries; want one 200, %d × 409, version 2", counts, got.Version, len(got.History), admins-1)
	}
	t.Logf("%d admins over 3 instances on the wire server, same version at once: %d × 200, %d × 409", admins, counts[http.StatusOK], counts[http.StatusConflict])
}
