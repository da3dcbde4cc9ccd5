package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"loandesk/store"
)

// An edit of an application scored before asks for it to be scored
// again, once per version, so a stale score never stands (found by a
// new-user check: income edited from ₹33,000 to ₹3,00,000, the old
// decline still shown, and Approve offered then refused as "stale"); an
// application never scored is left to its documents and Score now.
func TestEditOfAScoredApplicationRescoresIt(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	ctx := context.Background()
	scorings := func() int {
		evs, err := f.store.EventList(ctx, store.EventListParams{LoanID: f.loan.HumanID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Type == store.EventScoreApplication {
				n++
			}
		}
		return n
	}
	edit := func(income string) {
		t.Helper()
		cur := f.current(t)
		if r := send(t, uw, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant", url.Values{"version": {v(cur.Version)}, "monthlyIncome": {income}}, true); r.status != http.StatusOK {
			t.Fatalf("edit: %d %.300s", r.status, r.body)
		}
	}
	edit("40,000")
	if n := scorings(); n != 0 {
		t.Fatalf("an application never scored was queued for scoring %d times by an edit", n)
	}
	ran := runJobs(t, f.store)
	if r := send(t, uw, http.MethodPost, f.url, "/loans/"+f.loan.HumanID+"/score", url.Values{}, true); r.status != http.StatusOK {
		t.Fatalf("score now: %d", r.status)
	}
	waitScored := func(version int64) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			if l := f.current(t); l.Score != nil && l.Score.Version == version {
				return
			}
			select {
			case <-ran:
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatalf("not scored at version %d: %+v", version, f.current(t).Score)
			}
		}
	}
	waitScored(f.current(t).Version)
	before := scorings()
	edit("3,00,000")
	if n := scorings(); n != before+1 {
		t.Fatalf("the edit queued %d scorings, want 1", n-before)
	}
	waitScored(f.current(t).Version)
	// Saving the same values makes no version and asks for nothing.
	edit("3,00,000")
	if n := scorings(); n != before+1 {
		t.Errorf("an edit that changed nothing queued %d scorings", n-before-1)
	}
}
