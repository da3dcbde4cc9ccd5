package application_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/clock"
	"loandesk/model"
	"loandesk/store"
)

// The loan service over the real embedded engine: no mock repository.

type serviceBundle struct {
	svc   *application.Service
	st    *store.Store
	clock *clock.Manual
	loan  model.Loan
}

var (
	admin  = auth.User{Email: "admin@example.com", Name: "Admin", Role: auth.RoleAdmin}
	uw     = auth.User{Email: "uw@example.com", Name: "Uma Writer", Role: auth.RoleUnderwriter}
	viewer = auth.User{Email: "viewer@example.com", Name: "Vik", Role: auth.RoleViewer}
	ist    = mustZone("Asia/Kolkata")
)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// setup opens a fresh embedded database with one application (version
// 1, submitted, ₹5,00,000 personal loan) and staff, and a service whose
// clock stands at 2026-11-30 12:00 IST.
func setup(t *testing.T) *serviceBundle {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	for _, u := range []auth.User{admin, uw, viewer} {
		if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: u.Email, Name: u.Name, Role: u.Role, PasswordHash: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	l := model.Loan{
		HumanID: "LN-2026-000042", Status: model.StatusSubmitted, CreatedBy: "seed", UpdatedBy: "seed",
		Applicant: model.Applicant{Name: "Asha Verma", Email: "asha@example.com", Phone: "+91 98765 43210", PAN: "ABCPV1234K",
			DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Address: "12, MG Road, Pune 411001", City: "Pune", Employment: "salaried", MonthlyIncome: 85_000_00},
		Terms: model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"},
	}
	if err := st.LoanInsertMany(ctx, []model.Loan{l}); err != nil {
		t.Fatal(err)
	}
	loan, err := st.LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Date(2026, 11, 30, 12, 0, 0, 0, ist))
	svc := &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: application.DefaultPolicy, Clock: c.Now, Zone: ist}
	return &serviceBundle{svc: svc, st: st, clock: c, loan: loan}
}

func (b *serviceBundle) current(t *testing.T) model.Loan {
	t.Helper()
	l, err := b.st.LoanGet(context.Background(), b.loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestService_Edit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SavesAVersionWithItsHistory", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1,
			Fields: map[string]string{"city": " Mumbai ", "amount": "6,00,000"}})
		if err != nil || !res.Saved {
			t.Fatalf("Edit = %+v, %v", res, err)
		}
		got := b.current(t)
		want := []model.FieldChange{{Field: "city", From: "Pune", To: "Mumbai"}, {Field: "amount", From: "500000", To: "600000"}}
		if got.Version != 2 || got.Applicant.City != "Mumbai" || got.Terms.Amount != 6_00_000_00 || got.UpdatedBy != uw.Email ||
			len(got.History) != 1 || fmt.Sprint(got.History[0].Fields) != fmt.Sprint(want) || got.History[0].By != uw.Email ||
			!got.History[0].At.Equal(b.clock.Now()) {
			t.Fatalf("after the edit: %+v", got)
		}
	})

	t.Run("SameValuesWriteNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Pune", "amount": "5,00,000.00"}})
		if err != nil || res.Saved || res.Loan.Version != 1 {
			t.Fatalf("Edit = %+v, %v", res, err)
		}
	})

	t.Run("OneBadFieldStoresNoneOfThem", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1,
			Fields: map[string]string{"city": "Mumbai", "pan": "ABCDE123F", "nosuch": "x"}})
		var inv *application.Invalid
		if !errors.As(err, &inv) || inv.Fields["pan"].Code != application.CodeInvalidFormat || inv.Fields["nosuch"].Code != application.CodeUnknownField {
			t.Fatalf("got %v (%+v)", err, inv)
		}
		if _, ok := inv.Fields["city"]; ok {
			t.Error("a valid field reported")
		}
		if got := b.current(t); got.Version != 1 || got.Applicant.City != "Pune" {
			t.Fatalf("a refused edit was stored: %+v", got)
		}
	})

	t.Run("RulesAcrossFieldsAreCheckedBeforeWriting", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"amount": "45,00,000", "city": "Agra"}})
		var inv *application.Invalid
		if !errors.As(err, &inv) || inv.Fields["amount"].Code != application.CodeOutOfRange {
			t.Fatalf("got %v", err)
		}
		if got := b.current(t); got.Version != 1 {
			t.Fatal("stored")
		}
	})

	t.Run("ViewerAndDecidedAreForbidden", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Edit(ctx, application.EditRequest{Actor: viewer, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Agra"}})
		var fb *application.Forbidden
		if !errors.As(err, &fb) || !strings.Contains(fb.Reason, "view") {
			t.Fatalf("viewer: %v", err)
		}
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: admin, LoanID: "LN-2026-999999", Version: 1}); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	})

	t.Run("StaleVersionIsAConflictNamingTheChanges", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: admin, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Mumbai"}}); err != nil {
			t.Fatal(err)
		}
		_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Delhi", "purpose": "Travel"}})
		var c *application.Conflict
		if !errors.As(err, &c) || !c.Exact || c.Clashes != 1 || len(c.Since) != 1 || c.Loan.Version != 2 {
			t.Fatalf("got %v %+v", err, c)
		}
		if msg := c.Message(); msg != "Admin changed City to Mumbai (version 2)." {
			t.Errorf("Message() = %q", msg)
		}
		for _, v := range []int64{0, -1, 3} {
			var inv *application.Invalid
			_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: v, Fields: map[string]string{"city": "Delhi"}})
			if !errors.As(err, &inv) || inv.Fields["version"].Code != application.CodeStale {
				t.Errorf("version %d: %v", v, err)
			}
		}
		if got := b.current(t); got.Version != 2 || got.Applicant.City != "Mumbai" {
			t.Fatalf("the conflicting edit landed: %+v", got)
		}
	})

	// Failing input 6: the same-looking text in another Unicode form is
	// the same value — no new version, no "Zoë → Zoë" history entry.
	t.Run("TextInAnotherNormalFormIsNoChange", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"name": "Zo\u00eb Rao"}}); err != nil {
			t.Fatal(err)
		}
		res, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 2, Fields: map[string]string{"name": "Zoe\u0308 Rao"}})
		if err != nil || res.Saved || b.current(t).Version != 2 {
			t.Fatalf("decomposed re-save: %+v, %v", res, err)
		}
		if got := b.current(t).Applicant.Name; got != "Zo\u00eb Rao" {
			t.Fatalf("stored %q, want NFC", got)
		}
	})

	// Failing inputs 3 and 4: age in whole years by the calendar date in
	// the lender's zone, whatever the server's zone says.
	t.Run("AgeIsByTheLendersCalendarDate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, ist))
		for dob, ok := range map[string]bool{"2008-11-30": true, "2008-12-01": false, "1925-11-30": false, "1925-12-01": true} {
			_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: b.current(t).Version, Fields: map[string]string{"dateOfBirth": dob}})
			if (err == nil) != ok {
				t.Errorf("on 30 Nov 2026, born %s: %v, want accepted %v", dob, err, ok)
			}
		}
		// 18:30 UTC on 30 Nov is already 1 December in Kolkata.
		b.clock.Set(time.Date(2026, 11, 30, 18, 30, 0, 0, time.UTC))
		for dob, ok := range map[string]bool{"1925-12-01": false, "1925-12-02": true, "2008-12-01": true} {
			_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: b.current(t).Version, Fields: map[string]string{"dateOfBirth": dob}})
			if (err == nil) != ok {
				t.Errorf("at 00:00 IST on 1 Dec 2026, born %s: %v, want accepted %v", dob, err, ok)
			}
		}
	})
}

func TestService_ChangeStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	move := func(b *serviceBundle, who auth.User, version int64, to, reason string) (application.Result, error) {
		return b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: who, LoanID: b.loan.HumanID, Version: version, To: to, Reason: reason})
	}

	t.Run("MovesAndRecordsTheReason", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := move(b, uw, 1, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		res, err := move(b, uw, 2, model.StatusOnHold, "  waiting for the bank statement ")
		if err != nil || !res.Saved || res.Loan.Status != model.StatusOnHold {
			t.Fatalf("hold: %+v %v", res, err)
		}
		h := res.Loan.History[1]
		if h.Reason != "waiting for the bank statement" || h.Fields[0] != (model.FieldChange{Field: "status", From: model.StatusUnderReview, To: model.StatusOnHold}) {
			t.Fatalf("history: %+v", h)
		}
	})

	t.Run("RefusalsStoreNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := move(b, uw, 1, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		var inv *application.Invalid
		var fb *application.Forbidden
		for name, err := range map[string]error{
			"reject without a reason": second(move(b, uw, 2, model.StatusRejected, " ")),
			"a move the flow lacks":   second(move(b, uw, 2, model.StatusDisbursed, "")),
			"a reason with a NUL":     second(move(b, uw, 2, model.StatusRejected, "bad\x00")),
			"a reason over 500 chars": second(move(b, uw, 2, model.StatusRejected, strings.Repeat("x", 501))),
			"an unknown status":       second(move(b, uw, 2, "closed", "")),
			"approve over the UW limit": func() error {
				b.svc.Policy.UnderwriterApprovalLimit = 4_99_999_99
				defer func() { b.svc.Policy = application.DefaultPolicy }()
				return second(move(b, uw, 2, model.StatusApproved, ""))
			}(),
		} {
			if !errors.As(err, &inv) {
				t.Errorf("%s: %v, want Invalid", name, err)
			}
		}
		if err := second(move(b, viewer, 2, model.StatusApproved, "")); !errors.As(err, &fb) {
			t.Errorf("viewer: %v", err)
		}
		if got := b.current(t); got.Version != 2 || got.Status != model.StatusUnderReview {
			t.Fatalf("a refused move was stored: %+v", got)
		}
		// 500 characters exactly is fine.
		if _, err := move(b, uw, 2, model.StatusRejected, strings.Repeat("x", 500)); err != nil {
			t.Fatalf("500-character reason: %v", err)
		}
	})

	t.Run("StaleVersionIsAConflictSayingWhoMovedIt", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := move(b, admin, 1, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		_, err := move(b, uw, 1, model.StatusUnderReview, "")
		var c *application.Conflict
		if !errors.As(err, &c) || c.Loan.Version != 2 {
			t.Fatalf("got %v", err)
		}
		if msg := c.Message(); msg != "Admin changed Status to Under review (version 2)." {
			t.Errorf("Message() = %q", msg)
		}
	})

	// Many staff move one application from the same version at once:
	// exactly one wins, every other gets a conflict, none is lost.
	t.Run("RaceHasOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const racers = 24
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for range racers {
			wg.Go(func() {
				_, err := move(b, uw, 1, model.StatusUnderReview, "")
				mu.Lock()
				defer mu.Unlock()
				var c *application.Conflict
				switch {
				case err == nil:
					wins++
				case errors.As(err, &c):
					conflicts++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != racers-1 || b.current(t).Version != 2 {
			t.Fatalf("wins %d, conflicts %d, version %d", wins, conflicts, b.current(t).Version)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestService_Assign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	assign := func(who auth.User, version int64, to string) (application.Result, error) {
		return b.svc.Assign(ctx, application.AssignRequest{Actor: who, LoanID: b.loan.HumanID, Version: version, Assignee: to})
	}
	var inv *application.Invalid
	if _, err := assign(uw, 1, viewer.Email); !errors.As(err, &inv) || inv.Fields["assignee"].Code != application.CodeInvalidChoice {
		t.Fatalf("to a viewer: %v", err)
	}
	if _, err := assign(uw, 1, "nobody@example.com"); !errors.As(err, &inv) {
		t.Fatalf("to a stranger: %v", err)
	}
	var fb *application.Forbidden
	if _, err := assign(viewer, 1, uw.Email); !errors.As(err, &fb) {
		t.Fatalf("by a viewer: %v", err)
	}
	res, err := assign(uw, 1, admin.Email)
	if err != nil || !res.Saved || res.Loan.Assignee != admin.Email || res.Loan.History[0].Fields[0] != (model.FieldChange{Field: "assignee", From: "", To: admin.Email}) {
		t.Fatalf("assign: %+v %v", res, err)
	}
	if res, err := assign(uw, 2, admin.Email); err != nil || res.Saved {
		t.Fatalf("same assignee again: %+v %v", res, err)
	}
	var c *application.Conflict
	if _, err := assign(uw, 1, ""); !errors.As(err, &c) || c.Message() != "Uma Writer changed Assignee to admin@example.com (version 2)." {
		t.Fatalf("stale: %v", err)
	}
	if res, err := assign(uw, 2, ""); err != nil || res.Loan.Assignee != "" {
		t.Fatalf("unassign: %+v %v", res, err)
	}
}

func TestService_RecordScore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	score, err := b.svc.RecordScore(ctx, b.loan.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := b.current(t)
	if got.Version != 1 || got.Score == nil || got.Score.Version != 1 || got.Score.Points != score.Points || !got.Score.ScoredAt.Equal(b.clock.Now()) {
		t.Fatalf("score: %+v", got.Score)
	}
	if _, err := b.svc.RecordScore(ctx, [12]byte{9}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown loan: %v", err)
	}
	// A score computed on version 1 cannot land on version 2: the store
	// refuses it and the service re-reads.
	if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Agra"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.st.LoanSetScore(ctx, b.loan.ID, 1, model.LoanScore{Points: 1}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("a score for version 1 on version 2: %v", err)
	}
	if s := b.current(t).Score; s.Version != 1 || s.Points == 1 {
		t.Fatalf("the stale score landed: %+v", s)
	}
}

// scoreNow scores the application through the service (the real
// scorecard: with no documents it refers, so approval is allowed).
func (b *serviceBundle) scoreNow(t *testing.T) {
	t.Helper()
	if _, err := b.svc.RecordScore(context.Background(), b.loan.ID); err != nil {
		t.Fatal(err)
	}
}

func TestService_MakerChecker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uw2 := auth.User{Email: "uw2@example.com", Name: "Second Writer", Role: auth.RoleUnderwriter}
	admin2 := auth.User{Email: "admin2@example.com", Name: "Second Admin", Role: auth.RoleAdmin}
	move := func(b *serviceBundle, who auth.User, to, reason string) (application.Result, error) {
		return b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: who, LoanID: b.loan.HumanID, Version: b.current(t).Version, To: to, Reason: reason})
	}
	code := func(err error) string {
		var inv *application.Invalid
		if errors.As(err, &inv) {
			return inv.Fields["to"].Code
		}
		return fmt.Sprint(err)
	}

	t.Run("WhoeverChangedTheTermsCannotApproveThem", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := move(b, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: b.current(t).Version, Fields: map[string]string{"amount": "6,00,000"}}); err != nil {
			t.Fatal(err)
		}
		b.scoreNow(t)
		_, err := move(b, uw, model.StatusApproved, "")
		if code(err) != application.CodeMakerChecker || !strings.Contains(err.(*application.Invalid).Message(), "version 3") {
			t.Fatalf("the maker approving: %v", err)
		}
		res, err := move(b, uw2, model.StatusApproved, "")
		if err != nil || res.Loan.Status != model.StatusApproved {
			t.Fatalf("a second underwriter: %v", err)
		}
		last := res.Loan.History[len(res.Loan.History)-1]
		if last.By != uw2.Email || last.Maker != uw.Email {
			t.Fatalf("history: checker %s, maker %s", last.By, last.Maker)
		}
	})

	t.Run("TheFilerIsTheMakerUntilSomeoneChangesTheTerms", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		seedUser := auth.User{Email: "seed", Name: "Seed", Role: auth.RoleAdmin}
		b.scoreNow(t)
		if _, err := move(b, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := move(b, seedUser, model.StatusApproved, ""); code(err) != application.CodeMakerChecker {
			t.Fatalf("the filer approving: %v", err)
		}
		// A change of city (not terms or income) leaves the maker alone.
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: b.current(t).Version, Fields: map[string]string{"city": "Agra"}}); err != nil {
			t.Fatal(err)
		}
		if maker, v := application.Maker(b.current(t)); maker != "seed" || v != 1 {
			t.Fatalf("maker %s at v%d", maker, v)
		}
	})

	// The trial's bypass: someone else edits a term, and the filer then
	// approves — refused: the filer stays a maker.
	t.Run("TheFilerNeverApproves", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPI1234K")})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Loan.HumanID
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: admin, LoanID: id, Version: 1, Fields: map[string]string{"purpose": "Travel abroad"}}); err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{model.StatusUnderReview} {
			if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: id, Version: 2, To: to}); err != nil {
				t.Fatal(err)
			}
		}
		l, _ := b.st.LoanGet(ctx, id)
		if _, err := b.svc.RecordScore(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		_, err = b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: id, Version: 3, To: model.StatusApproved})
		if code(err) != application.CodeMakerChecker || !strings.Contains(err.Error(), "") || !strings.Contains(err.(*application.Invalid).Message(), "filed this application") {
			t.Fatalf("the filer approving after another's edit: %v", err)
		}
		_, err = b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: admin, LoanID: id, Version: 3, To: model.StatusApproved})
		if code(err) != application.CodeMakerChecker {
			t.Fatalf("the editor approving: %v", err)
		}
		if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw2, LoanID: id, Version: 3, To: model.StatusApproved}); err != nil {
			t.Fatalf("someone else: %v", err)
		}
	})

	t.Run("NoScoreOrAStaleScoreIsRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := move(b, admin, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := move(b, uw, model.StatusApproved, ""); code(err) != application.CodeNoScore {
			t.Fatalf("no score: %v", err)
		}
		b.scoreNow(t) // on v2
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: admin, LoanID: b.loan.HumanID, Version: 2, Fields: map[string]string{"purpose": "Travel"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := move(b, admin, model.StatusOnHold, "waiting"); err != nil { // v4: a status change alone
			t.Fatal(err)
		}
		if _, err := move(b, admin, model.StatusUnderReview, ""); err != nil { // v5
			t.Fatal(err)
		}
		_, err := move(b, uw, model.StatusApproved, "")
		if code(err) != application.CodeStaleScore || err.(*application.Invalid).Message() != "The score is of version 2 and the application has changed since (it is at version 5): score it again (Score now), then approve." {
			t.Fatalf("stale: %v", err)
		}
		b.scoreNow(t)
		if _, err := move(b, uw, model.StatusOnHold, "x"); err != nil { // status changes keep the score current
			t.Fatal(err)
		}
		if _, err := move(b, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := move(b, uw2, model.StatusApproved, ""); err != nil {
			t.Fatalf("fresh score, then status moves: %v", err)
		}
	})

	t.Run("AboveTheDualApprovalAmountTwoPeopleApprove", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Policy.DualApprovalAbove = 4_99_999_99 // the ₹5,00,000 loan is above it
		if _, err := move(b, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		b.scoreNow(t)
		res, err := move(b, admin, model.StatusApproved, "")
		if err != nil || res.Loan.Status != model.StatusApprovalPending || len(res.Loan.Approvals) != 1 || res.Loan.Approvals[0].By != admin.Email {
			t.Fatalf("first approval: %+v, %v", res.Loan.Status, err)
		}
		if _, err := move(b, admin, model.StatusApproved, ""); code(err) != application.CodeSecondApprover {
			t.Fatalf("the same person's second click: %v", err)
		}
		if got := b.current(t); got.Status != model.StatusApprovalPending || got.Version != 3 {
			t.Fatalf("after the refused second click: %s v%d", got.Status, got.Version)
		}
		res, err = move(b, admin2, model.StatusApproved, "")
		if err != nil || res.Loan.Status != model.StatusApproved || len(res.Loan.Approvals) != 0 {
			t.Fatalf("second approval: %+v, %v", res.Loan, err)
		}
		if last := res.Loan.History[len(res.Loan.History)-1]; last.FirstApprover != admin.Email || last.By != admin2.Email {
			t.Fatalf("history: %+v", last)
		}
		// At exactly the limit one approval is enough.
		c := setup(t)
		c.svc.Policy.DualApprovalAbove = 5_00_000_00
		if _, err := move(c, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		c.scoreNow(t)
		if res, err := move(c, uw, model.StatusApproved, ""); err != nil || res.Loan.Status != model.StatusApproved {
			t.Fatalf("at the limit: %v %v", res.Loan.Status, err)
		}
	})

	t.Run("SendingBackDropsThePendingApproval", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Policy.DualApprovalAbove = 1
		if _, err := move(b, uw, model.StatusUnderReview, ""); err != nil {
			t.Fatal(err)
		}
		b.scoreNow(t)
		if _, err := move(b, admin, model.StatusApproved, ""); err != nil {
			t.Fatal(err)
		}
		var inv *application.Invalid
		if _, err := move(b, uw2, model.StatusUnderReview, ""); !errors.As(err, &inv) || inv.Fields["reason"].Code != application.CodeRequired {
			t.Fatalf("send back without a reason: %v", err)
		}
		res, err := move(b, uw2, model.StatusUnderReview, "income proof unclear")
		if err != nil || res.Loan.Status != model.StatusUnderReview || len(res.Loan.Approvals) != 0 {
			t.Fatalf("send back: %+v %v", res.Loan.Approvals, err)
		}
	})
}

var _ application.Intake = (*store.Store)(nil)
var _ application.LoanRepository = (*store.Store)(nil)

// aPersonalLoan is a complete new application: ₹5,00,000 over 60 months
// at 10.50 %.
func aPersonalLoan(pan string) map[string]string {
	return map[string]string{
		"name": "Asha Iyer", "email": "asha.iyer@example.com", "phone": "98765 43210", "pan": pan, "dateOfBirth": "1990-05-17",
		"address": "4, MG Road, Bengaluru 560001", "city": "Bengaluru", "employment": "salaried", "monthlyIncome": "1,20,000", "existingEmis": "0",
		"product": "personal", "amount": "5,00,000", "tenureMonths": "60", "annualRate": "10.50", "purpose": "Wedding", "propertyValue": "0",
	}
}

func TestService_Create(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("FilesAtVersionOneAndRetriesFindIt", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		req := application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPI1234K"), IdempotencyKey: "req-1"}
		res, err := b.svc.Create(ctx, req)
		if err != nil || !res.Saved {
			t.Fatalf("create: %v", err)
		}
		l := res.Loan
		if l.Version != 1 || l.Status != model.StatusSubmitted || l.HumanID != "LN-2026-000001" || l.CreatedBy != uw.Email || len(l.History) != 0 ||
			application.EMI(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps) != 10_746_95 || l.Applicant.Phone != "+91 98765 43210" {
			t.Fatalf("created: %+v", l)
		}
		again, err := b.svc.Create(ctx, req)
		if err != nil || again.Saved || again.Loan.HumanID != l.HumanID {
			t.Fatalf("retry: %+v, %v", again.Loan.HumanID, err)
		}
		other := req
		other.Fields = aPersonalLoan("ABCPI1234K")
		other.Fields["amount"] = "6,00,000"
		var inv *application.Invalid
		if _, err := b.svc.Create(ctx, other); !errors.As(err, &inv) || inv.Fields["idempotencyKey"].Code != application.CodeKeyReused {
			t.Fatalf("the key with another body: %v", err)
		}
		if n, _ := b.st.LoanCount(ctx); n != 2 { // the fixture's and this one
			t.Fatalf("%d loans stored", n)
		}
	})

	t.Run("ConcurrentRetriesFileOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wg sync.WaitGroup
		ids := make(chan string, 16)
		for range 16 {
			wg.Go(func() {
				res, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPI1234K"), IdempotencyKey: "same"})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- res.Loan.HumanID
			})
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if n, _ := b.st.LoanCount(ctx); len(seen) != 1 || n != 2 {
			t.Fatalf("16 retries filed %v (%d loans)", seen, n)
		}
	})

	t.Run("DuplicatePANFlagsBoth", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPI1234K")})
		if err != nil {
			t.Fatal(err)
		}
		second, err := b.svc.Create(ctx, application.CreateRequest{Actor: admin, Fields: aPersonalLoan("abcpi1234k")})
		if err != nil {
			t.Fatal(err)
		}
		if f := second.Loan.Flags; len(f) != 1 || f[0].Code != model.FlagDuplicatePAN || f[0].OtherLoan != first.Loan.HumanID {
			t.Fatalf("second's flags: %+v", f)
		}
		got, _ := b.st.LoanGet(ctx, first.Loan.HumanID)
		if f := got.Flags; len(f) != 1 || f[0].OtherLoan != second.Loan.HumanID || got.Version != 1 {
			t.Fatalf("first's flags: %+v (version %d)", f, got.Version)
		}
		// Approval waits for an acknowledgement, which is recorded.
		move := func(who auth.User, to string) error {
			_, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: who, LoanID: second.Loan.HumanID, Version: second.Loan.Version, To: to})
			second.Loan, _ = b.st.LoanGet(ctx, second.Loan.HumanID)
			return err
		}
		if err := move(uw, model.StatusUnderReview); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.RecordScore(ctx, second.Loan.ID); err != nil {
			t.Fatal(err)
		}
		var inv *application.Invalid
		if err := move(uw, model.StatusApproved); !errors.As(err, &inv) || inv.Fields["to"].Code != application.CodeUnacknowledged {
			t.Fatalf("approve with an open flag: %v", err)
		}
		ack := application.AckRequest{Actor: uw, LoanID: second.Loan.HumanID, Version: second.Loan.Version, Code: model.FlagDuplicatePAN, OtherLoan: first.Loan.HumanID}
		if _, err := b.svc.AcknowledgeFlag(ctx, ack); !errors.As(err, &inv) || inv.Fields["note"].Code != application.CodeRequired {
			t.Fatalf("ack without a note: %v", err)
		}
		ack.Note = "Top-up of the first loan, checked with the branch"
		res, err := b.svc.AcknowledgeFlag(ctx, ack)
		if err != nil || len(res.Loan.OpenFlags()) != 0 || res.Loan.History[len(res.Loan.History)-1].Reason != ack.Note {
			t.Fatalf("ack: %v", err)
		}
		ack.Version = res.Loan.Version
		if _, err := b.svc.AcknowledgeFlag(ctx, ack); !errors.As(err, &inv) {
			t.Fatalf("a second ack: %v", err)
		}
		second.Loan = res.Loan
		if err := move(uw, model.StatusApproved); err != nil {
			t.Fatalf("approve after the ack: %v", err)
		}
	})

	t.Run("BadInputStoresNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bad := func(mutate func(map[string]string)) map[string]application.Problem {
			f := aPersonalLoan("ABCPI1234K")
			mutate(f)
			_, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: f})
			var inv *application.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("accepted: %v", err)
			}
			return inv.Fields
		}
		if p := bad(func(f map[string]string) { f["pan"] = "ABCCD1234E" }); p["pan"].Code != application.CodeInvalidFormat {
			t.Errorf("a company's PAN on a personal loan: %+v", p)
		}
		if p := bad(func(f map[string]string) { delete(f, "city") }); p["city"].Code != application.CodeRequired {
			t.Errorf("missing city: %+v", p)
		}
		if p := bad(func(f map[string]string) { f["surprise"] = "x"; f["amount"] = "-5" }); p["surprise"].Code != application.CodeUnknownField || p["amount"].Code == "" {
			t.Errorf("unknown and bad: %+v", p)
		}
		if p := bad(func(f map[string]string) { f["product"] = "home"; f["tenureMonths"] = "120"; f["annualRate"] = "9" }); p["propertyValue"].Code != application.CodeRequired {
			t.Errorf("home without a property value: %+v", p)
		}
		if p := bad(func(f map[string]string) { f["dateOfBirth"] = "2008-12-01" }); p["dateOfBirth"].Code != application.CodeOutOfRange {
			t.Errorf("under 18: %+v", p)
		}
		var fb *application.Forbidden
		if _, err := b.svc.Create(ctx, application.CreateRequest{Actor: viewer, Fields: aPersonalLoan("ABCPI1234K")}); !errors.As(err, &fb) {
			t.Errorf("viewer: %v", err)
		}
		if n, _ := b.st.LoanCount(ctx); n != 1 {
			t.Fatalf("bad input stored: %d loans", n)
		}
		// A company's PAN is fine for a business loan, and a 0 % product
		// takes a 0 rate.
		f := aPersonalLoan("ABCCD1234E")
		f["product"], f["annualRate"], f["tenureMonths"] = "business", "16", "36"
		if _, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: f}); err != nil {
			t.Errorf("business loan with a company PAN: %v", err)
		}
		f = aPersonalLoan("ABCPI1234K")
		f["product"], f["annualRate"], f["tenureMonths"], f["amount"] = "consumer", "0", "12", "60000"
		if res, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: f}); err != nil || application.EMI(res.Loan.Terms.Amount, 12, 0) != 5_000_00 {
			t.Errorf("no-cost EMI: %v", err)
		}
	})
}

// The break test's findings: a PAN changed to another open application's
// is flagged as at intake; a scorecard that turns to decline after the
// first of two approvals stops the second.
func TestService_FindingsOfTheBreakTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("EditingThePANToADuplicateFlagsBoth", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		x, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPX1111K")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.svc.Edit(ctx, application.EditRequest{Actor: admin, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"pan": "abcpx1111k"}})
		if err != nil || len(res.Loan.Flags) != 1 || res.Loan.Flags[0].OtherLoan != x.Loan.HumanID {
			t.Fatalf("edited: %+v %v", res.Loan.Flags, err)
		}
		if got, _ := b.st.LoanGet(ctx, x.Loan.HumanID); len(got.Flags) != 1 || got.Flags[0].OtherLoan != b.loan.HumanID {
			t.Fatalf("the other: %+v", got.Flags)
		}
	})

	t.Run("ADeclineAfterTheFirstApprovalStopsTheSecond", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Policy.DualApprovalAbove = 1
		if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, To: model.StatusUnderReview}); err != nil {
			t.Fatal(err)
		}
		b.scoreNow(t) // refer
		if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: admin, LoanID: b.loan.HumanID, Version: 2, To: model.StatusApproved}); err != nil {
			t.Fatal(err)
		}
		cur := b.current(t)
		decline := *cur.Score
		decline.Recommendation, decline.ScoredAt = application.RecommendDecline, decline.ScoredAt.Add(time.Second)
		if err := b.st.LoanSetScore(ctx, cur.ID, cur.Version, decline); err != nil {
			t.Fatal(err)
		}
		_, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: admin2, LoanID: b.loan.HumanID, Version: 3, To: model.StatusApproved})
		var inv *application.Invalid
		if !errors.As(err, &inv) || inv.Fields["to"].Code != application.CodeStaleScore {
			t.Fatalf("second approval on a decline: %v", err)
		}
		if got := b.current(t); got.Status != model.StatusApprovalPending {
			t.Fatalf("status %s", got.Status)
		}
	})
}
