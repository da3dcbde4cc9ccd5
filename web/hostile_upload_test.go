package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

// Hostile documents are refused at upload with 422 and a message for
// staff, from their headers alone, and nothing is stored.
func TestUpload_HostileDocumentsAreRefused(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "uw@example.com")
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"bomb.png", "60000 × 60000 pixels", ocrtest.HugePNGHeader(60_000, 60_000)},
		{"bomb.jpg", "60000 × 60000 pixels", ocrtest.HugeJPEGHeader(60_000, 60_000)},
		{"poster.pdf", "200 × 200 inches", ocrtest.BigPagePDF(200)},
		{"blank400.pdf", "400 pages", ocrtest.ManyPagesPDF(400)},
		{"locked.pdf", "password-protected", ocrtest.EncryptedPDF()},
		// Damaged files are said in staff terms, never in the tool's own
		// words (found by a new-user check: pdfinfo's "Syntax Error (199):
		// Illegal character", a decoder's "unexpected EOF").
		{"torn.pdf", "The PDF could not be read (it may be damaged or password-protected) — upload another copy.", []byte("%PDF-1.4\n{\x8f\x01garbage ]] >> no trailer")},
		{"torn.png", "The file could not be read as an image — upload a clearer copy.", append([]byte("\x89PNG\r\n\x1a\n"), "\x00\x00\x00\x0dIHDR\x00\x00"...)},
	} {
		began := time.Now()
		res := upload(t, c, f.url, f.loan.HumanID, "income", tc.name, tc.data)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: status %d, want 422 saying %q:\n%.300s", tc.name, res.status, tc.want, res.body)
		}
		for _, raw := range []string{"pdfinfo", "Syntax Error", "EOF", "ocr:"} {
			if strings.Contains(res.body, raw) {
				t.Errorf("%s: the answer shows the tool's words %q", tc.name, raw)
			}
		}
		// The kind chosen stays chosen for the next try.
		if got := parse(t, res.body).Find(`#document-kind option[selected]`).AttrOr("value", ""); got != "income" {
			t.Errorf("%s: the refused upload's form offers kind %q, want income", tc.name, got)
		}
		t.Logf("%s: %d in %s", tc.name, res.status, time.Since(began).Round(time.Millisecond))
	}
	if docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID); err != nil || len(docs) != 0 {
		t.Fatalf("%d documents stored (%v), want none", len(docs), err)
	}
	// A sound scan still goes in.
	if res := upload(t, c, f.url, f.loan.HumanID, "pan", "pan.pdf", ocrtest.ScanPDF([]string{"PAN ABCPV1234K"})); res.status != http.StatusOK {
		t.Fatalf("a sound scan: status %d", res.status)
	}
}

// Uploads and "Score now" are refused on decided applications, like
// edits (403 with the reason), and store or queue nothing; the page
// offers neither.
func TestDecidedApplications_RefuseUploadsAndScoring(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")
	for i, status := range []string{model.StatusApproved, model.StatusRejected, model.StatusSanctioned, model.StatusDisbursed} {
		l := f.loan
		l.ID = primitive.NewObjectID()
		l.HumanID = fmt.Sprintf("LN-2026-00010%d", i)
		l.Status = status
		if err := f.store.LoanInsertMany(ctx, []model.Loan{l}); err != nil {
			t.Fatal(err)
		}
		events, _ := f.store.EventList(ctx, store.EventListParams{Limit: 1000})
		res := upload(t, c, f.url, l.HumanID, "pan", "pan.png", ocrtest.PNG([]string{"PAN ABCPV1234K"}))
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "take no new documents") {
			t.Errorf("%s: upload status %d, want 403", status, res.status)
		}
		res = send(t, c, http.MethodPost, f.url, "/loans/"+l.HumanID+"/score", url.Values{}, false)
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "decided on") {
			t.Errorf("%s: score now status %d, want 403", status, res.status)
		}
		docs, _ := f.store.DocumentsOfLoan(ctx, l.ID)
		after, _ := f.store.EventList(ctx, store.EventListParams{Limit: 1000})
		if len(docs) != 0 || len(after) != len(events) {
			t.Errorf("%s: %d documents stored, events %d → %d", status, len(docs), len(events), len(after))
		}
		page := get(t, c, f.url+"/loans/"+l.HumanID)
		if strings.Contains(page.body, `action="/loans/`+l.HumanID+`/documents"`) || strings.Contains(page.body, `action="/loans/`+l.HumanID+`/score"`) {
			t.Errorf("%s: the page still offers an upload or Score now", status)
		}
	}
	// Before the decision both work.
	if res := send(t, c, http.MethodPost, f.url, "/loans/"+f.loan.HumanID+"/score", url.Values{}, true); res.status != http.StatusOK {
		t.Fatalf("score now on a submitted application: %d", res.status)
	}
}
