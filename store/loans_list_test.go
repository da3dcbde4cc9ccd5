package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/seed"
)

// TestStore_LoanListFields: a list page carries exactly the list's
// fields, equal to the stored loan's; everything else is left out (zero).
func TestStore_LoanListFields(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	full := model.Loan{
		HumanID: "LN-2026-000001", Version: 3, Status: model.StatusUnderReview, Assignee: "uw@example.com",
		Applicant: model.Applicant{Name: "Asha Iyer", Email: "asha@example.com", City: "Pune", MonthlyIncome: 90_000_00},
		Terms:     model.LoanTerms{Product: "home", Amount: 50_00_000_00, TenureMonths: 360, AnnualRateBps: 875, Purpose: "Purchase of flat"},
		CreatedAt: at, CreatedBy: "seed", UpdatedAt: at.Add(time.Hour), UpdatedBy: "uw@example.com",
		History:    []model.LoanChange{{Version: 2, At: at, By: "uw@example.com", Fields: []model.FieldChange{{Field: "city", From: "Mumbai", To: "Pune"}}}},
		SearchKeys: []string{"asha", "pune"},
		Score:      &model.LoanScore{Points: 70, Recommendation: "approve", Version: 3, ScoredAt: at},
		Flags:      []model.Flag{{Code: "pan_shared", OtherLoan: "LN-2026-000002", At: at}},
		FlagAcks:   []model.FlagAck{{Code: "pan_shared", OtherLoan: "LN-2026-000002", By: "a", At: at}},
		Approvals:  []model.Approval{{By: "a", At: at, Version: 3}},
		IntakeKey:  "k", IntakeHash: "h", FirstEMIDate: at,
		Disbursement: &model.Disbursement{Gross: 1, UTR: "UTR1", DisbursedOn: at, FirstEMIDate: at, At: at},
	}
	if err := st.LoanInsertMany(context.Background(), []model.Loan{full}); err != nil {
		t.Fatal(err)
	}
	page, err := st.LoanList(context.Background(), LoanListParams{})
	if err != nil || len(page) != 1 {
		t.Fatalf("%d loans, %v", len(page), err)
	}
	stored, err := st.LoanGet(context.Background(), full.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Loan{
		ID: stored.ID, HumanID: stored.HumanID, Version: stored.Version, Status: stored.Status, Assignee: stored.Assignee,
		Applicant: stored.Applicant, Terms: stored.Terms,
		CreatedAt: stored.CreatedAt, CreatedBy: stored.CreatedBy, UpdatedAt: stored.UpdatedAt, UpdatedBy: stored.UpdatedBy,
		StatusAt: stored.StatusAt, // how long it has been in its status, shown in the list
	}
	if !reflect.DeepEqual(page[0], want) {
		t.Errorf("list entry\n%+v\nwant\n%+v", page[0], want)
	}
	if stored.Score == nil || len(stored.History) != 1 || stored.Disbursement == nil {
		t.Errorf("the stored loan lost fields: %+v", stored)
	}
}

// TestStore_LoanCountByStatusWithSearch: with a search (and an assignee
// filter), the one-pass tab counts equal a count per status of the same
// filter, and LoanCountMatching (one count, with or without a status)
// equals them and their sum, on 600 seeded loans and searches that match many, few and no
// loans.
func TestStore_LoanCountByStatusWithSearch(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	if _, err := seed.Load(ctx, st, 600, 5, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	some, err := st.LoanList(ctx, LoanListParams{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	searches := [][]string{
		nil, // no search: a count per status
		SearchTokens(some[0].Applicant.City),
		SearchTokens(strings.Fields(some[1].Applicant.Name)[0]), // a first name: many loans
		SearchTokens(some[1].Applicant.Name),
		SearchTokens(some[2].Applicant.PAN),
		SearchTokens("zzzz-nothing"),
	}
	for _, words := range searches {
		for _, assignee := range []string{"", AssigneeNone} {
			f := LoanFilter{Search: words, Assignee: assignee}
			got, err := st.LoanCountByStatus(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			total := int64(0)
			for _, status := range model.LoanStatuses {
				f.Status = status
				want, err := st.loans.CountDocuments(ctx, f.Query())
				if err != nil {
					t.Fatal(err)
				}
				if got[status] != want {
					t.Errorf("search %v, assignee %q: %s counted %d, want %d", words, assignee, status, got[status], want)
				}
				if n, err := st.LoanCountMatching(ctx, f); err != nil || n != want {
					t.Errorf("search %v, assignee %q: LoanCountMatching in %s = %d, %v; want %d", words, assignee, status, n, err, want)
				}
				total += want
			}
			f.Status = ""
			if n, err := st.LoanCountMatching(ctx, f); err != nil || n != total {
				t.Errorf("search %v, assignee %q: LoanCountMatching over every status = %d, %v; want %d", words, assignee, n, err, total)
			}
			if len(got) != len(model.LoanStatuses) {
				t.Errorf("search %v: %d statuses counted, want all %d", words, len(got), len(model.LoanStatuses))
			}
			t.Logf("search %v assignee %q: %d loans", words, assignee, total)
		}
	}
}
