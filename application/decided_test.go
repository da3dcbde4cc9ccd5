package application_test

import (
	"bytes"
	"context"
	"testing"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
)

// After the decision nothing new reaches an application's file: uploads
// and asking for scoring are refused like edits, and a scoring queued
// before (a document read after the decision) leaves the score the
// decision was taken on.
func TestService_DecidedApplicationsTakeNoDocumentsOrScores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, role := range []string{auth.RoleAdmin, auth.RoleUnderwriter} {
		for _, status := range []string{model.StatusSubmitted, model.StatusUnderReview, model.StatusOnHold} {
			if application.DocumentRefusal(role, status) != "" || application.ScoreRefusal(role, status) != "" {
				t.Errorf("%s refused work on a %s application", role, status)
			}
		}
		for _, status := range []string{model.StatusApproved, model.StatusRejected, model.StatusSanctioned, model.StatusDisbursed} {
			if application.DocumentRefusal(role, status) == "" || application.ScoreRefusal(role, status) == "" {
				t.Errorf("%s may work on a %s application", role, status)
			}
		}
	}
	if msg := application.DocumentRefusal(auth.RoleViewer, model.StatusSubmitted); msg == "" {
		t.Error("a viewer may upload")
	}

	b := setup(t)
	l := sanctioned(t, b, "ABCPD4321K")
	before := l.Score
	if before == nil {
		t.Fatal("the sanctioned loan has no score")
	}
	if _, err := b.st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "late.png", ContentType: "image/png"},
		bytes.NewReader([]byte("\x89PNG\r\n\x1a\n"))); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(3600e9)
	score, err := b.svc.RecordScore(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	after, err := b.st.LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != l.Version || after.Score == nil || !after.Score.ScoredAt.Equal(before.ScoredAt) || score.Points != before.Points {
		t.Fatalf("a decided application was scored again: version %d→%d, score %+v → %+v", l.Version, after.Version, before, after.Score)
	}
}

// An edit calls for scoring again only when it saved a new version of an
// application scored before.
func TestRescoreAfterEdit(t *testing.T) {
	t.Parallel()
	scored := model.Loan{Score: &model.LoanScore{Version: 1}}
	for _, tc := range []struct {
		res  application.Result
		want bool
	}{
		{application.Result{Loan: scored, Saved: true}, true},
		{application.Result{Loan: scored, Saved: false}, false},
		{application.Result{Loan: model.Loan{}, Saved: true}, false},
	} {
		if got := application.RescoreAfterEdit(tc.res); got != tc.want {
			t.Errorf("saved %v, scored %v: %v, want %v", tc.res.Saved, tc.res.Loan.Score != nil, got, tc.want)
		}
	}
}

// A deleted (or replaced) document opens for admins only; everyone
// else is told why.
func TestDeletedDocumentRefusal(t *testing.T) {
	t.Parallel()
	const refused = "This document was deleted; it is kept for audit and only an admin can open it."
	for role, want := range map[string]string{
		auth.RoleAdmin:       "",
		auth.RoleUnderwriter: refused,
		auth.RoleViewer:      refused,
		"":                   refused,
	} {
		if got := application.DeletedDocumentRefusal(role); got != want {
			t.Errorf("%q: %q, want %q", role, got, want)
		}
	}
}
