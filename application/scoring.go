package application

import (
	"fmt"
	"math/big"
	"strings"
	"time"

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

// FOIRSlab caps FOIR for monthly incomes up to IncomeUpTo paise (0: any
// income above the previous slab).
type FOIRSlab struct {
	IncomeUpTo int64
	CapBps     int
}

// LTVBand caps the loan-to-value ratio of home loans of amounts up to
// AmountUpTo paise (0: any amount above the previous band).
type LTVBand struct {
	AmountUpTo int64
	MaxBps     int
}

// CreditPolicy is the credit policy the scorecard applies. Each score
// records its Version, so a verdict can be traced to the rules that gave
// it. Money is paise; ratios are basis points, compared exactly.
type CreditPolicy struct {
	Version string
	// ApproveFrom is the points (of 100) from which a clean application
	// is recommended for approval.
	ApproveFrom int
	// FOIRSlabs cap (new EMI + existing EMIs) ÷ monthly income by income,
	// ascending; a product may override them.
	FOIRSlabs []FOIRSlab
	// MaxAgeAtMaturity caps the applicant's age in whole years when the
	// last instalment falls due, by employment.
	MaxAgeAtMaturity map[string]int
	// LTVBands cap home loans' loan-to-value by amount, ascending (the
	// Reserve Bank of India's bands for individual housing loans:
	// Master Circular on Housing Finance, DOR.CRE.REC.No.07/08.12.001/2023-24).
	LTVBands []LTVBand
}

// DefaultCreditPolicy is the policy Loan Desk scores with.
var DefaultCreditPolicy = CreditPolicy{
	Version:     "2026-12",
	ApproveFrom: 70,
	FOIRSlabs: []FOIRSlab{
		{IncomeUpTo: 25_000_00, CapBps: 5000},
		{IncomeUpTo: 75_000_00, CapBps: 5500},
		{IncomeUpTo: 0, CapBps: 6000},
	},
	MaxAgeAtMaturity: map[string]int{"salaried": 60, "self_employed": 65, "business": 65},
	LTVBands: []LTVBand{
		{AmountUpTo: 30_00_000_00, MaxBps: 9000},
		{AmountUpTo: 75_00_000_00, MaxBps: 8000},
		{AmountUpTo: 0, MaxBps: 7500},
	},
}

// FOIR points bands below the cap.
const (
	foirComfort   = 4000 // at most 40 %: 30 points
	foirTolerable = 5000 // at most 50 %: 20 points
)

// FOIRCap is the FOIR cap (bps) for a monthly income under slabs.
func FOIRCap(slabs []FOIRSlab, income int64) int {
	for _, s := range slabs {
		if s.IncomeUpTo == 0 || income <= s.IncomeUpTo {
			return s.CapBps
		}
	}
	return 0
}

// LTVCap is the largest loan-to-value (bps) bands allow for amount.
func LTVCap(bands []LTVBand, amount int64) int {
	for _, b := range bands {
		if b.AmountUpTo == 0 || amount <= b.AmountUpTo {
			return b.MaxBps
		}
	}
	return 0
}

// MaxAmountByLTV is the largest amount (paise) the bands allow against a
// property worth value paise: the largest amount A with A ≤ LTVCap(A) ×
// value (rounded down to the paisa).
func MaxAmountByLTV(bands []LTVBand, value int64) int64 {
	var best, lower int64
	for _, b := range bands {
		a := ratioFloor(value, b.MaxBps)
		if b.AmountUpTo != 0 {
			a = min(a, b.AmountUpTo)
		}
		if a > lower { // within this band (above the one before)
			best = max(best, a)
		}
		lower = b.AmountUpTo
		if lower == 0 {
			break
		}
	}
	return best
}

// ratioFloor is paise × bps ÷ 10,000, rounded down.
func ratioFloor(paise int64, bps int) int64 {
	q := new(big.Int).Mul(big.NewInt(paise), big.NewInt(int64(bps)))
	return q.Quo(q, big.NewInt(10_000)).Int64()
}

// exceeds reports whether part ÷ whole > bps ÷ 10,000, exactly.
func exceeds(part, whole int64, bps int) bool {
	l := new(big.Int).Mul(big.NewInt(part), big.NewInt(10_000))
	r := new(big.Int).Mul(big.NewInt(whole), big.NewInt(int64(bps)))
	return l.Cmp(r) > 0
}

// ratioBps is part ÷ whole in basis points rounded half up, for display.
func ratioBps(part, whole int64) int {
	return int(divHalfUp(new(big.Int).Mul(big.NewInt(part), big.NewInt(10_000)), big.NewInt(whole)))
}

// ProvisionalFirstDue is the first instalment's due date before
// disbursement fixes it: one month after today's calendar date (today in
// the lender's zone).
func ProvisionalFirstDue(today time.Time) time.Time {
	y, m, d := today.Date()
	return AddMonths(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), 1)
}

// FirstDue is the loan's first instalment date: fixed at disbursement, or
// provisional (see ProvisionalFirstDue).
func FirstDue(l model.Loan, today time.Time) time.Time {
	if !l.FirstEMIDate.IsZero() {
		return l.FirstEMIDate
	}
	return ProvisionalFirstDue(today)
}

// Score rates an application under policy on today (in the lender's
// zone) from its terms, applicant and documents (with what OCR read from
// them) and says why. Findings that decline whatever the points: FOIR
// above the income slab's cap, a home loan above its loan-to-value band,
// a PAN that does not match the documents. Findings that refer to an
// underwriter: no income, an amount above 5× yearly income, the age at
// maturity above the cap (with the longest tenure that fits), missing
// documents, no PAN read.
func Score(l model.Loan, docs []model.Document, policy CreditPolicy, today time.Time) model.LoanScore {
	s := model.LoanScore{PolicyVersion: policy.Version}
	add := func(factor string, points int, format string, args ...any) {
		s.Points += points
		s.Reasons = append(s.Reasons, model.ScoreReason{Factor: factor, Points: points, Detail: fmt.Sprintf(format, args...)})
	}
	refer := false
	decline := false
	product, _ := ProductByName(l.Terms.Product)

	// Repayment burden: FOIR, all monthly instalments against income.
	emi := EMI(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps)
	obligations := emi + l.Applicant.ExistingEMIs
	income := l.Applicant.MonthlyIncome
	if income <= 0 {
		refer = true
		add("foir", 0, "No monthly income on the application: the EMI of %s cannot be weighed.", money.FormatINR(emi))
	} else {
		slabs := policy.FOIRSlabs
		if product.FOIRSlabs != nil {
			slabs = product.FOIRSlabs
		}
		capBps := FOIRCap(slabs, income)
		s.FOIRBps = ratioBps(obligations, income)
		foir := fmt.Sprintf("EMI %s + existing EMIs %s is %s of the monthly income %s", money.FormatINR(emi), money.FormatINR(l.Applicant.ExistingEMIs), percent(s.FOIRBps), money.FormatINR(income))
		switch {
		case exceeds(obligations, income, capBps):
			decline = true
			add("foir", 0, "%s: above the %s cap for this income.", foir, percent(capBps))
		case !exceeds(obligations, income, foirComfort):
			add("foir", 30, "%s (at most 40 %%).", foir)
		case !exceeds(obligations, income, foirTolerable):
			add("foir", 20, "%s (40–50 %%).", foir)
		default:
			add("foir", 5, "%s (above 50 %%, within the %s cap): little room left.", foir, percent(capBps))
		}
	}

	// Size of the loan against a year's income.
	if income > 0 {
		yearly := income * 12
		times := amountTimes(l.Terms.Amount, yearly)
		switch {
		case l.Terms.Amount <= 3*yearly:
			add("amount", 20, "The amount is %s× the yearly income (at most 3×).", times)
		case l.Terms.Amount <= 5*yearly:
			add("amount", 10, "The amount is %s× the yearly income (3–5×).", times)
		default:
			refer = true
			add("amount", 0, "The amount is %s× the yearly income (above 5×).", times)
		}
	}

	// Home loans: loan-to-value against the property.
	if product.NeedsProperty {
		value := l.Terms.PropertyValue
		s.MaxAmount = MaxAmountByLTV(policy.LTVBands, value)
		capBps := LTVCap(policy.LTVBands, l.Terms.Amount)
		switch {
		case value <= 0:
			refer = true
			add("ltv", 0, "No property value on the application: loan-to-value cannot be checked.")
		case exceeds(l.Terms.Amount, value, capBps):
			decline = true
			add("ltv", 0, "Loan-to-value %s is above the %s band for %s; the largest eligible amount is %s.",
				percent(ratioBps(l.Terms.Amount, value)), percent(capBps), money.FormatINR(l.Terms.Amount), money.FormatINR(s.MaxAmount))
		default:
			add("ltv", 0, "Loan-to-value %s, within the %s band.", percent(ratioBps(l.Terms.Amount, value)), percent(capBps))
		}
	}

	// Employment, and the age when the last instalment falls due.
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
	if ageCap, ok := policy.MaxAgeAtMaturity[l.Applicant.Employment]; ok && !l.Applicant.DateOfBirth.IsZero() && l.Terms.TenureMonths > 0 {
		first := FirstDue(l, today)
		last := AddMonths(first, l.Terms.TenureMonths-1)
		if age := AgeOn(l.Applicant.DateOfBirth, last); age > ageCap {
			refer = true
			s.MaxTenureMonths = longestTenure(l.Applicant.DateOfBirth, first, l.Terms.TenureMonths, ageCap)
			fits := "no tenure keeps it within the cap"
			if s.MaxTenureMonths > 0 {
				fits = fmt.Sprintf("the longest tenure that fits is %d months", s.MaxTenureMonths)
			}
			add("age", 0, "Aged %d when the last instalment falls due on %s, above the cap of %d: %s.", age, last.Format("02 Jan 2006"), ageCap, fits)
		}
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
	case s.Points >= policy.ApproveFrom && !refer:
		s.Recommendation = RecommendApprove
	default:
		s.Recommendation = RecommendRefer
	}
	return s
}

// longestTenure is the longest tenure up to asked months, first due on
// first, whose last instalment falls due while the applicant (born dob)
// is at most ageCap years old; 0 if none.
func longestTenure(dob, first time.Time, asked, ageCap int) int {
	for n := asked; n >= 1; n-- {
		if AgeOn(dob, AddMonths(first, n-1)) <= ageCap {
			return n
		}
	}
	return 0
}

// ScoreIsCurrent reports whether l's score was taken on what the
// application says now: no change to an application field since the
// version scored (status and assignee changes do not make it stale).
func ScoreIsCurrent(l model.Loan) bool {
	if l.Score == nil {
		return false
	}
	for _, h := range l.History {
		if h.Version <= l.Score.Version {
			continue
		}
		for _, c := range h.Fields {
			if _, ok := FieldByKey(c.Field); ok {
				return false
			}
		}
	}
	return true
}

// amountTimes shows amount ÷ yearly (paise over paise) to two decimals,
// cut, never rounded up past a band's edge: a ratio just over 3 or 5
// that shows as the edge says "over", and one under a hundredth says so
// (a tester saw ₹3,77,000 against ₹42,24,000 a year shown as "0.0×").
func amountTimes(amount, yearly int64) string {
	h := amount * 100 / yearly
	exact := amount*100%yearly == 0
	switch {
	case h == 0 && amount > 0:
		return "under 0.01"
	case !exact && (h == 300 || h == 500):
		return fmt.Sprintf("over %d.%02d", h/100, h%100)
	}
	return fmt.Sprintf("%d.%02d", h/100, h%100)
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
