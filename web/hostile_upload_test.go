package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"loandesk/ocr/ocrtest"
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
		{"poster.pdf", "200 × 200 inches", ocrtest.BigPagePDF(200)},
		{"blank400.pdf", "400 pages", ocrtest.ManyPagesPDF(400)},
		{"locked.pdf", "password-protected", ocrtest.EncryptedPDF()},
	} {
		began := time.Now()
		res := upload(t, c, f.url, f.loan.HumanID, "income", tc.name, tc.data)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: status %d, want 422 saying %q:\n%.300s", tc.name, res.status, tc.want, res.body)
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
