package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"loandesk/model"
)

// TestStore_ActivityRecorded (issue 18): an application's history beyond
// its versions is recorded by the writes themselves: an upload (who,
// file, kind), a read (how), a document that could not be read (the raw
// error kept), a score (points, recommendation), a job given up on it
// (its type and error; a retried failure is not one), newest first.
func TestStore_ActivityRecorded(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := insertTestLoan(t, st)
	d, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "card.png",
		ContentType: "image/png", Size: 3, UploadedBy: "uw@example.com"}, strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DocumentSetOCR(ctx, d.ID, model.OCRResult{Method: "tesseract"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DocumentSetStatus(ctx, d.ID, model.DocumentProcessing, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.DocumentSetStatus(ctx, d.ID, model.DocumentFailed, "libpng error: [06][88]"); err != nil {
		t.Fatal(err)
	}
	if err := st.LoanSetScore(ctx, l.ID, l.Version, model.LoanScore{Points: 72, Recommendation: "approve", ScoredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A job on the loan: a failure with a retry left is not recorded; the
	// last attempt's is.
	if _, err := st.Publish(ctx, EventScoreApplication, ScoreEvent{LoanID: l.ID}, PublishOptions{LoanID: l.HumanID, MaxAttempts: 2}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		ev, err := st.Claim(ctx, "w1", []string{EventScoreApplication}, time.Minute)
		if err != nil {
			t.Fatalf("claim %d: %v", attempt, err)
		}
		if err := st.Fail(ctx, ev, "scorer exploded "+string(rune('0'+attempt)), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	acts, err := st.ActivityOfLoan(ctx, l.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, strings.Join([]string{a.Kind, a.By, a.Subject, a.Text, a.Raw}, "|"))
	}
	slices.Reverse(got) // oldest first, as they happened
	want := []string{
		"document_uploaded|uw@example.com|card.png|pan|",
		"document_read||card.png|tesseract|",
		"document_unreadable||card.png||libpng error: [06][88]",
		"scored||approve|72|",
		"job_failed||application:score||scorer exploded 2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("activity\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := 1; i < len(acts); i++ {
		if acts[i].At.After(acts[i-1].At) {
			t.Errorf("not newest first at %d", i)
		}
	}
}
