package application

import (
	"strings"
	"testing"
	"time"

	"loandesk/model"
)

// scoringToday is "now" for the scorecard tests: 15 Dec 2026 in Kolkata.
var scoringToday = time.Date(2026, 12, 15, 10, 0, 0, 0, time.FixedZone("IST", 19800))

// cleanDocs are the three documents, read, with the applicant's PAN.
func cleanDocs(pan string) []model.Document {
	var docs []model.Document
	for _, kind := range []string{"pan", "income", "bank"} {
		docs = append(docs, model.Document{Kind: kind, Filename: kind + ".pdf", Status: model.DocumentDone, OCR: &model.OCRResult{PAN: pan}})
	}
	return docs
}

// applicant builds a salaried applicant born in 1990 asking for a
// personal loan; change what a case needs.
func applicant(income, existing, amount int64, months, bps int) model.Loan {
	return model.Loan{
		Version: 1,
		Applicant: model.Applicant{PAN: "ABCPI1234K", Employment: "salaried", MonthlyIncome: income, ExistingEMIs: existing,
			DateOfBirth: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)},
		Terms: model.LoanTerms{Product: "personal", Amount: amount, TenureMonths: months, AnnualRateBps: bps},
	}
}

func reason(s model.LoanScore, factor string) string {
	for _, r := range s.Reasons {
		if r.Factor == factor {
			return r.Detail
		}
	}
	return ""
}

// The example: income ₹60,000, new EMI ₹10,746.95 (₹5,00,000 at
// 10.50 % over 60 months), existing EMIs ₹25,000: FOIR 59.58 %, above the
// 55 % cap of the ₹25,000–75,000 slab → decline.
func TestScore_FOIRCountsExistingEMIsAgainstTheSlabCap(t *testing.T) {
	t.Parallel()
	l := applicant(60_000_00, 25_000_00, 5_00_000_00, 60, 1050)
	s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
	if s.FOIRBps != 5958 || s.Recommendation != RecommendDecline || s.PolicyVersion != "2026-12" {
		t.Fatalf("FOIR %d bps, %s, policy %q", s.FOIRBps, s.Recommendation, s.PolicyVersion)
	}
	if d := reason(s, "foir"); !strings.Contains(d, "59.58 %") || !strings.Contains(d, "55.00 % cap") || !strings.Contains(d, "₹25,000") {
		t.Errorf("reason %q", d)
	}
	// Without the existing EMIs the same loan is affordable (17.91 %).
	l.Applicant.ExistingEMIs = 0
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); s.FOIRBps != 1791 || s.Recommendation != RecommendApprove {
		t.Fatalf("without existing EMIs: FOIR %d, %s", s.FOIRBps, s.Recommendation)
	}
}

// The cap is compared exactly: at the cap passes, one paisa over
// declines, even where the rounded FOIR shows the cap itself.
func TestScore_FOIRCapIsExact(t *testing.T) {
	t.Parallel()
	emi := EMI(5_00_000_00, 60, 1050) // ₹10,746.95
	for _, tc := range []struct {
		income, existing int64
		decline          bool
	}{
		{1_00_000_00, 60_000_00 - emi, false},       // exactly 60.00 % (above ₹75,000: 60 % cap)
		{1_00_000_00, 60_000_00 - emi + 1, true},    // 60.0000…1 %: shows 60.00 %, still above
		{75_000_00, 41_250_00 - emi, false},         // exactly 55 % at exactly ₹75,000 (55 % slab)
		{75_000_00 + 1, 41_250_00 - emi + 1, false}, // just above ₹75,000: the 60 % slab
		{25_000_00, 12_500_00 - emi, false},         // exactly 50 % at ₹25,000 (50 % slab)
		{25_000_00, 12_500_00 - emi + 1, true},
		{25_000_00 + 1, 12_500_00 - emi + 1, false}, // just above ₹25,000: 55 %
	} {
		s := Score(applicant(tc.income, tc.existing, 5_00_000_00, 60, 1050), cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
		if (s.Recommendation == RecommendDecline) != tc.decline {
			t.Errorf("income %d, obligations %d: %s (FOIR %d bps), want decline %v", tc.income, tc.existing+emi, s.Recommendation, s.FOIRBps, tc.decline)
		}
	}
}

// Approval from 70 points, exactly: 70 approves, 68 refers.
func TestScore_ApproveFromSeventyPoints(t *testing.T) {
	t.Parallel()
	// FOIR above 50 % (5 points) + amount ≤ 3× (20) + documents (15) +
	// PAN match (20) + business (10) = 70.
	l := applicant(1_00_000_00, 45_000_00, 5_00_000_00, 60, 1050) // FOIR 55.75 %
	l.Applicant.Employment = "business"
	s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
	if s.Points != 70 || s.Recommendation != RecommendApprove {
		t.Fatalf("%d points: %s", s.Points, s.Recommendation)
	}
	l.Applicant.Employment = "self_employed" // 8 instead of 10
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); s.Points != 68 || s.Recommendation != RecommendRefer {
		t.Fatalf("%d points: %s", s.Points, s.Recommendation)
	}
}

// The amount band is up to 3× a year's income (20 points), 3–5× (10),
// above 5× refers.
func TestScore_AmountAgainstYearlyIncome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount int64
		points int
		text   string
	}{
		{36_00_000_00, 20, "is 3.00×"}, {36_00_000_01, 10, "is over 3.00×"}, {60_00_000_00, 10, "is 5.00×"}, {60_00_000_01, 0, "is over 5.00×"},
	} {
		l := applicant(1_00_000_00, 0, tc.amount, 60, 1050)
		l.Terms.Product = "business" // up to ₹50,00,000 at 14–26 %; the band does not care
		s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
		for _, r := range s.Reasons {
			if r.Factor == "amount" && (r.Points != tc.points || !strings.Contains(r.Detail, tc.text)) {
				t.Errorf("amount %d: %d points %q, want %d", tc.amount, r.Points, r.Detail, tc.points)
			}
		}
	}
}

// Born 1971-01-01, 360 months asked in December 2026: the last instalment
// would fall due at 59 + 30; salaried applicants are capped at 60, so
// refer with the longest tenure that fits: the first EMI is due 15 Jan
// 2027, the 60th on 15 Dec 2031, at 60; the 61st would be at 61.
func TestScore_AgeAtMaturity(t *testing.T) {
	t.Parallel()
	l := applicant(2_00_000_00, 0, 40_00_000_00, 360, 900)
	l.Terms.Product, l.Terms.PropertyValue = "home", 60_00_000_00
	l.Applicant.DateOfBirth = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
	if s.Recommendation != RecommendRefer || s.MaxTenureMonths != 60 || !strings.Contains(reason(s, "age"), "60 months") {
		t.Fatalf("%s, max tenure %d, %q", s.Recommendation, s.MaxTenureMonths, reason(s, "age"))
	}
	l.Terms.TenureMonths = 60 // exactly the longest that fits
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); reason(s, "age") != "" || s.MaxTenureMonths != 0 {
		t.Fatalf("60 months: %q", reason(s, "age"))
	}
	l.Terms.TenureMonths, l.Applicant.Employment = 120, "self_employed" // capped at 65: 120 months fit (last due Dec 2036, aged 65)
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); reason(s, "age") != "" {
		t.Fatalf("self-employed, 120 months: %q", reason(s, "age"))
	}
	l.Terms.TenureMonths = 121
	if s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday); s.MaxTenureMonths != 120 {
		t.Fatalf("self-employed, 121 months: max %d", s.MaxTenureMonths)
	}
}

// Home loans: the RBI's loan-to-value bands by amount; above → decline,
// naming the largest eligible amount.
func TestScore_LoanToValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount, value, maxAmount int64
		decline                  bool
	}{
		{27_00_000_00, 30_00_000_00, 27_00_000_00, false}, // 90 % of ₹30 lakh: the top of band 1
		{27_00_000_01, 30_00_000_00, 27_00_000_00, true},
		{40_00_000_00, 50_00_000_00, 40_00_000_00, false}, // 80 % in band 2
		{50_00_000_00, 50_00_000_00, 40_00_000_00, true},
		{30_00_000_00, 32_00_000_00, 28_80_000_00, true},    // 93.75 %: 90 % of ₹32 lakh is the most
		{90_00_000_00, 1_20_00_000_00, 90_00_000_00, false}, // 75 % above ₹75 lakh
		{80_00_000_00, 1_00_00_000_00, 75_00_000_00, true},  // 80 % above ₹75 lakh: band 2's top fits
	} {
		l := applicant(5_00_000_00, 0, tc.amount, 240, 900)
		l.Terms.Product, l.Terms.PropertyValue = "home", tc.value
		s := Score(l, cleanDocs("ABCPI1234K"), DefaultCreditPolicy, scoringToday)
		if (s.Recommendation == RecommendDecline) != tc.decline || s.MaxAmount != tc.maxAmount {
			t.Errorf("amount %d on %d: %s, max %d; want decline %v, max %d (%q)", tc.amount, tc.value, s.Recommendation, s.MaxAmount, tc.decline, tc.maxAmount, reason(s, "ltv"))
		}
	}
}

func TestScoreIsCurrent(t *testing.T) {
	t.Parallel()
	l := model.Loan{Version: 4, Score: &model.LoanScore{Version: 2}, History: []model.LoanChange{
		{Version: 2, Fields: []model.FieldChange{{Field: "city"}}},
		{Version: 3, Fields: []model.FieldChange{{Field: "status"}}},
		{Version: 4, Fields: []model.FieldChange{{Field: "assignee"}}},
	}}
	if !ScoreIsCurrent(l) {
		t.Error("status and assignee changes made the score stale")
	}
	l.History = append(l.History, model.LoanChange{Version: 5, Fields: []model.FieldChange{{Field: "amount"}}})
	l.Version = 5
	if ScoreIsCurrent(l) {
		t.Error("an amount change left the score current")
	}
	if ScoreIsCurrent(model.Loan{Version: 1}) {
		t.Error("no score is current")
	}
}
