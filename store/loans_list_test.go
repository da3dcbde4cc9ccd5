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
	want := model.LoanSummary{
		HumanID: "LN-2026-000001", Version: 3, Status: model.StatusUnderReview, Assignee: "uw@example.com",
		Applicant: model.SummaryApplicant{Name: "Asha Iyer", City: "Pune"},
		Terms:     model.SummaryTerms{Product: "home", Amount: 50_00_000_00},
		CreatedAt: stored.CreatedAt, UpdatedAt: stored.UpdatedAt,
		StatusAt: stored.StatusAt, // how long it has been in its status, shown in the list
	}
	if !reflect.DeepEqual(page[0], want) || stored.StatusAt.IsZero() || !stored.UpdatedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("list entry\n%+v\nwant\n%+v", page[0], want)
	}
	if got := stored.Summary(); !reflect.DeepEqual(got, want) {
		t.Errorf("Summary()\n%+v\nwant\n%+v", got, want)
	}
	if stored.Score == nil || len(stored.History) != 1 || stored.Disbursement == nil {
		t.Errorf("the stored loan lost fields: %+v", stored)
	}
}

// TestStore_LoanListRowsAreTheStoredLoans: on seeded loans (every
// product and status, assigned or not) and after edits, every row of
// every page in every order is the stored loan's summary, field for
// field.
func TestStore_LoanListRowsAreTheStoredLoans(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	if _, err := seed.Load(ctx, st, 150, 5, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	first, err := st.LoanList(ctx, LoanListParams{Limit: 3})
	if err != nil || len(first) != 3 {
		t.Fatalf("%d loans, %v", len(first), err)
	}
	for _, row := range first { // an edit: a new version, name, city, amount and assignee
		l, err := st.LoanGet(ctx, row.HumanID)
		if err != nil {
			t.Fatal(err)
		}
		l.Applicant.Name, l.Applicant.City, l.Terms.Amount, l.Assignee = l.Applicant.Name+" Rao", "Nashik", l.Terms.Amount+1, "uw@example.com"
		if _, err := st.LoanUpdate(ctx, l, model.LoanChange{At: time.Now(), By: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	for _, sort := range []string{SortNewest, SortAmountDesc, SortUpdated} {
		for skip := 0; skip < 150; skip += 40 {
			rows, err := st.LoanList(ctx, LoanListParams{Sort: sort, Skip: skip, Limit: 40})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				l, err := st.LoanGet(ctx, row.HumanID)
				if err != nil {
					t.Fatal(err)
				}
				if want := l.Summary(); !reflect.DeepEqual(row, want) {
					t.Fatalf("%s row\n%+v\nstored\n%+v", sort, row, want)
				}
				if row.Version > 1 && row.Applicant.City == "Nashik" && row.Assignee == "uw@example.com" {
					seen++
				}
			}
		}
	}
	if seen != 3*3 {
		t.Errorf("the edited loans were listed %d times with their edits, want 9", seen)
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
	third, err := st.LoanGet(ctx, some[2].HumanID) // a row has no PAN
	if err != nil {
		t.Fatal(err)
	}
	searches := [][]string{
		nil, // no search: a count per status
		SearchTokens(some[0].Applicant.City),
		SearchTokens(strings.Fields(some[1].Applicant.Name)[0]), // a first name: many loans
		SearchTokens(some[1].Applicant.Name),
		SearchTokens(third.Applicant.PAN),
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
