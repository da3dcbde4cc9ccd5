package application_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/model"
)

// postedMeanwhile is the journal as another attempt leaves it when it
// posts the same disbursement (the same idempotency key) just before this
// attempt does: its own ID, UTR and value date.
type postedMeanwhile struct {
	application.Ledger
	utr   string
	other model.JournalTxn
}

func (p *postedMeanwhile) LedgerPost(ctx context.Context, t model.JournalTxn) error {
	if p.other.ID == "" {
		p.other = t
		p.other.ID, p.other.UTR, p.other.ValueDate = t.ID+"-other", p.utr, t.ValueDate.AddDate(0, 0, -1)
		if err := p.Ledger.LedgerPost(ctx, p.other); err != nil {
			return err
		}
	}
	return p.Ledger.LedgerPost(ctx, t)
}

// Another attempt posted the disbursement between this one's look-up and
// its posting (its lock was lost under it): with the same UTR, that
// posting is the disbursement, recorded with its ID and value date; with
// another UTR the answer is "already disbursed" with that UTR, and this
// attempt records nothing.
func TestService_DisbursePostedMeanwhile(t *testing.T) {
	t.Parallel()
	for _, utr := range []string{"UTIB0000012345", "HDFC0000099999"} {
		t.Run(utr, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			b.seedStaff(t)
			b.clock.Set(time.Date(2026, 12, 10, 11, 0, 0, 0, ist))
			l := sanctioned(t, b, "ABCPI1234K")
			ledger := &postedMeanwhile{Ledger: b.st, utr: utr}
			b.svc.Ledger = ledger
			res, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
			if txns, _ := b.st.LedgerTxns(ctx); len(txns) != 1 || txns[0].ID != ledger.other.ID {
				t.Fatalf("journal: %+v; want only the other attempt's posting", txns)
			}
			if utr != "UTIB0000012345" {
				var rf *application.Refused
				if !errors.As(err, &rf) || rf.Code != application.CodeAlreadyDisbursed || rf.Message != "Already disbursed (UTR HDFC0000099999)." {
					t.Fatalf("Disburse = %+v, %v; want already disbursed with the other UTR", res, err)
				}
				if got, _ := b.st.LoanGet(ctx, l.HumanID); got.Status != model.StatusSanctioned || got.Disbursement != nil {
					t.Fatalf("recorded %s, %+v; want nothing recorded by this attempt", got.Status, got.Disbursement)
				}
				return
			}
			d := res.Loan.Disbursement
			if err != nil || res.Loan.Status != model.StatusDisbursed || d == nil || d.TxnID != ledger.other.ID ||
				d.UTR != utr || !d.DisbursedOn.Equal(time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("Disburse = %+v, %v; want the other posting recorded (its ID, value date 9 Dec)", d, err)
			}
		})
	}
}
