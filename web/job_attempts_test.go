package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/store"
)

// A job's attempts are told for its state on the queue page and the
// application's jobs panel: a finished job by the attempts it took
// ("done on attempt 1", "failed after 2 attempts"), not "attempt 1 of 5"
// as if more were to come.
func TestJobAttemptsToldForTheirState(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	publish := func(max int) {
		t.Helper()
		if _, err := f.store.Publish(ctx, store.EventScoreApplication, store.ScoreEvent{LoanID: f.loan.ID}, store.PublishOptions{MaxAttempts: max, LoanID: f.loan.HumanID}); err != nil {
			t.Fatal(err)
		}
	}
	claim := func() store.Event {
		t.Helper()
		ev, err := f.store.Claim(ctx, "test", []string{store.EventScoreApplication}, time.Minute)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		return ev
	}
	publish(5) // done on its first attempt
	if err := f.store.Complete(ctx, claim()); err != nil {
		t.Fatal(err)
	}
	publish(2) // failed twice: dead
	if err := f.store.Fail(ctx, claim(), "scorer crashed", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Fail(ctx, claim(), "scorer crashed", time.Now()); err != nil {
		t.Fatal(err)
	}
	publish(5) // not started

	admin := newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	// The queue page lists the dead jobs; the application's panel all.
	for page, wants := range map[string][]string{
		"/admin/queue":             {"failed after 2 attempts"},
		"/loans/" + f.loan.HumanID: {"done on attempt 1", "failed after 2 attempts", "not started yet (up to 5 attempts)"},
	} {
		var told []string
		parse(t, get(t, admin, f.url+page).body).Find(`[data-testid="job-attempts"]`).Each(func(_ int, s *goquery.Selection) {
			told = append(told, s.Text())
		})
		all := strings.Join(told, " | ")
		for _, want := range wants {
			if !strings.Contains(all, want) {
				t.Errorf("%s: attempts told %q, want %q among them", page, all, want)
			}
		}
		if strings.Contains(all, " of ") {
			t.Errorf("%s: a job told as 'N of M': %q", page, all)
		}
	}
}
