package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/application"
	"loandesk/model"
)

func insertTestLoan(t *testing.T, st *Store) model.Loan {
	t.Helper()
	l := model.Loan{HumanID: "LN-2026-000001", Status: model.StatusSubmitted, Terms: model.LoanTerms{Purpose: "start"}, CreatedAt: time.Now()}
	if err := st.LoanInsertMany(context.Background(), []model.Loan{l}); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoanGet(context.Background(), l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStore_LoanUpdateRace races 50 goroutines that each read the loan
// and write with the version they read. Every version must be won by
// exactly one writer, the losers get ErrConflict, and the history must
// chain every accepted change onto the one before it: no lost updates.
func TestStore_LoanUpdateRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)

	const writers, attempts = 50, 4
	var (
		mu        sync.Mutex
		won       = map[int64]string{} // version produced → value written
		conflicts int
		wg        sync.WaitGroup
	)
	for g := range writers {
		wg.Go(func() {
			for n := range attempts {
				cur, err := b.store.LoanGet(ctx, loan.HumanID)
				if err != nil {
					t.Error(err)
					return
				}
				value := fmt.Sprintf("g%d-n%d", g, n)
				next := cur
				next.Terms.Purpose = value
				updated, err := b.store.LoanUpdate(ctx, next,
					model.LoanChange{At: time.Now(), By: "race@test", Fields: []model.FieldChange{{Field: "purpose", From: cur.Terms.Purpose, To: value}}})
				mu.Lock()
				switch {
				case errors.Is(err, ErrConflict):
					conflicts++
				case err != nil:
					t.Error(err)
				default:
					if prev, dup := won[updated.Version]; dup {
						t.Errorf("version %d won twice: %s and %s", updated.Version, prev, value)
					}
					won[updated.Version] = value
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	final, err := b.store.LoanGet(ctx, loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	accepted := int64(len(won))
	if final.Version != 1+accepted || int64(len(final.History)) != accepted {
		t.Fatalf("final version %d with %d history entries, want %d and %d", final.Version, len(final.History), 1+accepted, accepted)
	}
	if accepted+int64(conflicts) != writers*attempts {
		t.Fatalf("%d accepted + %d conflicts != %d attempts", accepted, conflicts, writers*attempts)
	}
	prev := "start"
	for i, h := range final.History {
		v := int64(i) + 2
		if h.Version != v || won[v] != h.Fields[0].To || h.Fields[0].From != prev {
			t.Fatalf("history[%d] = %+v, want version %d from %q to %q", i, h, v, prev, won[v])
		}
		prev = h.Fields[0].To
	}
	if final.Terms.Purpose != prev {
		t.Fatalf("final purpose %q, want the last accepted %q", final.Terms.Purpose, prev)
	}
	t.Logf("%d attempts: %d accepted (one per version), %d conflicts, 0 lost", writers*attempts, accepted, conflicts)
}

func TestStore_LoanUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)

	t.Run("MissingLoanIsNotFound", func(t *testing.T) {
		_, err := b.store.LoanUpdate(ctx, model.Loan{ID: [12]byte{1}, Version: 1}, model.LoanChange{At: time.Now()})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
		if _, err := b.store.LoanGet(ctx, "LN-0000-000000"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("LoanGet: got %v, want ErrNotFound", err)
		}
	})
	t.Run("StaleVersionChangesNothing", func(t *testing.T) {
		stale := loan
		stale.Version, stale.Terms.Purpose = 7, "x"
		_, err := b.store.LoanUpdate(ctx, stale, model.LoanChange{At: time.Now()})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("got %v, want ErrConflict", err)
		}
		got, _ := b.store.LoanGet(ctx, loan.HumanID)
		if got.Version != loan.Version || got.Terms.Purpose != "start" || len(got.History) != 0 {
			t.Fatalf("a refused update changed the loan: %+v", got)
		}
	})
	t.Run("SearchKeysFollowTheChange", func(t *testing.T) {
		next := loan
		next.Applicant.Name = "Zoya Qureshi"
		updated, err := b.store.LoanUpdate(ctx, next, model.LoanChange{At: time.Now(), By: "t@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Version != loan.Version+1 || updated.Applicant.Name != "Zoya Qureshi" || updated.UpdatedBy != "t@example.com" ||
			len(updated.History) != 1 || updated.History[0].Version != loan.Version+1 {
			t.Fatalf("updated loan: %+v", updated)
		}
		n, err := b.store.loans.CountDocuments(ctx, map[string]any{"searchKeys": "zoya"})
		if err != nil || n != 1 {
			t.Fatalf("search keys not updated: %d, %v", n, err)
		}
	})
	t.Run("ScoreAndFlagsGuardDecisionsOnly", func(t *testing.T) {
		cur, _ := b.store.LoanGet(ctx, loan.HumanID)
		if err := b.store.LoanSetScore(ctx, cur.ID, cur.Version, model.LoanScore{Points: 42}); err != nil {
			t.Fatal(err)
		}
		stale := cur // read before the score landed
		stale.Status = model.StatusUnderReview
		if _, err := b.store.LoanDecide(ctx, stale, model.LoanChange{At: time.Now()}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a decision taken before the score landed: %v", err)
		}
		// An edit does not rest on the score: it lands, and keeps it.
		stale.Status = cur.Status
		stale.Terms.Purpose = "after the score"
		updated, err := b.store.LoanUpdate(ctx, stale, model.LoanChange{At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Score == nil || updated.Score.Points != 42 {
			t.Fatalf("the edit dropped the score: %+v", updated.Score)
		}
		// A decision taken before a flag landed is a conflict too.
		if err := b.store.LoanAddFlag(ctx, loan.HumanID, model.Flag{Code: model.FlagDuplicatePAN, OtherLoan: "LN-2026-000099"}); err != nil {
			t.Fatal(err)
		}
		updated.Status = model.StatusUnderReview
		if _, err := b.store.LoanDecide(ctx, updated, model.LoanChange{At: time.Now()}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a decision taken before the flag landed: %v", err)
		}
		fresh, _ := b.store.LoanGet(ctx, loan.HumanID)
		fresh.Status = model.StatusUnderReview
		if _, err := b.store.LoanDecide(ctx, fresh, model.LoanChange{At: time.Now()}); err != nil {
			t.Fatalf("a decision on what is there now: %v", err)
		}
	})
}

// TestStore_LoanSearch checks search by prefix, on both embedded engines:
// every word typed must start one of the loan's keys, phone numbers match
// however they are typed, and the store answers with the matches alone.
func TestStore_LoanSearch(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{EngineIndexed, EngineLungo} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := Open(ctx, Config{DataDir: t.TempDir(), Engine: engine})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(ctx) })
			now := time.Now()
			loans := []model.Loan{
				{HumanID: "LN-2026-000123", Applicant: model.Applicant{Name: "Asha Iyer", PAN: "ABCPI1234K", Email: "asha@mail.com", Phone: "+91 98765 43210"}},
				{HumanID: "LN-2026-000124", Applicant: model.Applicant{Name: "Ashok Sharma", PAN: "ABCPS1111K", Email: "ashok@mail.com", Phone: "+91 91234 56789"}},
				{HumanID: "LN-2026-000200", Applicant: model.Applicant{Name: "Iyer Ramesh", PAN: "ABCPR2222K", Email: "ramesh@mail.com", Phone: "+91 99999 00000"}},
				{HumanID: "LN-2026-000300", Applicant: model.Applicant{Name: "Zo\u00eb Qureshi", PAN: "ABCPQ3333K", Email: "zoe@mail.com", Phone: "+91 98888 77777"}},
				{HumanID: "LN-2026-000301", Applicant: model.Applicant{Name: "\u0915\u093c\u093e\u091c\u093c\u0940 Rahul", PAN: "ABCPK4444K", Email: "rk@mail.com", Phone: "+91 97777 66666"}},
			}
			for i := range loans {
				loans[i].Status, loans[i].CreatedAt = model.StatusSubmitted, now.Add(time.Duration(i)*time.Minute)
			}
			if err := st.LoanInsertMany(ctx, loans); err != nil {
				t.Fatal(err)
			}
			for typed, want := range map[string]string{
				"ash":                      "LN-2026-000124 LN-2026-000123",
				"asha":                     "LN-2026-000123",
				"ash iy":                   "LN-2026-000123",
				"iyer":                     "LN-2026-000200 LN-2026-000123",
				"sharma asha":              "",
				"98765":                    "LN-2026-000123",
				"+91 98765-43210":          "LN-2026-000123",
				"LN-2026-0001":             "LN-2026-000124 LN-2026-000123",
				"12":                       "LN-2026-000124 LN-2026-000123",
				"abcpr":                    "LN-2026-000200",
				"zz":                       "",
				"zo\u00eb":                 "LN-2026-000300", // composed
				"zoe\u0308":                "LN-2026-000300", // decomposed: the same text
				"ZOE\u0308":                "LN-2026-000300",
				"\u0958\u093e\u095b\u0940": "LN-2026-000301", // precomposed nukta letters
				"\u0915\u093c\u093e":       "LN-2026-000301", // letter + nukta, a prefix
				`{"$ne": 1}`:               "",
			} {
				got, err := st.LoanList(ctx, LoanListParams{LoanFilter: LoanFilter{Search: SearchTokens(typed)}, Limit: 10})
				if err != nil {
					t.Fatalf("%q: %v", typed, err)
				}
				var ids []string
				for _, l := range got {
					ids = append(ids, l.HumanID)
				}
				if strings.Join(ids, " ") != want {
					t.Errorf("search %q found %q, want %q", typed, strings.Join(ids, " "), want)
				}
			}
		})
	}
}

// Every editable field of application.Fields lands at its own place in
// the stored document and reads back as the same value: the store maps
// model.Loan to paths itself, so this ties each field's key to the
// document (a field added to Fields but not stored fails here).
func TestStore_EveryFieldRoundTrips(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)
	sample := map[string]string{
		"name": "Zoya Qureshi", "email": "zoya@example.com", "phone": "+91 91234 56789", "pan": "ABCPQ1234Z",
		"dateOfBirth": "1991-02-03", "address": "4, Park Street, Kolkata", "city": "Kolkata", "employment": "business",
		"monthlyIncome": "123456.78", "existingEmis": "12500", "propertyValue": "4000000", "product": "home", "amount": "2500000", "tenureMonths": "240", "annualRate": "8.75", "purpose": "Plot purchase",
	}
	if len(sample) != len(application.Fields) {
		t.Fatalf("%d samples for %d fields: add one for the new field", len(sample), len(application.Fields))
	}
	raw := func() bson.M {
		var doc bson.M
		if err := b.store.loans.FindOne(ctx, bson.M{"_id": loan.ID}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "history")
		delete(doc, "version")
		delete(doc, "updatedAt")
		delete(doc, "updatedBy")
		delete(doc, "searchKeys")
		delete(doc, "cityKey") // derived from the city, as the search keys are
		return doc
	}
	for _, f := range application.Fields {
		t.Run(f.Key, func(t *testing.T) {
			cur, err := b.store.LoanGet(ctx, loan.HumanID)
			if err != nil {
				t.Fatal(err)
			}
			before := raw()
			next := cur
			if err := application.Apply(&next, application.Values{f.Key: sample[f.Key]}); err != nil {
				t.Fatal(err)
			}
			got, err := b.store.LoanUpdate(ctx, next, model.LoanChange{At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if v := application.ValuesOf(got)[f.Key]; v != sample[f.Key] {
				t.Errorf("read back %q, want %q", v, sample[f.Key])
			}
			changed := diffLeaves("", before, raw())
			if len(changed) != 1 {
				t.Errorf("the stored document changed at %v, want exactly one place", changed)
			}
		})
	}
}

// diffLeaves lists the dotted paths where two decoded documents differ.
func diffLeaves(prefix string, a, b bson.M) []string {
	var out []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		va, vb := a[k], b[k]
		ma, okA := va.(bson.M)
		mb, okB := vb.(bson.M)
		if okA && okB {
			out = append(out, diffLeaves(prefix+k+".", ma, mb)...)
			continue
		}
		if fmt.Sprint(va) != fmt.Sprint(vb) {
			out = append(out, prefix+k)
		}
	}
	return out
}
