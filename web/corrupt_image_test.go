package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

// A truncated PNG passes the upload's header check and is refused by the
// reader for good (issue 18): the loan page says so in staff terms
// ("could not be read as an image"), not "Something went wrong … try
// again", and an admin's jobs panel does not say twice where the details
// are; the queue page gives admins the same sentence and, apart from it,
// the decoder's raw words.
func TestCorruptImage_StaffSentenceRawForAdmins(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ran := runJobs(t, f.store)
	uw, admin := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	if res := upload(t, uw, f.url, f.loan.HumanID, "pan", "torn.png", png[:len(png)/2]); res.status != http.StatusOK {
		t.Fatalf("upload: %d %.300s", res.status, res.body)
	}
	deadline := time.After(60 * time.Second)
	for {
		docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) == 1 && docs[0].Status == model.DocumentFailed {
			break
		}
		select {
		case <-ran:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the torn PNG was not refused: %+v", docs)
		}
	}
	const sentence = "The file could not be read as an image — upload a clearer copy."
	for who, c := range map[string]*http.Client{"underwriter": uw, "admin": admin} {
		page := get(t, c, f.url+"/loans/"+f.loan.HumanID).body
		doc := parse(t, page)
		if got := text(doc.Find(`[data-testid="document-error"]`).Text()); got != sentence {
			t.Errorf("%s: document error %q", who, got)
		}
		for _, bad := range []string{"Something went wrong", "libpng", "details on the queue page"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: the loan page says %q", who, bad)
			}
		}
	}
	// The event is marked dead after the handler marked the document
	// failed: wait for it (reading the queue at once raced it).
	for {
		dead, err := f.store.EventList(context.Background(), store.EventListParams{Status: store.EventDead, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 {
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("the torn PNG's job never ended dead")
		}
	}
	queue := parse(t, get(t, admin, f.url+"/admin/queue").body)
	staff, raw := text(queue.Find(`[data-testid="job-error"]`).Text()), text(queue.Find(`[data-testid="job-raw"]`).Text())
	if staff != sentence || !strings.Contains(raw, "libpng") {
		t.Errorf("queue page: staff %q, raw %q", staff, raw)
	}
}
