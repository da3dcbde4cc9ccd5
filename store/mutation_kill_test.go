package store

// Tests that kill mutants gremlins found surviving in the store (issue
// 20); each names the mutation it catches. See docs/mutation-survivors.md.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"loandesk/model"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// ActivityAdd answers nil on a stored entry and keeps a time it is given
// (activity.go: `err != nil` → `== nil` after InsertOne, which the
// logging caller record hid).
func TestActivityAdd_StoresAndAnswersNil(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := insertTestLoan(t, st)
	at := time.Date(2026, 11, 30, 6, 30, 0, 0, time.UTC)
	if err := st.ActivityAdd(ctx, model.Activity{LoanID: l.ID, At: at, By: "uw@example.com", Kind: model.ActivityScored, Text: "called the applicant"}); err != nil {
		t.Fatalf("ActivityAdd: %v", err)
	}
	acts, err := st.ActivityOfLoan(ctx, l.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || !acts[0].At.Equal(at) || acts[0].Text != "called the applicant" || acts[0].By != "uw@example.com" {
		t.Fatalf("stored: %+v", acts)
	}
}

// Activities at the same time come newest first by _id, the one added
// last first (activity.go ActivityOfLoan: the sort's `_id: -1` → `+1`).
func TestActivityOfLoan_SameTimeNewestAddedFirst(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := insertTestLoan(t, st)
	at := time.Date(2026, 11, 30, 6, 30, 0, 0, time.UTC)
	for _, text := range []string{"first", "second", "third"} {
		if err := st.ActivityAdd(ctx, model.Activity{LoanID: l.ID, At: at, Kind: model.ActivityScored, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	acts, err := st.ActivityOfLoan(ctx, l.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.Text)
	}
	if want := []string{"third", "second", "first"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// AuditList: 0 (or a negative, or above 500) means 100 entries, up to 500
// as asked, newest first by time whatever the ids (audit.go AuditList:
// `limit <= 0 || limit > 500` each way, and the sort's `at: -1` → `+1`).
// 101 entries, one a minute, whose ids fall as their times rise.
func TestAuditList_LimitsAndNewestFirst(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	const n = 101
	docs := make([]any, n)
	for i := range n {
		var id primitive.ObjectID
		id[10], id[11] = 0xff, byte(255-i) // later entry, smaller id
		docs[i] = AuditEntry{ID: id, At: start.Add(time.Duration(i) * time.Minute), Actor: "admin@example.com", Action: "user.created", Target: fmt.Sprintf("u%03d@example.com", i)}
	}
	if _, err := st.audit.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {1, 1}, {50, 50}, {500, 101}, {501, 100}} {
		got, err := st.AuditList(ctx, AuditListParams{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("Limit %d: %d entries, want %d", c.limit, len(got), c.want)
			continue
		}
		if got[0].Target != "u100@example.com" || (len(got) > 1 && got[1].Target != "u099@example.com") {
			t.Errorf("Limit %d: starts %s, %s; want u100, u099 (newest first)", c.limit, got[0].Target, got[min(1, len(got)-1)].Target)
		}
	}
}

// A failed document keeps its error, and a later status clears it
// (documents.go DocumentSetStatus: `errText != ""` → `== ""`).
func TestDocumentSetStatus_KeepsAndClearsTheError(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := insertTestLoan(t, st)
	d, err := st.DocumentCreate(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "card.png", ContentType: "image/png"}, strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ status, errText string }{
		{model.DocumentFailed, "libpng error: [06][88]"},
		{model.DocumentPending, ""},
	} {
		if err := st.DocumentSetStatus(ctx, d.ID, c.status, c.errText); err != nil {
			t.Fatal(err)
		}
		got, err := st.DocumentGet(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != c.status || got.Error != c.errText {
			t.Fatalf("after %s/%q: status %s, error %q", c.status, c.errText, got.Status, got.Error)
		}
	}
}

// Deleting and replacing documents in the store itself (documents.go
// documentDelete and DocumentReplace had no test of the store's own: a
// second deletion is ErrConflict naming who deleted it, a missing one
// ErrNotFound; a replacement is stored, queued for reading and in the
// history, and marks the old one replaced; a deleted document cannot be
// replaced, and nothing is stored then).
func TestDocumentDeleteAndReplace_InTheStore(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := insertTestLoan(t, st)
	create := func(name string) model.Document {
		t.Helper()
		d, err := st.DocumentCreate(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: name,
			ContentType: "image/png", UploadedBy: "uw@example.com"}, strings.NewReader("png"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	gone := create("old.png")
	if _, err := st.DocumentDelete(ctx, gone.ID, "uw@example.com", "blurred"); err != nil {
		t.Fatal(err)
	}
	again, err := st.DocumentDelete(ctx, gone.ID, "admin@example.com", "twice")
	if !errors.Is(err, ErrConflict) || again.Deleted == nil || again.Deleted.By != "uw@example.com" || again.Deleted.Reason != "blurred" {
		t.Fatalf("second deletion: %v, %+v", err, again.Deleted)
	}
	if _, err := st.DocumentDelete(ctx, primitive.NewObjectID(), "uw@example.com", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing document: %v", err)
	}
	gone, _ = st.DocumentGet(ctx, gone.ID)
	if _, err := st.DocumentReplace(ctx, gone, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: "new.png",
		UploadedBy: "uw@example.com"}, "clearer", strings.NewReader("png")); !errors.Is(err, ErrConflict) {
		t.Fatalf("replacing a deleted document: %v", err)
	}
	if docs, _ := st.DocumentsOfLoan(ctx, l.ID); len(docs) != 1 {
		t.Fatalf("a refused replacement stored something: %d documents", len(docs))
	}

	old := create("payslip.png")
	stale := old // what a second admin's page read before the replacement
	fresh, err := st.DocumentReplace(ctx, old, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: "payslip-2.png",
		ContentType: "image/png", UploadedBy: "uw@example.com"}, "the latest month", strings.NewReader("png2"))
	if err != nil {
		t.Fatal(err)
	}
	// The second replacement of the same document (issue 18, found by a
	// tester: both were stored, two live copies) is refused whole: it
	// stores nothing and says who replaced it.
	before, _ := st.DocumentsOfLoan(ctx, l.ID)
	lost, err := st.DocumentReplace(ctx, stale, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: "payslip-3.png",
		ContentType: "image/png", UploadedBy: "admin@example.com"}, "mine is newer", strings.NewReader("png3"))
	if !errors.Is(err, ErrConflict) || lost.ID != old.ID || lost.Deleted == nil || lost.Deleted.ReplacedBy != fresh.ID {
		t.Fatalf("a second replacement: %v, %+v", err, lost.Deleted)
	}
	if after, _ := st.DocumentsOfLoan(ctx, l.ID); len(after) != len(before) {
		t.Fatalf("a refused replacement stored a document: %d, then %d", len(before), len(after))
	}
	if n, _ := st.db.Collection("documents.files").CountDocuments(ctx, bson.M{"filename": "payslip-3.png"}); n != 0 {
		t.Fatalf("a refused replacement stored its file (%d)", n)
	}
	old, _ = st.DocumentGet(ctx, old.ID)
	if fresh.Replaces != old.ID || fresh.Deleted != nil || old.Deleted == nil || old.Deleted.ReplacedBy != fresh.ID ||
		old.Deleted.Reason != "the latest month" || old.Deleted.ReplacedWith != "payslip-2.png" || old.Deleted.By != "uw@example.com" {
		t.Fatalf("replacement %+v, old %+v", fresh, old.Deleted)
	}
	ev, err := st.Claim(ctx, "w1", []string{EventDocumentUploaded}, time.Minute)
	if err != nil || ev.DedupeKey != "ocr:"+fresh.ID.Hex() {
		t.Fatalf("the replacement's reading: %v, %+v", err, ev)
	}
	acts, err := st.ActivityOfLoan(ctx, l.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.Kind+"|"+a.Subject+"|"+a.Text+"|"+a.Reason)
	}
	want := []string{"document_replaced|payslip.png|payslip-2.png|the latest month", "document_deleted|old.png|blurred|"}
	if !slices.Equal(got, want) {
		t.Fatalf("history %q, want %q", got, want)
	}
}

// A phone number typed as one word beside others counts as its last ten
// digits (loans.go SearchTokens: `d[len(d)-10:]` in the word loop, which
// no test reached).
func TestSearchTokens_PhoneAmongWords(t *testing.T) {
	t.Parallel()
	for q, want := range map[string][]string{
		"asha +91-98765-43210":  {"asha", "9876543210"},
		"9876543210 verma":      {"9876543210", "verma"},
		"asha (0)98765-43210 x": {"asha", "9876543210"},
	} {
		if got := SearchTokens(q); !slices.Equal(got, want) {
			t.Errorf("SearchTokens(%q) = %q, want %q", q, got, want)
		}
	}
}

// Each list order, with its ties broken by _id in the same direction
// (loans.go loanSorts: `_id: -1` → `+1` after createdAt and terms.amount,
// and `updatedAt: -1` → `+1`, lived; the map is a package variable, which
// gremlins reports as not covered). Five loans with ids 1 to 5: 1 and 2
// filed at the same time for the same amount, 3 to 5 later, each updated
// at another time.
func TestLoanList_EachOrderAndItsTies(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	mk := func(n byte, created, updated time.Duration, amount int64) model.Loan {
		var id primitive.ObjectID
		id[11] = n
		return model.Loan{ID: id, HumanID: fmt.Sprintf("LN-2026-%06d", n), Status: model.StatusSubmitted,
			CreatedAt: t0.Add(created), UpdatedAt: t0.Add(updated), Terms: model.LoanTerms{Amount: amount}}
	}
	h := time.Hour
	if err := st.LoanInsertMany(ctx, []model.Loan{
		mk(1, 0, 5*h, 1_00_000_00), mk(2, 0, 3*h, 1_00_000_00), mk(3, h, 9*h, 3_00_000_00), mk(4, 2*h, 3*h, 2_00_000_00), mk(5, 3*h, 7*h, 50_000_00),
	}); err != nil {
		t.Fatal(err)
	}
	for sort, want := range map[string]string{
		SortNewest:     "5 4 3 2 1",
		SortOldest:     "1 2 3 4 5",
		SortAmountDesc: "3 4 2 1 5",
		SortAmountAsc:  "5 1 2 4 3",
		SortUpdated:    "3 5 1 4 2", // 2 and 4 both at 3 h: the larger id first
	} {
		got, err := st.LoanList(ctx, LoanListParams{Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range got {
			ids = append(ids, strings.TrimLeft(strings.TrimPrefix(l.HumanID, "LN-2026-"), "0"))
		}
		if s := strings.Join(ids, " "); s != want {
			t.Errorf("sort %s: %s, want %s", sort, s, want)
		}
	}
}

// LoanCreate in the store itself (loans.go LoanCreate and loanByIntakeKey
// were not covered by the store's tests, only through the service): a
// number from the counter, version 1; the same key with the same hash is
// the first application again (created false), with another hash
// model.ErrKeyReused; no key always files a new one.
func TestLoanCreate_NumbersAndIdempotencyKeys(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	l := model.Loan{Status: model.StatusSubmitted, Applicant: model.Applicant{Name: "Asha Verma", City: "Pune"}, CreatedAt: time.Now()}
	first, created, err := st.LoanCreate(ctx, l, 2026, "key-1", "hash-1")
	if err != nil || !created || first.HumanID != "LN-2026-000001" || first.Version != 1 || first.CityKey != "pune" {
		t.Fatalf("first: %v, created %v, %s v%d city %q", err, created, first.HumanID, first.Version, first.CityKey)
	}
	again, created, err := st.LoanCreate(ctx, l, 2026, "key-1", "hash-1")
	if err != nil || created || again.ID != first.ID || again.HumanID != "LN-2026-000001" {
		t.Fatalf("retry with the same key: %v, created %v, %s", err, created, again.HumanID)
	}
	if _, created, err := st.LoanCreate(ctx, l, 2026, "key-1", "hash-2"); !errors.Is(err, model.ErrKeyReused) || created {
		t.Fatalf("same key, other request: %v, created %v", err, created)
	}
	for _, want := range []string{"LN-2027-000002", "LN-2027-000003"} {
		got, created, err := st.LoanCreate(ctx, l, 2027, "", "")
		if err != nil || !created || got.HumanID != want {
			t.Fatalf("without a key: %v, created %v, %s, want %s", err, created, got.HumanID, want)
		}
	}
	if n, err := st.LoanCount(ctx); err != nil || n != 3 {
		t.Fatalf("LoanCount = %d, %v; want 3", n, err)
	}
}
