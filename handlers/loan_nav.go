package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// listContext is the list an application's page was opened from: its
// own ?list= (set on the previous and next links), else the Referer when
// it is this site's list (the row a person clicked). Anything that is
// not a valid list query is no context.
func (a *App) listContext(r *http.Request) (listQuery, bool) {
	raw, ok := r.URL.Query()["list"]
	query := ""
	switch {
	case ok && len(raw) == 1:
		query = raw[0]
	default:
		ref, err := url.Parse(r.Referer())
		if err != nil || ref.Host != r.Host || ref.Path != "/loans" {
			return listQuery{}, false
		}
		query = ref.RawQuery
	}
	if len(query) > 2000 {
		return listQuery{}, false
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return listQuery{}, false
	}
	q, msg := parseListQuery(v, a.zone())
	if msg != "" || len(q.Errors) > 0 {
		return listQuery{}, false
	}
	return q, true
}

// listNav fills d's way back to the list it came from, with its filters,
// and the previous and next applications in that list's order. The
// neighbours come from the page the list showed (and the one before or
// after at its edges); an application no longer on that page (the list
// changed) gets the way back only.
func (a *App) listNav(ctx context.Context, r *http.Request, l model.Loan, user auth.User, d *views.LoanDetail) {
	q, ok := a.listContext(r)
	if !ok {
		return
	}
	d.BackURL = q.url(nil)
	f := q.filter(user, a.now())
	at := func(skip int) (model.LoanSummary, bool) {
		if skip < 0 {
			return model.LoanSummary{}, false
		}
		rows, err := a.Loans.LoanList(ctx, store.LoanListParams{LoanFilter: f, Sort: q.Sort, Skip: skip, Limit: 1})
		if err != nil || len(rows) == 0 {
			return model.LoanSummary{}, false
		}
		return rows[0], true
	}
	size := max(q.Size, 1)
	first := (q.Page - 1) * size
	rows, err := a.Loans.LoanList(ctx, store.LoanListParams{LoanFilter: f, Sort: q.Sort, Skip: first, Limit: size})
	if err != nil {
		a.Logger.Warn("loan page: list neighbours", "loan", l.HumanID, "err", err)
		return
	}
	i := -1
	for j, row := range rows {
		if row.HumanID == l.HumanID {
			i = j
		}
	}
	if i < 0 {
		return
	}
	link := func(n model.LoanSummary, pos int) string {
		page := pos/size + 1
		// The plain list's query is empty: "?list=" still says "from the list".
		return loanURL(n.HumanID) + "?list=" + url.QueryEscape(strings.TrimPrefix(q.query(func(t *listQuery) { t.Page = page }), "?"))
	}
	if i > 0 {
		d.PrevURL, d.PrevID = link(rows[i-1], first+i-1), rows[i-1].HumanID
	} else if p, ok := at(first - 1); ok {
		d.PrevURL, d.PrevID = link(p, first-1), p.HumanID
	}
	if i < len(rows)-1 {
		d.NextURL, d.NextID = link(rows[i+1], first+i+1), rows[i+1].HumanID
	} else if len(rows) == size {
		if n, ok := at(first + size); ok {
			d.NextURL, d.NextID = link(n, first+size), n.HumanID
		}
	}
}
