package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/store"
)

// A document that could not be read and a job that died are told to
// staff in their terms on the application's page; the tool's raw error
// and the job's internal name stay for admins on the queue page.
func TestLoanPage_StaffTermsNotRawToolErrors(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	const raw = "ocr: tesseract failed: exit status 1: libpng error: [06][88]IDAT: invalid distance too far back"
	d, err := f.store.DocumentCreate(ctx, model.Document{LoanID: f.loan.ID, LoanHumanID: f.loan.HumanID, Kind: "pan", Filename: "pan.png",
		ContentType: "image/png", Size: 4, UploadedBy: "uw@example.com"}, strings.NewReader("\x89PNG"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.DocumentSetStatus(ctx, d.ID, model.DocumentFailed, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Publish(ctx, store.EventDocumentUploaded, store.DocumentEvent{DocumentID: d.ID}, store.PublishOptions{MaxAttempts: 1, LoanID: f.loan.HumanID}); err != nil {
		t.Fatal(err)
	}
	ev, err := f.store.Claim(ctx, "test", []string{store.EventDocumentUploaded}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Fail(ctx, ev, raw, time.Now()); err != nil {
		t.Fatal(err)
	}
	admin, uw := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, uw, f.url, "uw@example.com")

	for who, c := range map[string]*http.Client{"underwriter": uw, "admin": admin} {
		page := get(t, c, f.url+"/loans/"+f.loan.HumanID).body
		doc := parse(t, page)
		if got := text(doc.Find(`[data-testid="document-error"]`).Text()); got != "The file could not be read as an image — upload a clearer copy." {
			t.Errorf("%s: document error %q", who, got)
		}
		jobs := text(doc.Find(`[data-testid="jobs-panel"]`).Text())
		if !strings.Contains(jobs, "Reading a document") || !strings.Contains(jobs, "Failed") || !strings.Contains(jobs, "upload a clearer copy") {
			t.Errorf("%s: jobs panel %q", who, jobs)
		}
		if link := doc.Find(`[data-testid="job-detail"]`).AttrOr("href", ""); (who == "admin") != (link == "/admin/queue") {
			t.Errorf("%s: link to the raw error %q", who, link)
		}
		for _, internal := range []string{"libpng", "tesseract failed", "document:uploaded", "IDAT"} {
			if strings.Contains(page, internal) {
				t.Errorf("%s: the loan page shows %q", who, internal)
			}
		}
	}
	// The queue page keeps the raw error and type for admins.
	queue := get(t, admin, f.url+"/admin/queue").body
	if !strings.Contains(queue, "libpng error: [06][88]IDAT") || !strings.Contains(queue, "document:uploaded") {
		t.Errorf("queue page lacks the raw error or type:\n%.1500s", queue)
	}
}
