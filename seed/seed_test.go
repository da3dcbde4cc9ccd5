package seed

import (
	"context"
	"regexp"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/model"
	"loandesk/store"
)

var (
	panPattern   = regexp.MustCompile(`^[A-Z]{3}P[A-Z][0-9]{4}[A-Z]$`)
	phonePattern = regexp.MustCompile(`^\+91 [6-9][0-9]{4} [0-9]{5}$`)
	idPattern    = regexp.MustCompile(`^LN-20[0-9]{2}-[0-9]{6}$`)
)

func TestGenerator_Loan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	t.Run("SameSeedSameLoans", func(t *testing.T) {
		t.Parallel()
		a, b := NewGenerator(7, now), NewGenerator(7, now)
		for i := range int64(50) {
			la, lb := a.Loan(i), b.Loan(i)
			if la.Applicant != lb.Applicant || la.Terms != lb.Terms || la.Status != lb.Status || !la.CreatedAt.Equal(lb.CreatedAt) {
				t.Fatalf("loan %d differs between two generators with one seed", i)
			}
		}
		if NewGenerator(8, now).Loan(1).Applicant == NewGenerator(7, now).Loan(1).Applicant {
			t.Fatal("different seeds gave the same applicant")
		}
	})

	t.Run("FieldsAreRealistic", func(t *testing.T) {
		t.Parallel()
		g := NewGenerator(1, now)
		statuses := map[string]int{}
		for i := range int64(2000) {
			l := g.Loan(i + 1)
			statuses[l.Status]++
			a := l.Applicant
			if !panPattern.MatchString(a.PAN) || a.PAN[4] != a.Name[len(a.Name)-len(lastWord(a.Name))] {
				t.Fatalf("PAN %q for %q", a.PAN, a.Name)
			}
			if !phonePattern.MatchString(a.Phone) {
				t.Fatalf("phone %q", a.Phone)
			}
			if !idPattern.MatchString(l.HumanID) {
				t.Fatalf("id %q", l.HumanID)
			}
			p, ok := application.ProductByName(l.Terms.Product)
			if !ok || l.Terms.Amount < p.MinAmount*100 || l.Terms.Amount > p.MaxAmount*100 || l.Terms.Amount%100 != 0 {
				t.Fatalf("%s amount %d out of range", l.Terms.Product, l.Terms.Amount)
			}
			if l.Terms.TenureMonths < p.MinTenure || l.Terms.TenureMonths > p.MaxTenure || l.Terms.AnnualRateBps < p.MinRateBps || l.Terms.AnnualRateBps > p.MaxRateBps {
				t.Fatalf("%s terms %+v out of range", l.Terms.Product, l.Terms)
			}
			if a.MonthlyIncome < 20_000*100 || a.MonthlyIncome > 5_00_000*100 {
				t.Fatalf("income %d", a.MonthlyIncome)
			}
			age := now.Sub(a.DateOfBirth).Hours() / 24 / 365.25
			if age < 20 || age > 62 {
				t.Fatalf("age %.1f", age)
			}
			if l.CreatedAt.After(now) || l.CreatedAt.Before(now.AddDate(0, 0, -181)) || l.UpdatedAt.Before(l.CreatedAt) || l.UpdatedAt.After(now) {
				t.Fatalf("dates created %s updated %s", l.CreatedAt, l.UpdatedAt)
			}
		}
		for _, st := range model.LoanStatuses {
			if statuses[st] < 50 {
				t.Errorf("status %s only %d times in 2000", st, statuses[st])
			}
		}
	})
}

func lastWord(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == ' ' {
			return name[i+1:]
		}
	}
	return name
}

func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	// Two loads (more than one batch each) never reuse a loan number: the
	// unique index on humanId would refuse the second.
	for range 2 {
		if n, err := Load(ctx, st, BatchSize+7, 3, time.Now()); err != nil || n != BatchSize+7 {
			t.Fatalf("load: %d, %v", n, err)
		}
	}
	if n, err := st.LoanCount(ctx); err != nil || n != 2*(BatchSize+7) {
		t.Fatalf("count = %d, %v", n, err)
	}
	counts, err := st.LoanCountByStatus(ctx, store.LoanFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range counts {
		sum += c
	}
	if sum != 2*(BatchSize+7) {
		t.Fatalf("status counts add up to %d", sum)
	}
	// Every disbursed loan's payout is in the journal, which balances.
	txns, err := st.LedgerTxns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bal := application.AccountBalances(txns)
	var debits, credits int64
	for _, b := range bal {
		debits, credits = debits+b.Debits, credits+b.Credits
	}
	if int64(len(txns)) != counts[model.StatusDisbursed] || debits != credits || debits == 0 {
		t.Fatalf("%d payouts for %d disbursed loans; debits %d, credits %d", len(txns), counts[model.StatusDisbursed], debits, credits)
	}
}
