package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
)

// sanctionedFixture is the fixture's loan approved by admin and
// sanctioned, with admin2 (who may disburse) and an API token for admin2's
// role.
func sanctionedFixture(t *testing.T) (loanFixture, *http.Client, *http.Client) {
	t.Helper()
	f := newLoanFixture(t)
	f.createUser(t, "admin2@example.com", auth.RoleAdmin)
	admin, admin2 := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, admin2, f.url, "admin2@example.com")
	move := func(to string) {
		t.Helper()
		r := send(t, admin, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(f.current(t).Version)}, "to": {to}}, false)
		if r.status != http.StatusSeeOther {
			t.Fatalf("→ %s: %d %s", to, r.status, parse(t, r.body).Find(`[data-testid="status-error"]`).Text())
		}
	}
	move(model.StatusUnderReview)
	f.score(t, "approve")
	move(model.StatusApproved)
	move(model.StatusSanctioned)
	return f, admin, admin2
}

func postJSON(t *testing.T, c *http.Client, u, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", strings.Split(u, "/api/")[0])
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	status, out, _ := apiDo(t, c, req)
	return status, out
}

// 20 concurrent disbursements of one loan through three server instances
// on one database: exactly one disbursement, one journal transaction, the
// ledger balanced; the others are told it is done or in progress.
func TestDisburse_TwentyAttemptsThreeInstances(t *testing.T) {
	t.Parallel()
	f, _, admin2 := sanctionedFixture(t)
	bases := []string{f.url, newTestServer(t, newHandler(t, f.store)), newTestServer(t, newHandler(t, f.store))}
	clients := make([]*http.Client, len(bases))
	for i, base := range bases {
		clients[i] = newClient(t)
		mustLogin(t, clients[i], base, "admin2@example.com")
	}
	_ = admin2
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			<-start
			base := bases[i%3]
			status, body := postJSON(t, clients[i%3], base+"/api/applications/LN-2026-000042/disbursement", fmt.Sprintf(`{"utr": "UTIB%010d"}`, i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status == http.StatusCreated:
				outcomes["disbursed"]++
			case status == http.StatusConflict:
				outcomes[body["error"].(string)]++
			default:
				t.Errorf("attempt %d: %d %v", i, status, body)
			}
		})
	}
	close(start)
	wg.Wait()
	txns, _ := f.store.LedgerTxns(context.Background())
	t.Logf("outcomes: %v", outcomes)
	req, _ := http.NewRequest(http.MethodGet, f.url+"/api/applications/LN-2026-000042", nil)
	if _, doc, _ := apiDo(t, clients[0], req); doc["disbursement"] == nil || doc["disbursement"].(map[string]any)["netPaise"].(float64) != 4_88_200_00 {
		t.Errorf("the API's application lacks its disbursement: %v", doc["disbursement"])
	}
	if outcomes["disbursed"] != 1 || outcomes[application.CodeAlreadyDisbursed]+outcomes[application.CodeInProgress] != 19 || len(txns) != 1 {
		t.Fatalf("outcomes %v, %d postings", outcomes, len(txns))
	}
	bal := application.AccountBalances(txns)
	if bal[model.AccountLoanPortfolio].Debits != 5_00_000_00 || bal[model.AccountBank].Credits+bal[model.AccountProcessingFee].Credits+bal[model.AccountGSTOutput].Credits != 5_00_000_00 {
		t.Fatalf("journal: %v", bal)
	}
	if l := f.current(t); l.Status != model.StatusDisbursed || l.Disbursement == nil {
		t.Fatalf("loan: %s", l.Status)
	}
}

// Refused disbursements and receipts post nothing; the pages show the
// payout, the ledger with running balances and the trial balance.
func TestMoney_FormsPagesAndRefusals(t *testing.T) {
	t.Parallel()
	f, admin, admin2 := sanctionedFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	disburse := func(c *http.Client, form url.Values) response {
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/disburse", form, false)
	}
	for name, tc := range map[string]struct {
		c      *http.Client
		form   url.Values
		status int
		msg    string
	}{
		"the approver":   {admin, url.Values{"utr": {"UTIB0000012345"}}, 422, "you approved this loan"},
		"an underwriter": {uw, url.Values{"utr": {"UTIB0000012345"}}, 403, "Only an admin"},
		"no UTR":         {admin2, url.Values{"utr": {""}}, 422, "UTR"},
		"a bad date":     {admin2, url.Values{"utr": {"UTIB0000012345"}, "firstEmiDate": {"05/01/2027"}}, 422, "YYYY-MM-DD"},
	} {
		r := disburse(tc.c, tc.form)
		if r.status != tc.status || !strings.Contains(r.body, tc.msg) {
			t.Errorf("%s: %d, want %d with %q", name, r.status, tc.status, tc.msg)
		}
	}
	if txns, _ := f.store.LedgerTxns(context.Background()); len(txns) != 0 {
		t.Fatalf("refusals posted %d", len(txns))
	}
	r := disburse(admin2, url.Values{"utr": {"UTIB0000012345"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("disburse: %d", r.status)
	}
	page := parse(t, get(t, admin2, f.url+"/loans/LN-2026-000042").body)
	if payout := page.Find(`[data-testid="payout"]`).Text(); !strings.Contains(payout, "₹4,88,200") || !strings.Contains(payout, "UTIB0000012345") {
		t.Fatalf("payout: %q", payout)
	}
	if again := disburse(admin2, url.Values{"utr": {"HDFC0000099999"}}); again.status != http.StatusConflict || !strings.Contains(again.body, "Already disbursed") {
		t.Fatalf("again: %d", again.status)
	}

	// Receipts: refusals, then one that posts.
	receipt := func(form url.Values) response {
		return send(t, c0(uw), http.MethodPost, f.url, "/loans/LN-2026-000042/repayments", form, false)
	}
	for name, form := range map[string]url.Values{
		"zero":        {"amount": {"0"}, "utr": {"RCPT00000000001"}},
		"negative":    {"amount": {"-5"}, "utr": {"RCPT00000000001"}},
		"overflowing": {"amount": {"99999999999999999"}, "utr": {"RCPT00000000001"}},
		"no UTR":      {"amount": {"100"}},
		"used UTR":    {"amount": {"100"}, "utr": {"UTIB0000012345"}},
		"too much":    {"amount": {"6,44,817"}, "utr": {"RCPT00000000001"}}, // ₹6,44,816.99 is owed in all
	} {
		if r := receipt(form); r.status != http.StatusUnprocessableEntity {
			t.Errorf("receipt %s: %d", name, r.status)
		}
	}
	status, body := postJSON(t, admin2, f.url+"/api/applications/LN-2026-000042/repayments", `{"amountPaise": 100, "currency": "USD", "utr": "RCPT00000000001"}`)
	if status != http.StatusUnprocessableEntity || body["fields"].(map[string]any)["currency"] == nil {
		t.Errorf("dollars: %d %v", status, body)
	}
	if txns, _ := f.store.LedgerTxns(context.Background()); len(txns) != 1 {
		t.Fatalf("refused receipts posted: %d transactions", len(txns))
	}
	if r := receipt(url.Values{"amount": {"5,000"}, "utr": {"RCPT00000000001"}, "idempotencyKey": {"k1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("receipt: %d", r.status)
	}
	if r := receipt(url.Values{"amount": {"5,000"}, "utr": {"RCPT00000000001"}, "idempotencyKey": {"k1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the same receipt again: %d", r.status)
	}
	txns, _ := f.store.LedgerTxnsOfLoan(context.Background(), "LN-2026-000042")
	if len(txns) != 2 || len(txns[1].Allocations) != 1 || txns[1].Allocations[0].Interest+txns[1].Allocations[0].Principal != 5_000_00 {
		t.Fatalf("receipts: %d, %+v", len(txns), txns[len(txns)-1].Allocations)
	}

	req, _ := http.NewRequest(http.MethodGet, f.url+"/api/applications/LN-2026-000042/schedule", nil)
	_, sched, _ := apiDo(t, admin2, req)
	row1 := sched["rows"].([]any)[0].(map[string]any)
	if row1["status"] != "part-paid" || row1["paidPaise"].(float64) != 5_000_00 || sched["daysPastDue"].(float64) != 0 || sched["provisional"] != false {
		t.Errorf("schedule after a part payment: %v, DPD %v", row1, sched["daysPastDue"])
	}
	ledger := parse(t, get(t, admin2, f.url+"/loans/LN-2026-000042/ledger").body)
	if n := ledger.Find(`[data-testid="ledger-line"]`).Length(); n != 7 {
		t.Errorf("ledger lines: %d", n)
	}
	tb := parse(t, get(t, admin, f.url+"/admin/ledger").body)
	if !strings.Contains(tb.Find(`[data-testid="trial-status"]`).Text(), "Balanced") {
		t.Errorf("trial balance: %q", tb.Find(`[data-testid="trial-status"]`).Text())
	}
	if r := get(t, uw, f.url+"/admin/ledger"); r.status != http.StatusForbidden {
		t.Errorf("an underwriter's trial balance: %d", r.status)
	}
	status, tbj := func() (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, f.url+"/api/admin/trial-balance", nil)
		s, out, _ := apiDo(t, admin, req)
		return s, out
	}()
	if status != http.StatusOK || tbj["totalDebitsPaise"] != tbj["totalCreditsPaise"] || tbj["transactions"].(float64) != 2 {
		t.Errorf("API trial balance: %d %v", status, tbj)
	}
}

func c0(c *http.Client) *http.Client { return c }

// The shared ADMIN_TOKEN is not a person: it neither approves nor moves
// money (an approver holding it could disburse under another name).
func TestMoney_SharedTokenMovesNoMoney(t *testing.T) {
	t.Parallel()
	f, _, _ := sanctionedFixture(t)
	if err := f.store.APITokenSet(context.Background(), "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	status, body, _ := api(t, c, http.MethodPost, f.url+"/api/applications/LN-2026-000042/disbursement", apiToken, `{"utr": "UTIB0000012345"}`)
	if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "shared API token") {
		t.Fatalf("token disbursement: %d %v", status, body)
	}
	if txns, _ := f.store.LedgerTxns(context.Background()); len(txns) != 0 {
		t.Fatalf("posted %d", len(txns))
	}
}

// The lock console lists a held lock and an admin releases it with a
// recorded reason; its holder is told it lost the lock.
func TestLockConsole(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	admin := newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	held := make(chan int64)
	lost := make(chan error)
	go func() {
		lost <- f.store.WithLock(context.Background(), store.LockParams{Key: "loan:LN-2026-000042", TTL: 300 * time.Millisecond}, func(ctx context.Context, fence int64) error {
			held <- fence
			<-ctx.Done()
			return nil
		})
	}()
	fence := <-held
	page := parse(t, get(t, admin, f.url+"/admin/locks").body)
	if page.Find(`[data-testid="lock"]`).Length() != 1 || !strings.Contains(page.Text(), "loan:LN-2026-000042") {
		t.Fatalf("console: %q", page.Find("main").Text())
	}
	if r := postForm(t, admin, f.url, "/admin/locks/release", url.Values{"key": {"loan:LN-2026-000042"}, "fence": {v(fence)}, "reason": {""}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("without a reason: %d", r.status)
	}
	if r := postForm(t, admin, f.url, "/admin/locks/release", url.Values{"key": {"loan:LN-2026-000042"}, "fence": {v(fence)}, "reason": {"the holder hung"}}); r.status != http.StatusSeeOther {
		t.Fatalf("release: %d", r.status)
	}
	select {
	case err := <-lost:
		if err == nil {
			t.Fatal("the holder was not told")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder kept going")
	}
	if r := postForm(t, admin, f.url, "/admin/locks/release", url.Values{"key": {"loan:LN-2026-000042"}, "fence": {v(fence)}, "reason": {"again"}}); r.status != http.StatusConflict {
		t.Fatalf("a second release: %d", r.status)
	}
}
