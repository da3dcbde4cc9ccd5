package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/web"
)

// The loan: ₹5,00,000 at 10.50 % over 60 months, 2 % processing
// fee + 18 % GST. Its schedule and KFS over HTTP, exactly.
func TestScheduleAndKFS(t *testing.T) {
	t.Parallel()
	at := clock.NewManual(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)) // 5 Dec 2026 in Kolkata too
	f := newLoanFixture(t, func(c *web.Config) { c.Now = at.Now })
	if err := f.store.APITokenSet(context.Background(), "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	mustLogin(t, c, f.url, "uw@example.com")
	r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", map[string][]string{"version": {"1"}, "tenureMonths": {"60"}, "annualRate": {"10.5"}}, false)
	if r.status != http.StatusSeeOther {
		t.Fatalf("terms: %d", r.status)
	}

	status, doc, _ := api(t, c, http.MethodGet, f.url+"/api/applications/LN-2026-000042/schedule", apiToken, "")
	rows, _ := doc["rows"].([]any)
	if status != http.StatusOK || len(rows) != 60 || doc["emiPaise"].(float64) != 1074695 || doc["firstDueDate"] != "2027-01-05" || doc["provisional"] != true {
		t.Fatalf("schedule: %d, %d rows, %v", status, len(rows), doc["emiPaise"])
	}
	row := func(i int) map[string]any { return rows[i].(map[string]any) }
	if row(0)["interestPaise"].(float64) != 437500 || row(0)["principalPaise"].(float64) != 637195 || row(0)["balancePaise"].(float64) != 49362805 ||
		row(58)["instalmentPaise"].(float64) != 1074695 || row(59)["instalmentPaise"].(float64) != 1074694 || row(59)["dueDate"] != "2031-12-05" {
		t.Fatalf("rows: %v … %v", row(0), row(59))
	}
	if doc["totalPrincipalPaise"].(float64) != 50000000 || doc["totalInterestPaise"].(float64) != 14481699 {
		t.Fatalf("totals: %v %v", doc["totalPrincipalPaise"], doc["totalInterestPaise"])
	}
	kf := doc["keyFacts"].(map[string]any)
	if kf["processingFeePaise"].(float64) != 1000000 || kf["gstPaise"].(float64) != 180000 || kf["netDisbursedPaise"].(float64) != 48820000 || kf["aprBps"].(float64) != 1154 {
		t.Fatalf("key facts: %v", kf)
	}
	if status, body, _ := api(t, c, http.MethodGet, f.url+"/api/applications/LN-0000-000000/schedule", apiToken, ""); status != http.StatusNotFound || body["error"] != "not_found" {
		t.Fatalf("unknown: %d", status)
	}

	kfs := parse(t, get(t, c, f.url+"/loans/LN-2026-000042/kfs").body)
	for testid, want := range map[string]string{
		"kfs-amount": "₹5,00,000", "kfs-emi": "₹10,746.95", "kfs-fee": "₹10,000", "kfs-gst": "₹1,800", "kfs-net": "₹4,88,200",
		"kfs-apr": "11.54 %", "kfs-interest": "₹1,44,816.99", "kfs-first-due": "05 Jan 2027", "kfs-total": "₹6,44,816.99",
	} {
		if got := strings.TrimSpace(kfs.Find(`[data-testid="` + testid + `"]`).Text()); got != want {
			t.Errorf("KFS %s = %q, want %q", testid, got, want)
		}
	}
	if !strings.Contains(kfs.Text(), "rounded half up to the paisa") || kfs.Find(`[data-testid="schedule-row"]`).Length() != 60 {
		t.Error("the KFS does not state its conventions or lacks the schedule")
	}

	page := parse(t, get(t, c, f.url+"/loans/LN-2026-000042/schedule").body)
	if n := page.Find(`[data-testid="schedule-row"]`).Length(); n != 60 {
		t.Fatalf("schedule page: %d rows", n)
	}
	res := get(t, c, f.url+"/loans/LN-2026-000042/schedule.csv")
	records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || res.status != http.StatusOK || len(records) != 62 || strings.Join(records[1], ",") != "1,2027-01-05,10746.95,4375.00,6371.95,493628.05" ||
		strings.Join(records[61], ",") != "total,,644816.99,144816.99,500000.00," || !strings.Contains(res.header.Get("Content-Disposition"), "LN-2026-000042-schedule.csv") {
		t.Fatalf("CSV: %d, %d records, %v", res.status, len(records), err)
	}
}
