package application

import (
	"fmt"
	"strings"

	"loandesk/model"
	"loandesk/money"
)

// DocumentKinds are what an uploaded document can be.
var DocumentKinds = []Choice{
	{"pan", "PAN card"},
	{"income", "Salary slip or ITR"},
	{"bank", "Bank statement"},
	{"other", "Other"},
}

// DocumentKindLabel is a kind's name for people.
func DocumentKindLabel(kind string) string {
	for _, c := range DocumentKinds {
		if c.Value == kind {
			return c.Label
		}
	}
	return kind
}

// Recommendations a scorecard gives.
const (
	RecommendApprove = "approve"
	RecommendRefer   = "refer"
	RecommendDecline = "decline"
)

// Scorecard rules. Points add up to at most 100; some findings decline
// outright whatever the points (a PAN that does not match, repayments
// that would take most of the income).
const (
	approveFrom   = 70   // points from which a clean application is approved
	foirDecline   = 6000 // EMI above 60 % of monthly income (basis points)
	foirComfort   = 4000
	foirTolerable = 5000
)

// Score rates an application from its terms, applicant and documents
// (with what OCR read from them) and says why.
func Score(l model.Loan, docs []model.Document) model.LoanScore {
	var s model.LoanScore
	add := func(factor string, points int, format string, args ...any) {
		s.Points += points
		s.Reasons = append(s.Reasons, model.ScoreReason{Factor: factor, Points: points, Detail: fmt.Sprintf(format, args...)})
	}
	refer := false
	decline := false

	// Repayment burden: FOIR, the EMI as a share of monthly income.
	emi := EMI(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps)
	income := l.Applicant.MonthlyIncome
	if income <= 0 {
		refer = true
		add("foir", 0, "No monthly income on the application: the EMI of %s cannot be weighed.", money.FormatINR(emi))
	} else {
		s.FOIRBps = int(emi * 10000 / income)
		foir := fmt.Sprintf("EMI %s is %s of the monthly income %s", money.FormatINR(emi), percent(s.FOIRBps), money.FormatINR(income))
		switch {
		case s.FOIRBps <= foirComfort:
			add("foir", 30, "%s (at most 40 %%).", foir)
		case s.FOIRBps <= foirTolerable:
			add("foir", 20, "%s (40–50 %%).", foir)
		case s.FOIRBps <= foirDecline:
			add("foir", 5, "%s (50–60 %%): little room left.", foir)
		default:
			decline = true
			add("foir", 0, "%s: above 60 %%, repayments would take most of it.", foir)
		}
	}

	// Size of the loan against a year's income.
	if income > 0 {
		times := float64(l.Terms.Amount) / float64(income*12)
		switch {
		case times <= 3:
			add("amount", 20, "The amount is %.1f× the yearly income (at most 3×).", times)
		case times <= 5:
			add("amount", 10, "The amount is %.1f× the yearly income (3–5×).", times)
		default:
			refer = true
			add("amount", 0, "The amount is %.1f× the yearly income (above 5×).", times)
		}
	}

	// Employment.
	switch l.Applicant.Employment {
	case "salaried":
		add("employment", 15, "Salaried.")
	case "business":
		add("employment", 10, "Business owner.")
	case "self_employed":
		add("employment", 8, "Self-employed.")
	default:
		refer = true
		add("employment", 0, "No employment on the application.")
	}

	// Documents: identity and income proven, and read.
	have := map[string]bool{}
	for _, d := range docs {
		if d.Status == model.DocumentDone {
			have[d.Kind] = true
		}
	}
	var missing []string
	for _, kind := range []string{"pan", "income", "bank"} {
		if have[kind] {
			add("documents", 5, "%s received and read.", DocumentKindLabel(kind))
		} else {
			missing = append(missing, strings.ToLower(DocumentKindLabel(kind)))
		}
	}
	if len(missing) > 0 {
		refer = true
		add("documents", 0, "Missing or not yet read: %s.", strings.Join(missing, ", "))
	}

	// OCR consistency: the PAN read off the documents against the
	// application's.
	want := strings.ToUpper(strings.TrimSpace(l.Applicant.PAN))
	var found, mismatched []string
	for _, d := range docs {
		if d.OCR == nil || d.OCR.PAN == "" {
			continue
		}
		if d.OCR.PAN == want {
			found = append(found, d.Filename)
		} else {
			mismatched = append(mismatched, fmt.Sprintf("%s shows %s", d.Filename, d.OCR.PAN))
		}
	}
	switch {
	case len(mismatched) > 0:
		decline = true
		add("pan_match", 0, "PAN mismatch: the application says %s, but %s.", want, strings.Join(mismatched, "; "))
	case len(found) > 0:
		add("pan_match", 20, "PAN %s on the application matches %s.", want, strings.Join(found, ", "))
	default:
		refer = true
		add("pan_match", 0, "No PAN could be read from the documents to check %s against.", want)
	}

	switch {
	case decline:
		s.Recommendation = RecommendDecline
	case s.Points >= approveFrom && !refer:
		s.Recommendation = RecommendApprove
	default:
		s.Recommendation = RecommendRefer
	}
	return s
}

func percent(bps int) string { return fmt.Sprintf("%d.%02d %%", bps/100, bps%100) }

// RecommendationLabel is a recommendation's name for people.
func RecommendationLabel(r string) string {
	switch r {
	case RecommendApprove:
		return "Approve"
	case RecommendRefer:
		return "Refer to an underwriter"
	case RecommendDecline:
		return "Decline"
	}
	return r
}
