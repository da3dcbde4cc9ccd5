package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/model"
	"loandesk/money"
	"loandesk/views"
)

// keyFacts are l's repayment schedule and Key Fact Statement figures, the
// first instalment due as the loan fixes it or provisionally from today
// in the lender's zone.
func (a *App) keyFacts(l model.Loan) (application.KeyFacts, bool) {
	p, _ := application.ProductByName(l.Terms.Product)
	today := a.now().In(a.zone())
	return application.KeyFactsOf(l.Terms, p, application.FirstDue(l, today)), l.FirstEMIDate.IsZero()
}

func (a *App) scheduleView(ctx context.Context, l model.Loan) views.ScheduleView {
	k, provisional := a.keyFacts(l)
	p, _ := application.ProductByName(l.Terms.Product)
	s := views.ScheduleView{
		HumanID: l.HumanID, Applicant: l.Applicant.Name, Product: p.Label,
		Amount: money.FormatINR(k.Amount), Rate: application.Display("annualRate", application.ValuesOf(l)["annualRate"]),
		Tenure: fmt.Sprintf("%d months", k.TenureMonths), Instalments: strconv.Itoa(len(k.Schedule.Rows)), FirstDue: k.FirstDue.Format("02 Jan 2006"), Provisional: provisional,
		EMI: money.FormatINR(k.EMI), TotalPrincipal: money.FormatINR(k.Schedule.TotalPrincipal), TotalInterest: money.FormatINR(k.Schedule.TotalInterest),
		TotalPaid: money.FormatINR(k.Schedule.TotalPaid), FeeRate: bpsPercent(k.FeeBps), Fee: money.FormatINR(k.ProcessingFee),
		GSTRate: bpsPercent(k.GSTBps), GST: money.FormatINR(k.GST), NetDisbursed: money.FormatINR(k.NetDisbursed), APR: bpsPercent(k.APRBps),
		LoanURL: loanURL(l.HumanID), CSVURL: loanURL(l.HumanID) + "/schedule.csv", KFSURL: loanURL(l.HumanID) + "/kfs",
		Generated: a.formatDateTime(a.now()),
	}
	for _, r := range k.Schedule.Rows {
		s.Rows = append(s.Rows, views.ScheduleRow{
			Number: strconv.Itoa(r.Number), DueDate: r.DueDate.Format("02 Jan 2006"), Amount: money.FormatINR(r.Amount),
			Interest: money.FormatINR(r.Interest), Principal: money.FormatINR(r.Principal), Balance: money.FormatINR(r.Balance),
		})
	}
	if states, ok := a.repaymentStates(ctx, l, k.Schedule); ok {
		today := a.now().In(a.zone())
		s.Repaid, s.DPD = true, strconv.Itoa(application.DaysPastDue(states, today))
		for i, st := range states {
			s.Rows[i].Status = st.Status(today)
		}
	}
	return s
}

// repaymentStates are a disbursed loan's instalments with what was paid
// against each (false before disbursement or when the journal cannot be
// read).
func (a *App) repaymentStates(ctx context.Context, l model.Loan, sched application.Schedule) ([]application.InstalmentState, bool) {
	if l.Disbursement == nil || a.Money == nil {
		return nil, false
	}
	txns, err := a.Money.LedgerTxnsOfLoan(ctx, l.HumanID)
	if err != nil {
		a.Logger.Error("schedule: journal", "loan", l.HumanID, "err", err)
		return nil, false
	}
	return application.Repayments(sched, txns), true
}

// bpsPercent shows basis points as a percentage: 1154 → "11.54 %".
func bpsPercent(bps int) string { return fmt.Sprintf("%d.%02d %%", bps/100, bps%100) }

// ShowSchedule is an application's repayment schedule.
func (a *App) ShowSchedule(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	a.render(w, r, http.StatusOK, views.SchedulePage(a.page(r, l.HumanID+" · Repayment schedule", "loans"), a.scheduleView(r.Context(), l)))
}

// ShowKFS is an application's Key Fact Statement, printable.
func (a *App) ShowKFS(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	a.render(w, r, http.StatusOK, views.KFSPage(a.page(r, l.HumanID+" · Key Fact Statement", "loans"), a.scheduleView(r.Context(), l)))
}

// DownloadSchedule is the schedule as CSV (amounts in rupees with two
// decimals, dates as YYYY-MM-DD), named after the application.
func (a *App) DownloadSchedule(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	k, _ := a.keyFacts(l)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+l.HumanID+`-schedule.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"number", "due_date", "instalment", "interest", "principal", "balance"})
	for _, row := range k.Schedule.Rows {
		_ = cw.Write([]string{strconv.Itoa(row.Number), row.DueDate.Format(time.DateOnly), rupees(row.Amount), rupees(row.Interest), rupees(row.Principal), rupees(row.Balance)})
	}
	_ = cw.Write([]string{"total", "", rupees(k.Schedule.TotalPaid), rupees(k.Schedule.TotalInterest), rupees(k.Schedule.TotalPrincipal), ""})
	cw.Flush()
}

// rupees writes paise with two decimals, no grouping: 1074695 → "10746.95".
func rupees(paise int64) string {
	sign := ""
	if paise < 0 {
		sign, paise = "-", -paise
	}
	return fmt.Sprintf("%s%d.%02d", sign, paise/100, paise%100)
}

// apiSchedule is GET /api/applications/{id}/schedule.
type apiSchedule struct {
	ID             string          `json:"id"`
	Version        int64           `json:"version"`
	FirstDueDate   string          `json:"firstDueDate"`
	Provisional    bool            `json:"provisional"` // the first due date is fixed at disbursement
	EMIPaise       int64           `json:"emiPaise"`
	Rows           []apiInstalment `json:"rows"`
	TotalPrincipal int64           `json:"totalPrincipalPaise"`
	TotalInterest  int64           `json:"totalInterestPaise"`
	TotalPaid      int64           `json:"totalPaidPaise"`
	KeyFacts       apiKeyFacts     `json:"keyFacts"`
	DaysPastDue    *int            `json:"daysPastDue,omitempty"` // disbursed loans
}

type apiInstalment struct {
	Status    string `json:"status,omitempty"` // disbursed loans: paid, part-paid, overdue, due
	PaidPaise int64  `json:"paidPaise,omitempty"`
	Number    int    `json:"number"`
	DueDate   string `json:"dueDate"`
	Amount    int64  `json:"instalmentPaise"`
	Interest  int64  `json:"interestPaise"`
	Principal int64  `json:"principalPaise"`
	Balance   int64  `json:"balancePaise"`
}

type apiKeyFacts struct {
	ProcessingFeeBps   int   `json:"processingFeeBps"`
	ProcessingFeePaise int64 `json:"processingFeePaise"`
	GSTBps             int   `json:"gstBps"`
	GSTPaise           int64 `json:"gstPaise"`
	NetDisbursedPaise  int64 `json:"netDisbursedPaise"`
	APRBps             int   `json:"aprBps"`
}

// APISchedule is GET /api/applications/{id}/schedule: every instalment,
// the totals and the key facts, money in paise.
func (a *App) APISchedule(w http.ResponseWriter, r *http.Request) {
	l, err := a.Loans.LoanGet(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.apiLoanError(w, r, err)
		return
	}
	k, provisional := a.keyFacts(l)
	out := apiSchedule{
		ID: l.HumanID, Version: l.Version, FirstDueDate: k.FirstDue.Format(time.DateOnly), Provisional: provisional, EMIPaise: k.EMI,
		Rows: make([]apiInstalment, 0, len(k.Schedule.Rows)), TotalPrincipal: k.Schedule.TotalPrincipal, TotalInterest: k.Schedule.TotalInterest,
		TotalPaid: k.Schedule.TotalPaid,
		KeyFacts: apiKeyFacts{ProcessingFeeBps: k.FeeBps, ProcessingFeePaise: k.ProcessingFee, GSTBps: k.GSTBps, GSTPaise: k.GST,
			NetDisbursedPaise: k.NetDisbursed, APRBps: k.APRBps},
	}
	for _, row := range k.Schedule.Rows {
		out.Rows = append(out.Rows, apiInstalment{Number: row.Number, DueDate: row.DueDate.Format(time.DateOnly), Amount: row.Amount,
			Interest: row.Interest, Principal: row.Principal, Balance: row.Balance})
	}
	if states, ok := a.repaymentStates(r.Context(), l, k.Schedule); ok {
		today := a.now().In(a.zone())
		dpd := application.DaysPastDue(states, today)
		out.DaysPastDue = &dpd
		for i, st := range states {
			out.Rows[i].Status, out.Rows[i].PaidPaise = st.Status(today), st.InterestPaid+st.PrincipalPaid
		}
	}
	a.writeJSON(w, r, http.StatusOK, out)
}
