package application

import "testing"

// Names for people: document kinds and recommendations by value, anything
// else as it is.
func TestLabels(t *testing.T) {
	t.Parallel()
	for kind, want := range map[string]string{"pan": "PAN card", "income": "Salary slip or ITR", "bank": "Bank statement", "other": "Other", "selfie": "selfie"} {
		if got := DocumentKindLabel(kind); got != want {
			t.Errorf("DocumentKindLabel(%q) = %q, want %q", kind, got, want)
		}
	}
	for r, want := range map[string]string{RecommendApprove: "Approve", RecommendRefer: "Refer to an underwriter", RecommendDecline: "Decline", "maybe": "maybe"} {
		if got := RecommendationLabel(r); got != want {
			t.Errorf("RecommendationLabel(%q) = %q, want %q", r, got, want)
		}
	}
	for bps, want := range map[int]string{0: "0.00 %", 5: "0.05 %", 5958: "59.58 %", 6000: "60.00 %"} {
		if got := percent(bps); got != want {
			t.Errorf("percent(%d) = %q, want %q", bps, got, want)
		}
	}
}

// The product limits' message names them in rupees.
func TestCheckTogether_Messages(t *testing.T) {
	t.Parallel()
	errs := CheckTogether(Values{"product": "personal", "amount": "1", "tenureMonths": "1", "annualRate": "1.00"}, Values{})
	for key, want := range map[string]string{
		"amount":       "A personal loan is between ₹50,000 and ₹40,00,000.",
		"tenureMonths": "A personal loan runs 12 to 60 months.",
		"annualRate":   "A personal loan's rate is 10.50% to 24.00%.",
	} {
		if got := errs[key]; got.Code != CodeOutOfRange || got.Message != want {
			t.Errorf("%s: %+v, want %q", key, got, want)
		}
	}
}
