package application

import (
	"reflect"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
)

// UnavailableMoves lists the moves an actor may not make and why, and
// leaves out those whose refusal the actor can still resolve (no score,
// an open warning). Policy: underwriters approve up to ₹25,00,000.
func TestUnavailableMoves(t *testing.T) {
	t.Parallel()
	s := &Service{Policy: DefaultPolicy}
	uw := auth.User{Email: "uma@example.in", Name: "Uma", Role: auth.RoleUnderwriter}
	admin := auth.User{Email: "arun@example.in", Name: "Arun", Role: auth.RoleAdmin}
	viewer := auth.User{Email: "vik@example.in", Role: auth.RoleViewer}
	loan := func(status string, amount int64, rec string) model.Loan {
		l := model.Loan{HumanID: "LN-2026-000001", Version: 2, Status: status, CreatedBy: "maker@example.in", Terms: model.LoanTerms{Amount: amount}}
		if rec != "" {
			l.Score = &model.LoanScore{Recommendation: rec, Version: 2}
		}
		return l
	}
	flagged := loan(model.StatusUnderReview, 10_00_000_00, RecommendDecline)
	flagged.Flags = []model.Flag{{Code: model.FlagDuplicatePAN, OtherLoan: "LN-2026-000002"}}
	pending := loan(model.StatusApprovalPending, 30_00_000_00, RecommendApprove)
	pending.Approvals = []model.Approval{{By: admin.Email, Version: 2}}
	overridden := loan(model.StatusApprovalPending, 10_00_000_00, RecommendDecline)
	overridden.Approvals = []model.Approval{{By: admin.Email, Version: 2, Reason: OverridePrefix + "salary slip verified"}}

	approve := func(why string) []Unavailable {
		return []Unavailable{{To: model.StatusApproved, Label: "Approve", Why: why}}
	}
	approveSecond := func(why string) []Unavailable {
		return []Unavailable{{To: model.StatusApproved, Label: "Give second approval", Why: why}}
	}
	for _, tc := range []struct {
		name  string
		actor auth.User
		loan  model.Loan
		want  []Unavailable
	}{
		{"DecidedHasNoMoves", viewer, loan(model.StatusDisbursed, 10_00_000_00, ""), nil},
		{"RejectedHasNoMoves", uw, loan(model.StatusRejected, 10_00_000_00, ""), nil},
		{"ViewerGetsOneEntry", viewer, loan(model.StatusUnderReview, 10_00_000_00, ""),
			[]Unavailable{{Why: "Your role can view this application but not change its status: admins and underwriters do."}}},
		{"AboveTheUnderwritersLimit", uw, loan(model.StatusUnderReview, 25_00_000_01, RecommendApprove),
			approve("Underwriters approve up to ₹25,00,000; this one needs an admin.")},
		{"AtTheLimitNothingWithheld", uw, loan(model.StatusUnderReview, 25_00_000_00, RecommendApprove), nil},
		{"NoScoreIsOffered", uw, loan(model.StatusUnderReview, 10_00_000_00, ""), nil},
		{"TheMakerMayNotApprove", auth.User{Email: "maker@example.in", Role: auth.RoleUnderwriter}, loan(model.StatusUnderReview, 10_00_000_00, RecommendApprove),
			approve("Maker-checker: you filed this application (version 1); someone else must approve it.")},
		{"DeclinedTakesAnAdmin", uw, loan(model.StatusUnderReview, 10_00_000_00, RecommendDecline),
			approve("The scorecard declined this application: only an admin can approve it, giving a reason.")},
		{"AnAdminMayOverrideADecline", admin, loan(model.StatusUnderReview, 10_00_000_00, RecommendDecline), nil},
		{"AnOpenWarningIsOffered", uw, flagged, nil},
		{"OnlyAnAdminSanctions", uw, loan(model.StatusApproved, 10_00_000_00, RecommendApprove),
			[]Unavailable{{To: model.StatusSanctioned, Label: "Sanction", Why: "Only an admin sanctions a loan."}}},
		{"TheFirstApproverGivesNoSecond", admin, pending,
			approveSecond("You gave the first approval: the second must come from someone else.")},
		{"AnotherAdminGivesTheSecond", auth.User{Email: "asha@example.in", Role: auth.RoleAdmin}, pending, nil},
		{"AnUnderwriterAboveTheLimitGivesNoSecond", uw, pending, approveSecond("Underwriters approve up to ₹25,00,000; this one needs an admin.")},
		{"AnOverrideIsConfirmedByAnAdmin", uw, overridden,
			approveSecond("Confirming an override of the scorecard's decline takes an admin.")},
	} {
		if got := s.UnavailableMoves(tc.actor, tc.loan); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: UnavailableMoves = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Only an admin who did not approve a sanctioned, undisbursed loan
// disburses it.
func TestDisburseRefusal(t *testing.T) {
	t.Parallel()
	sanctioned := model.Loan{Status: model.StatusSanctioned, History: []model.LoanChange{
		{Version: 4, By: "second@example.in", FirstApprover: "first@example.in", Fields: []model.FieldChange{{Field: "status", From: model.StatusApprovalPending, To: model.StatusApproved}}},
		{Version: 5, By: "second@example.in", Fields: []model.FieldChange{{Field: "status", From: model.StatusApproved, To: model.StatusSanctioned}}},
	}}
	disbursed := sanctioned
	disbursed.Disbursement = &model.Disbursement{}
	approved := sanctioned
	approved.Status = model.StatusApproved
	admin := func(email string) auth.User { return auth.User{Email: email, Role: auth.RoleAdmin} }
	for _, tc := range []struct {
		name  string
		actor auth.User
		loan  model.Loan
		want  string
	}{
		{"AnotherAdmin", admin("third@example.in"), sanctioned, ""},
		{"AnUnderwriter", auth.User{Email: "third@example.in", Role: auth.RoleUnderwriter}, sanctioned, "Only an admin who did not approve this loan disburses it; your role cannot."},
		{"TheFirstApprover", admin("first@example.in"), sanctioned, "Maker-checker: you approved this loan; another admin disburses it."},
		{"TheSecondApprover", admin("second@example.in"), sanctioned, "Maker-checker: you approved this loan; another admin disburses it."},
		{"NotSanctionedYet", auth.User{Email: "third@example.in", Role: auth.RoleUnderwriter}, approved, ""},
		{"AlreadyDisbursed", admin("first@example.in"), disbursed, ""},
	} {
		if got := DisburseRefusal(tc.actor, tc.loan); got != tc.want {
			t.Errorf("%s: DisburseRefusal = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A Forbidden error names the reason; India Standard Time, where a host
// has no zone database, is UTC+05:30 (19,800 s).
func TestForbiddenErrorAndFixedIST(t *testing.T) {
	t.Parallel()
	if got := (&Forbidden{Reason: "Only an admin sanctions a loan."}).Error(); got != "application: forbidden: Only an admin sanctions a loan." {
		t.Errorf("Forbidden.Error() = %q", got)
	}
	if name, offset := time.Date(2026, 12, 1, 0, 0, 0, 0, fixedIST()).Zone(); name != "IST" || offset != 19_800 {
		t.Errorf("fixedIST: %s %d s, want IST 19800 s", name, offset)
	}
}
