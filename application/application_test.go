package application

import (
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
)

func TestEMI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount      int64
		months, bps int
		want        int64
	}{
		{1_00_000_00, 12, 1000, 8_791_59}, // ₹1,00,000 at 10 % for a year: ₹8,791.59
		{5_00_000_00, 36, 1150, 16_488_00},
		{1_20_000_00, 12, 0, 10_000_00}, // no interest: equal parts
		{0, 12, 1000, 0},
	} {
		if got := EMI(tc.amount, tc.months, tc.bps); got != tc.want {
			t.Errorf("EMI(%d, %d, %d) = %d, want %d", tc.amount, tc.months, tc.bps, got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	good := map[string]map[string]string{
		"phone":         {"9876543210": "+91 98765 43210", "+91-98765-43210": "+91 98765 43210", "098765 43210": "+91 98765 43210"},
		"pan":           {"abcpv1234k": "ABCPV1234K"},
		"email":         {"Asha@Example.COM": "asha@example.com"},
		"amount":        {"5,00,000": "500000", "2500.5": "2500.50"},
		"annualRate":    {"11.5": "11.50", "9": "9.00"},
		"name":          {"  Asha   Verma-Rao ": "Asha Verma-Rao", "Ñandú O'Neil": "Ñandú O'Neil", "\u0930\u094d\u200d\u092f\u093e": "\u0930\u094d\u200d\u092f\u093e"},
		"dateOfBirth":   {"1990-05-17": "1990-05-17"},
		"tenureMonths":  {"036": "36"},
		"monthlyIncome": {"0": "0"},
	}
	for key, cases := range good {
		f, _ := FieldByKey(key)
		for in, want := range cases {
			if got, p := f.Normalize(in, now); p != nil || got != want {
				t.Errorf("%s %q = %q, %v; want %q", key, in, got, p, want)
			}
		}
	}
	bad := map[string][]string{
		"phone":       {"5876543210", "98765", "98765abcde"},
		"dateOfBirth": {"2010-01-01", "1900-01-01", "1990-02-30"},
		"amount":      {"0", "-1", "abc"},
		"annualRate":  {"-1", "60.01", "abc", "11.555", "1.+5", "-0", "+12.5", "1 .5", "١٢"},
		"pan":         {"\u0131BCPE1234F", "\u017fBCPE1234F", "ABCPE1234"},
		"email":       {"asha\u0131@example.com", "\u0430sha@example.com"}, // dotless i, Cyrillic a (the Kelvin sign is NFC-equal to K)
		"name":        {"Ra\u200bhul", "\u200dRahul"},
		"employment":  {"astronaut"},
		"address":     {"x", "<b>", "a\x00b"},
	}
	for key, cases := range bad {
		f, _ := FieldByKey(key)
		for _, in := range cases {
			if _, p := f.Normalize(in, now); p == nil || p.Code == "" || p.Message == "" {
				t.Errorf("%s %q accepted", key, in)
			}
		}
	}
}

func TestValuesAtAndCompare(t *testing.T) {
	t.Parallel()

	history := []model.LoanChange{
		{Version: 2, Fields: []model.FieldChange{{Field: "city", From: "Pune", To: "Mumbai"}}},
		{Version: 3, Fields: []model.FieldChange{{Field: "amount", From: "500000", To: "600000"}, {Field: "status", From: "submitted", To: "under_review"}}},
	}
	current := Values{"city": "Mumbai", "amount": "600000", "purpose": "Wedding"}
	base, since, ok := ValuesAt(current, 3, history, 1)
	if !ok || len(since) != 2 || base["city"] != "Pune" || base["amount"] != "500000" {
		t.Fatalf("ValuesAt = %v, %d entries, %v", base, len(since), ok)
	}
	if _, _, ok := ValuesAt(current, 3, history[1:], 1); ok {
		t.Error("a gap in the history was not reported")
	}
	cmp := Compare(base, current, Values{"city": "Nagpur", "purpose": "Travel", "amount": "500000"})
	if len(cmp.Theirs) != 2 || len(cmp.Mine) != 2 || cmp.Clashes != 1 || !cmp.Mine[0].Clash || cmp.Mine[0].Key != "city" {
		t.Fatalf("Compare = %+v", cmp)
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := Policy{UnderwriterApprovalLimit: 10_00_000_00}
	for _, tc := range []struct {
		role, from, to string
		amount         int64
		ok             bool
	}{
		{auth.RoleUnderwriter, model.StatusSubmitted, model.StatusUnderReview, 1, true},
		{auth.RoleUnderwriter, model.StatusUnderReview, model.StatusApproved, 10_00_000_00, true},
		{auth.RoleUnderwriter, model.StatusUnderReview, model.StatusApproved, 10_00_000_01, false},
		{auth.RoleAdmin, model.StatusUnderReview, model.StatusApproved, 99_00_000_00, true},
		{auth.RoleViewer, model.StatusSubmitted, model.StatusUnderReview, 1, false},
		{auth.RoleAdmin, model.StatusSubmitted, model.StatusApproved, 1, false},
		{auth.RoleAdmin, model.StatusApproved, model.StatusDisbursed, 1, false},
		{auth.RoleAdmin, model.StatusOnHold, model.StatusUnderReview, 1, true},
		{auth.RoleAdmin, model.StatusRejected, model.StatusUnderReview, 1, false},
	} {
		if err := p.CheckTransition(tc.role, tc.from, tc.to, tc.amount); (err == nil) != tc.ok {
			t.Errorf("%s %s→%s (%d): %v", tc.role, tc.from, tc.to, tc.amount, err)
		}
	}
	if !CanEdit(auth.RoleUnderwriter, model.StatusOnHold) || CanEdit(auth.RoleViewer, model.StatusSubmitted) || CanEdit(auth.RoleAdmin, model.StatusApproved) {
		t.Error("CanEdit")
	}
	if EditRefusal(auth.RoleAdmin, model.StatusSubmitted) != "" || !strings.Contains(EditRefusal(auth.RoleViewer, model.StatusSubmitted), "view") || !strings.Contains(EditRefusal(auth.RoleAdmin, model.StatusApproved), "Approved") {
		t.Error("EditRefusal")
	}
	for key, want := range map[string]string{"pan": "PAN", "status": "Status", "assignee": "Assignee", "other": "other"} {
		if got := Label(key); got != want {
			t.Errorf("Label(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestCheckScore(t *testing.T) {
	decline := &model.LoanScore{Recommendation: RecommendDecline}
	refer := &model.LoanScore{Recommendation: RecommendRefer}
	for _, tc := range []struct {
		role, to string
		score    *model.LoanScore
		reason   string
		recorded string
		refused  bool
	}{
		{auth.RoleUnderwriter, model.StatusApproved, nil, "", "", false},
		{auth.RoleUnderwriter, model.StatusApproved, refer, "", "", false},
		{auth.RoleUnderwriter, model.StatusRejected, decline, "bad PAN", "bad PAN", false},
		{auth.RoleUnderwriter, model.StatusApproved, decline, "fine", "", true},
		{auth.RoleAdmin, model.StatusApproved, decline, "", "", true},
		{auth.RoleAdmin, model.StatusApproved, decline, "letter", OverridePrefix + "letter", false},
	} {
		got, err := CheckScore(tc.role, tc.to, tc.score, tc.reason)
		if (err != nil) != tc.refused || got != tc.recorded {
			t.Errorf("CheckScore(%s, %s, %v, %q) = %q, %v; want %q, refused %v", tc.role, tc.to, tc.score, tc.reason, got, err, tc.recorded, tc.refused)
		}
	}
	for role, want := range map[string]bool{auth.RoleAdmin: true, auth.RoleUnderwriter: true, auth.RoleViewer: false, "": false} {
		if CanWork(role) != want {
			t.Errorf("CanWork(%q) = %v", role, !want)
		}
	}
}

func TestAgeOn(t *testing.T) {
	t.Parallel()
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		dob   string
		today time.Time
		want  int
	}{
		{"2008-11-30", time.Date(2026, 11, 30, 0, 0, 0, 0, ist), 18},   // a birthday today counts (2008 is a leap year)
		{"2008-12-01", time.Date(2026, 11, 30, 23, 59, 0, 0, ist), 17}, // tomorrow does not
		{"2008-12-01", time.Date(2026, 11, 30, 18, 30, 0, 0, time.UTC).In(ist), 18},
		{"2008-02-29", time.Date(2026, 2, 28, 12, 0, 0, 0, ist), 17}, // leap-day birthday: 1 March in common years
		{"2008-02-29", time.Date(2026, 3, 1, 0, 0, 0, 0, ist), 18},
		{"2008-02-29", time.Date(2028, 2, 29, 0, 0, 0, 0, ist), 20},
		{"1990-05-17", time.Date(2026, 5, 16, 0, 0, 0, 0, ist), 35},
		{"1990-05-17", time.Date(2026, 5, 17, 0, 0, 0, 0, ist), 36},
	} {
		if got := AgeOn(day(tc.dob), tc.today); got != tc.want {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", tc.dob, tc.today.Format(time.RFC3339), got, tc.want)
		}
	}
}

// Text is one value whichever Unicode form it was typed in (NFC).
func TestNormalize_UnicodeForms(t *testing.T) {
	t.Parallel()
	name, _ := FieldByKey("name")
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, pair := range [][2]string{
		{"Zoe\u0308 Rao", "Zo\u00eb Rao"},
		{"\u0915\u093c\u093e\u091c\u093c\u0940", "\u0958\u093e\u095b\u0940"}, // क़ाज़ी: letter + nukta, and the precomposed letters
		{"Jose\u0301", "Jos\u00e9"},
	} {
		a, pa := name.Normalize(pair[0], now)
		b, pb := name.Normalize(pair[1], now)
		if pa != nil || pb != nil || a != b {
			t.Errorf("%q and %q normalise to %q (%v) and %q (%v)", pair[0], pair[1], a, pa, b, pb)
		}
	}
	l := model.Loan{}
	l.Applicant.Name = "Zoe\u0308"
	if v := ValuesOf(l)["name"]; v != "Zo\u00eb" {
		t.Errorf("ValuesOf of a decomposed stored name = %q, want NFC", v)
	}
}

// Every status has a label (the list's tabs and filters use them).
func TestStatusLabels_EveryStatus(t *testing.T) {
	t.Parallel()
	for _, st := range model.LoanStatuses {
		if StatusLabels[st] == "" {
			t.Errorf("status %s has no label", st)
		}
	}
}
