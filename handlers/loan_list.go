package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/store"
	"loandesk/views"
)

const loanPageSize = 25

// listQuery is the loan list's state, all of it in the URL so reload,
// back and forward show the same page.
type listQuery struct {
	Status   string
	Q        string
	Assignee string // "", "me", "none" or an email
	Sort     string
	Page     int
}

var sortLabels = []views.Choice{
	{Value: store.SortNewest, Label: "Newest first"},
	{Value: store.SortOldest, Label: "Oldest first"},
	{Value: store.SortUpdated, Label: "Recently updated"},
	{Value: store.SortAmountDesc, Label: "Largest amount"},
	{Value: store.SortAmountAsc, Label: "Smallest amount"},
}

// parseListQuery reads and checks the list's parameters; the message is
// for people.
func parseListQuery(v url.Values) (listQuery, string) {
	q := listQuery{
		Status:   v.Get("status"),
		Q:        strings.TrimSpace(v.Get("q")),
		Assignee: strings.TrimSpace(v.Get("assignee")),
		Sort:     v.Get("sort"),
		Page:     1,
	}
	if _, ok := application.StatusLabels[q.Status]; q.Status != "" && !ok {
		return q, "There is no loan status by that name."
	}
	if q.Sort == "" {
		q.Sort = store.SortNewest
	}
	if !store.ValidLoanSort(q.Sort) {
		return q, "There is no list order by that name."
	}
	if !utf8.ValidString(q.Q) || utf8.RuneCountInString(q.Q) > 100 {
		return q, "Search for at most 100 characters."
	}
	if a := q.Assignee; a != "" && a != "me" && a != store.AssigneeNone && (len(a) > 254 || !strings.Contains(a, "@")) {
		return q, "Filter by a user's email, me or none."
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, "The page must be a positive whole number."
		}
		q.Page = n
	}
	return q, ""
}

// url is the list's address with q's state, changed by set.
func (q listQuery) url(set func(*listQuery)) string {
	if set != nil {
		set(&q)
	}
	v := url.Values{}
	for key, val := range map[string]string{"status": q.Status, "q": q.Q, "assignee": q.Assignee} {
		if val != "" {
			v.Set(key, val)
		}
	}
	if q.Sort != store.SortNewest {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if len(v) == 0 {
		return "/loans"
	}
	return "/loans?" + v.Encode()
}

// filter is q as a store filter, for user.
func (q listQuery) filter(user auth.User) store.LoanFilter {
	f := store.LoanFilter{Status: q.Status, Search: store.SearchTokens(q.Q), Assignee: q.Assignee}
	if q.Assignee == "me" {
		f.Assignee = user.Email
	}
	return f
}

// ShowLoanList renders the loan list: status tabs with counts, search,
// assignee filter, order and pages. htmx requests get the results alone;
// the filter form works as a plain GET form without JavaScript.
func (a *App) ShowLoanList(w http.ResponseWriter, r *http.Request) {
	q, msg := parseListQuery(r.URL.Query())
	if msg != "" {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unknown list settings", msg)
		return
	}
	user, _ := auth.UserFrom(r.Context())
	page, err := a.loanPage(r.Context(), q, user)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	vm := views.LoanList{
		CanFile:   application.CanWork(user.Role),
		Tabs:      listTabs(q, page.Counts),
		Rows:      a.loanRows(page.Loans),
		Total:     page.Total,
		Matching:  page.Matching,
		Query:     q.Q,
		Status:    q.Status,
		Assignee:  q.Assignee,
		Assignees: a.assigneeChoices(r.Context(), q.Assignee),
		Sort:      q.Sort,
		Sorts:     choices(sortLabels, q.Sort),
		Pager:     pager(q, page),
	}
	labelCounts(&vm)
	// The filter form sends every field; htmx pushes the canonical
	// address (defaults left out) so URLs stay short and comparable.
	w.Header().Set("HX-Push-Url", q.url(nil))
	a.respond(w, r, http.StatusOK, views.LoanListResults(vm, true), func() {
		a.render(w, r, http.StatusOK, views.LoanListPage(a.page(r, "Loans", "loans"), vm))
	})
}

// loanPage is one page of the list with the counts around it.
type loanPage struct {
	Loans    []model.Loan
	Counts   map[string]int64 // per status, under the search and assignee
	Total    int64            // under the search and assignee, every status
	Matching int64            // in the chosen tab
	Page     int              // clamped to the last page
	Pages    int
}

func (a *App) loanPage(ctx context.Context, q listQuery, user auth.User) (loanPage, error) {
	f := q.filter(user)
	counts, err := a.Loans.LoanCountByStatus(ctx, f)
	if err != nil {
		return loanPage{}, err
	}
	p := loanPage{Counts: counts}
	for _, c := range counts {
		p.Total += c
	}
	p.Matching = p.Total
	if q.Status != "" {
		p.Matching = counts[q.Status]
	}
	p.Pages = max(1, int((p.Matching+loanPageSize-1)/loanPageSize))
	p.Page = min(q.Page, p.Pages)
	p.Loans, err = a.Loans.LoanList(ctx, store.LoanListParams{
		LoanFilter: f, Sort: q.Sort, Skip: (p.Page - 1) * loanPageSize, Limit: loanPageSize,
	})
	return p, err
}

func listTabs(q listQuery, counts map[string]int64) []views.StatusTab {
	var total int64
	for _, c := range counts {
		total += c
	}
	tabs := []views.StatusTab{{Label: "All", URL: q.url(func(t *listQuery) { t.Status, t.Page = "", 1 }), Count: total, Active: q.Status == ""}}
	for _, st := range model.LoanStatuses {
		tabs = append(tabs, views.StatusTab{
			Label:  application.StatusLabels[st],
			URL:    q.url(func(t *listQuery) { t.Status, t.Page = st, 1 }),
			Count:  counts[st],
			Active: st == q.Status,
		})
	}
	return tabs
}

func (a *App) loanRows(loans []model.Loan) []views.LoanRow {
	rows := make([]views.LoanRow, 0, len(loans))
	for _, l := range loans {
		rows = append(rows, views.LoanRow{
			HumanID:   l.HumanID,
			Applicant: l.Applicant.Name,
			City:      l.Applicant.City,
			Product:   application.Display("product", l.Terms.Product),
			Amount:    money.FormatINR(l.Terms.Amount),
			Status:    application.StatusLabels[l.Status],
			StatusKey: l.Status,
			Assignee:  l.Assignee,
			Created:   a.formatDate(l.CreatedAt),
		})
	}
	return rows
}

func pager(q listQuery, p loanPage) views.Pager {
	pg := views.Pager{Page: p.Page, Pages: p.Pages}
	if p.Matching > 0 {
		first := int64(p.Page-1)*loanPageSize + 1
		pg.Range = fmt.Sprintf("%d–%d of %d", first, first+int64(len(p.Loans))-1, p.Matching)
	}
	if p.Page > 1 {
		pg.PrevURL = q.url(func(t *listQuery) { t.Page = p.Page - 1 })
	}
	if p.Page < p.Pages {
		pg.NextURL = q.url(func(t *listQuery) { t.Page = p.Page + 1 })
	}
	return pg
}

// assigneeChoices are the assignee filter's options: anyone, me, nobody,
// then every user who works applications.
func (a *App) assigneeChoices(ctx context.Context, selected string) []views.Choice {
	out := []views.Choice{{Value: "", Label: "Anyone"}, {Value: "me", Label: "Assigned to me"}, {Value: store.AssigneeNone, Label: "Unassigned"}}
	for _, u := range a.staff(ctx) {
		out = append(out, views.Choice{Value: u.Email, Label: u.Name})
	}
	return choices(out, selected)
}

// staff are the users applications can be assigned to; on error the list
// is empty (the filters still work by email).
func (a *App) staff(ctx context.Context) []store.User {
	users, err := a.Users.UserListByRole(ctx, auth.RoleAdmin, auth.RoleUnderwriter)
	if err != nil {
		a.Logger.Warn("listing users for the assignee choices failed", "err", err)
		return nil
	}
	return users
}

func choices(cs []views.Choice, selected string) []views.Choice {
	out := make([]views.Choice, len(cs))
	for i, c := range cs {
		c.Selected = c.Value == selected
		out[i] = c
	}
	return out
}
