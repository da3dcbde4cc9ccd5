// Package seed makes realistic synthetic loan applications: Indian names
// and cities, valid-format PANs and phone numbers, amounts that fit the
// product and income, and a spread of statuses and dates. The same seed
// gives the same applications.
package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"loandesk/application"
	"loandesk/model"
)

var (
	firstNames = []string{"Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Krishna", "Ishaan", "Rohan",
		"Ananya", "Diya", "Aadhya", "Saanvi", "Priya", "Kavya", "Meera", "Lakshmi", "Pooja", "Sneha",
		"Rahul", "Amit", "Suresh", "Ramesh", "Vikram", "Karthik", "Harpreet", "Gurpreet", "Farhan", "Imran",
		"Neha", "Divya", "Shreya", "Nisha", "Fatima", "Ayesha", "Deepika", "Anjali", "Swati", "Lavanya"}
	lastNames = []string{"Sharma", "Verma", "Gupta", "Iyer", "Nair", "Reddy", "Patel", "Shah", "Mehta", "Singh",
		"Kaur", "Khan", "Das", "Banerjee", "Chatterjee", "Mukherjee", "Rao", "Naidu", "Pillai", "Menon",
		"Joshi", "Kulkarni", "Deshpande", "Agarwal", "Bansal", "Chopra", "Malhotra", "Kapoor", "Sinha", "Mishra"}
	cities = []struct{ City, State, PIN string }{
		{"Mumbai", "Maharashtra", "400"}, {"Pune", "Maharashtra", "411"}, {"Delhi", "Delhi", "110"},
		{"Bengaluru", "Karnataka", "560"}, {"Chennai", "Tamil Nadu", "600"}, {"Hyderabad", "Telangana", "500"},
		{"Kolkata", "West Bengal", "700"}, {"Ahmedabad", "Gujarat", "380"}, {"Jaipur", "Rajasthan", "302"},
		{"Lucknow", "Uttar Pradesh", "226"}, {"Kochi", "Kerala", "682"}, {"Chandigarh", "Chandigarh", "160"},
		{"Indore", "Madhya Pradesh", "452"}, {"Bhubaneswar", "Odisha", "751"}, {"Coimbatore", "Tamil Nadu", "641"},
	}
	streets     = []string{"MG Road", "Station Road", "Gandhi Nagar", "Nehru Street", "Park Street", "Civil Lines", "Anna Salai", "Linking Road", "Brigade Road", "Ring Road"}
	mailDomains = []string{"gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com", "hotmail.com"}
	employments = []string{"salaried", "salaried", "salaried", "self_employed", "business"}
)

// status weights: most applications are early in the workflow.
var statuses = []struct {
	Status string
	Weight int
}{
	{model.StatusSubmitted, 30}, {model.StatusUnderReview, 25}, {model.StatusOnHold, 8}, {model.StatusApprovalPending, 4}, {model.StatusSanctioned, 4},
	{model.StatusApproved, 17}, {model.StatusRejected, 12}, {model.StatusDisbursed, 8},
}

// Generator makes loans from a seeded random source.
type Generator struct {
	rnd *rand.Rand
	now time.Time
}

// NewGenerator returns a generator; the same seed and now give the same
// loans.
func NewGenerator(seed uint64, now time.Time) *Generator {
	return &Generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now.UTC()}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Loan returns one application numbered seq.
func (g *Generator) Loan(seq int64) model.Loan {
	r := g.rnd
	first, last := pick(r, firstNames), pick(r, lastNames)
	city := pick(r, cities)
	p := pick(r, application.Products)
	employment := pick(r, employments)

	// Monthly income ₹20k–₹5L, skewed low; the amount stays affordable.
	incomeRupees := int64(20_000 + r.ExpFloat64()*60_000)
	incomeRupees = min(incomeRupees, 5_00_000) / 500 * 500
	maxByIncome := incomeRupees * int64(p.MaxTenure) / 2
	hi := min(p.MaxAmount, max(p.MinAmount, maxByIncome))
	amountRupees := (p.MinAmount + r.Int64N(hi-p.MinAmount+1)) / 1000 * 1000
	amountRupees = max(amountRupees, p.MinAmount)
	tenure := p.MinTenure + r.IntN((p.MaxTenure-p.MinTenure)/12+1)*12
	rate := (p.MinRateBps + r.IntN(p.MaxRateBps-p.MinRateBps+1)) / 5 * 5

	created := g.now.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour)))).Truncate(time.Millisecond)
	dob := time.Date(g.now.Year()-21-r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	st := weightedStatus(r)
	updated := created.Add(time.Duration(r.Int64N(int64(g.now.Sub(created)) + 1))).Truncate(time.Millisecond)
	var existing int64 // four in ten already repay other loans: up to a quarter of income
	if r.IntN(10) < 4 {
		existing = incomeRupees * int64(r.IntN(26)) / 100 / 100 * 100
	}
	var property int64 // home loans: the property is worth 1.25–2× the amount
	if p.NeedsProperty {
		property = amountRupees * int64(125+r.IntN(76)) / 100 / 1000 * 1000
	}
	var approvals []model.Approval // waiting for a second approver: one has approved
	if st == model.StatusApprovalPending {
		approvals = []model.Approval{{By: "seed", ByName: "Seed approver", At: updated, Version: 1}}
	}

	l := model.Loan{
		HumanID: fmt.Sprintf("LN-%d-%06d", created.Year(), seq),
		Version: 1,
		Status:  st,
		Applicant: model.Applicant{
			Name:          first + " " + last,
			Email:         fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), r.IntN(100), pick(r, mailDomains)),
			Phone:         fmt.Sprintf("+91 %d%04d %05d", 6+r.IntN(4), r.IntN(10_000), r.IntN(100_000)),
			PAN:           PAN(r, last),
			DateOfBirth:   dob,
			Address:       fmt.Sprintf("%d, %s, %s %s%03d", 1+r.IntN(400), pick(r, streets), city.City, city.PIN, r.IntN(100)),
			City:          city.City,
			Employment:    employment,
			MonthlyIncome: incomeRupees * 100,
			ExistingEMIs:  existing * 100,
		},
		Terms: model.LoanTerms{
			Product:       p.Name,
			Amount:        amountRupees * 100,
			TenureMonths:  tenure,
			AnnualRateBps: rate,
			Purpose:       pick(r, p.Purposes),
			PropertyValue: property * 100,
		},
		Approvals: approvals,
		CreatedAt: created,
		CreatedBy: "seed",
		UpdatedAt: updated,
		UpdatedBy: "seed",
		StatusAt:  created,
	}
	if st != model.StatusSubmitted {
		l.StatusAt = updated // moved to its status at its last update
	}
	if st == model.StatusDisbursed {
		l.Disbursement, l.FirstEMIDate = disbursement(l, p, updated, seq)
	}
	return l
}

// disbursement is the payout record of a seeded disbursed loan, paid out
// on the calendar date of at; DisbursementTxn is its journal.
func disbursement(l model.Loan, p application.Product, at time.Time, seq int64) (*model.Disbursement, time.Time) {
	on := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	first := application.AddMonths(on, 1)
	k := application.Charges(l.Terms, p)
	return &model.Disbursement{
		Gross: k.Amount, Fee: k.ProcessingFee, GST: k.GST, Net: k.NetDisbursed, UTR: fmt.Sprintf("SEED%012d", seq),
		DisbursedOn: on, FirstEMIDate: first, TxnID: fmt.Sprintf("TXN-SEED-%012d", seq), By: "seed", At: at,
	}, first
}

// DisbursementTxn is the journal transaction of a seeded disbursed loan.
func DisbursementTxn(l model.Loan) model.JournalTxn {
	d := l.Disbursement
	p, _ := application.ProductByName(l.Terms.Product)
	return model.JournalTxn{
		ID: d.TxnID, Kind: application.TxnDisbursement, IdempotencyKey: application.TxnDisbursement + ":" + l.HumanID, UTR: d.UTR, Seq: 1,
		LoanID: l.HumanID, By: "seed", PostedAt: d.At, ValueDate: d.DisbursedOn, Narration: "Disbursement of " + l.HumanID + " (demo data)",
		Lines: application.DisbursementLines(application.Charges(l.Terms, p)),
	}
}

func weightedStatus(r *rand.Rand) string {
	total := 0
	for _, s := range statuses {
		total += s.Weight
	}
	n := r.IntN(total)
	for _, s := range statuses {
		if n < s.Weight {
			return s.Status
		}
		n -= s.Weight
	}
	return model.StatusSubmitted
}

// PAN returns a valid-format PAN for an individual: three letters, 'P'
// (person), the surname's initial, four digits, a check letter.
func PAN(r *rand.Rand, surname string) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 0, 10)
	for range 3 {
		b = append(b, letters[r.IntN(26)])
	}
	b = append(b, 'P', strings.ToUpper(surname)[0])
	b = append(b, fmt.Sprintf("%04d", r.IntN(10_000))...)
	b = append(b, letters[r.IntN(26)])
	return string(b)
}
