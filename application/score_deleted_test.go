package application_test

import (
	"context"
	"strings"
	"testing"

	"loandesk/model"
)

// A deleted document no longer speaks for the application: RecordScore
// drops it before scoring (service.go, `d.Deleted != nil` in RecordScore;
// its NEGATION mutant scores the deleted documents only).
func TestService_RecordScore_DeletedDocumentNoLongerCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	d, err := b.st.DocumentCreate(ctx, model.Document{LoanID: b.loan.ID, LoanHumanID: b.loan.HumanID, Kind: "income",
		Filename: "salary.png", ContentType: "image/png", UploadedBy: uw.Email}, strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.DocumentSetOCR(ctx, d.ID, model.OCRResult{}); err != nil {
		t.Fatal(err)
	}
	reasons := func() string {
		t.Helper()
		s, err := b.svc.RecordScore(ctx, b.loan.ID)
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for _, r := range s.Reasons {
			if r.Factor == "documents" {
				docs = append(docs, r.Detail)
			}
		}
		return strings.Join(docs, " | ")
	}
	const read = "Salary slip or ITR received and read. | Missing or not yet read: pan card, bank statement."
	if got := reasons(); got != read {
		t.Fatalf("with the income proof read:\n got %q\nwant %q", got, read)
	}
	if _, err := b.st.DocumentDelete(ctx, d.ID, uw.Email, "wrong person's payslip"); err != nil {
		t.Fatal(err)
	}
	const deleted = "Missing or not yet read: pan card, salary slip or itr, bank statement."
	if got := reasons(); got != deleted {
		t.Fatalf("with the income proof deleted:\n got %q\nwant %q", got, deleted)
	}
}
