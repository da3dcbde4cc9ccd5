package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/store"
	"loandesk/views"
)

const loanPageSize = 25

// pageSizes are the list's page-size choices (the store serves at most 100).
var pageSizes = []int{25, 50, 100}

// listQuery is the loan list's state, all of it in the URL so reload,
// back and forward show the same page.
type listQuery struct {
	Status   string
	Q        string
	Assignee string // "", "me", "none" or an email
	Product  string
	// Min and Max are the amount range as typed (rupees), From and To
	// the submitted-date range (YYYY-MM-DD, days in the lender's zone,
	// both included); narrow is what of them parsed.
	Min, Max string
	From, To string
	// City is a city as typed (compared ignoring case and spacing), Rec
	// a score recommendation (approve, refer, decline or none: not
	// scored) and Days the least whole days in the current status.
	City   string
	Rec    string
	Days   int
	narrow store.LoanNarrowing
	Sort   string
	Size   int
	Page   int
	// Errors are the typed filters that did not parse, by field, for
	// people; those filters are left out of the list.
	Errors map[string]string
}

var sortLabels = []views.Choice{
	{Value: store.SortNewest, Label: "Newest first"},
	{Value: store.SortOldest, Label: "Oldest first"},
	{Value: store.SortUpdated, Label: "Recently updated"},
	{Value: store.SortAmountDesc, Label: "Largest amount"},
	{Value: store.SortAmountAsc, Label: "Smallest amount"},
}

// parseListQuery reads and checks the list's parameters in the lender's
// zone. msg refuses the request (a value no form offers, as a hand-made
// URL might carry); a typed amount or date that does not parse is in
// q.Errors instead, shown beside its field.
func parseListQuery(v url.Values, zone *time.Location) (q listQuery, msg string) {
	q = listQuery{
		Status:   v.Get("status"),
		Q:        strings.TrimSpace(v.Get("q")),
		Assignee: strings.TrimSpace(v.Get("assignee")),
		Product:  v.Get("product"),
		Min:      strings.TrimSpace(v.Get("min")),
		Max:      strings.TrimSpace(v.Get("max")),
		From:     strings.TrimSpace(v.Get("from")),
		To:       strings.TrimSpace(v.Get("to")),
		City:     strings.Join(strings.Fields(v.Get("city")), " "),
		Rec:      v.Get("score"),
		Sort:     v.Get("sort"),
		Size:     loanPageSize,
		Page:     1,
	}
	if _, ok := application.StatusLabels[q.Status]; q.Status != "" && !ok {
		return q, "There is no loan status by that name."
	}
	if _, ok := application.ProductByName(q.Product); q.Product != "" && !ok {
		return q, "There is no loan product by that name."
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
	if !slices.ContainsFunc(recommendationLabels, func(c views.Choice) bool { return c.Value == q.Rec }) {
		return q, "There is no score recommendation by that name."
	}
	if d := v.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > maxDaysInStatus {
			return q, "Days in status must be a whole number from 1 to 3650."
		}
		q.Days = n
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, "The page must be a positive whole number."
		}
		q.Page = n
	}
	if sz := v.Get("size"); sz != "" {
		n, err := strconv.Atoi(sz)
		if err != nil || !slices.Contains(pageSizes, n) {
			return q, "Show 25, 50 or 100 applications a page."
		}
		q.Size = n
	}
	for _, typed := range []string{q.Min, q.Max, q.From, q.To} {
		if len(typed) > 40 {
			return q, "An amount or a date is at most 40 characters."
		}
	}
	q.parseNarrowing(zone)
	return q, ""
}

// parseNarrowing reads the amount and date range into q.narrow, and what
// does not parse into q.Errors.
func (q *listQuery) parseNarrowing(zone *time.Location) {
	q.narrow.Product = q.Product
	fail := func(field, msg string) {
		if q.Errors == nil {
			q.Errors = map[string]string{}
		}
		q.Errors[field] = msg
	}
	switch {
	case !utf8.ValidString(q.City) || utf8.RuneCountInString(q.City) > 60:
		fail("city", "Enter a city of at most 60 characters.")
	case q.City != "" && !strings.ContainsFunc(q.City, unicode.IsLetter):
		fail("city", "Enter a city name, like Pune.")
	default:
		q.narrow.City = q.City
	}
	q.narrow.Recommendation = q.Rec
	amount := func(field, typed string) int64 {
		if typed == "" {
			return 0
		}
		paise, err := money.ParseRupees(typed)
		if err != nil || paise == 0 {
			fail(field, "Enter an amount in rupees, like 5,00,000.")
			return 0
		}
		return paise
	}
	q.narrow.AmountMin, q.narrow.AmountMax = amount("min", q.Min), amount("max", q.Max)
	if q.narrow.AmountMin > 0 && q.narrow.AmountMax > 0 && q.narrow.AmountMax < q.narrow.AmountMin {
		fail("max", "The largest amount is below the smallest.")
		q.narrow.AmountMin, q.narrow.AmountMax = 0, 0
	}
	day := func(field, typed string) time.Time {
		if typed == "" {
			return time.Time{}
		}
		d, err := time.ParseInLocation(time.DateOnly, typed, zone)
		if err != nil || d.Year() < 2000 || d.Year() > 2999 {
			fail(field, "Enter a date like 2026-11-30.")
			return time.Time{}
		}
		return d
	}
	from, to := day("from", q.From), day("to", q.To)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		fail("to", "The last day is before the first.")
		return
	}
	q.narrow.CreatedFrom = from
	if !to.IsZero() {
		q.narrow.CreatedTo = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, zone) // the whole last day
	}
}

// narrowed reports whether q filters beyond the status tab.
func (q listQuery) narrowed() bool {
	return q.Q != "" || q.Assignee != "" || q.Product != "" || q.Min != "" || q.Max != "" || q.From != "" || q.To != "" ||
		q.City != "" || q.Rec != "" || q.Days > 0
}

// url is the list's address with q's state, changed by set.
func (q listQuery) url(set func(*listQuery)) string {
	return "/loans" + q.query(set)
}

// query is q's state as a query string ("?status=…", or "" for the
// defaults), changed by set. Amounts are written back as plain rupees.
// Parameters come in url.Values.Encode's order (sorted by key), written
// directly: a list page links to itself some twenty ways (tabs, sort
// headers, pager, page sizes), and building a map for each was a sixth
// of the page's CPU.
func (q listQuery) query(set func(*listQuery)) string {
	if set != nil {
		set(&q)
	}
	minimum, maximum := q.Min, q.Max
	if q.narrow.AmountMin > 0 {
		minimum = money.FormatRupees(q.narrow.AmountMin)
	}
	if q.narrow.AmountMax > 0 {
		maximum = money.FormatRupees(q.narrow.AmountMax)
	}
	number := func(n, unless int) string {
		if n == unless {
			return ""
		}
		return strconv.Itoa(n)
	}
	page := ""
	if q.Page > 1 {
		page = strconv.Itoa(q.Page)
	}
	days := ""
	if q.Days > 0 {
		days = strconv.Itoa(q.Days)
	}
	given := func(val string) param { return param{val, val != ""} }
	var b []byte
	for _, p := range [...]struct {
		key string
		param
	}{
		{"assignee", given(q.Assignee)}, {"city", given(q.City)}, {"days", given(days)}, {"from", given(q.From)},
		{"max", given(maximum)}, {"min", given(minimum)}, {"page", given(page)}, {"product", given(q.Product)},
		{"q", given(q.Q)}, {"score", given(q.Rec)}, {"size", given(number(q.Size, loanPageSize))},
		{"sort", param{q.Sort, q.Sort != store.SortNewest}}, {"status", given(q.Status)}, {"to", given(q.To)},
	} {
		if !p.written {
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, 64), '?')
		} else {
			b = append(b, '&')
		}
		b = append(append(b, p.key...), '=')
		b = append(b, url.QueryEscape(p.val)...)
	}
	return string(b)
}

// param is a query parameter's value and whether the link carries it.
type param struct {
	val     string
	written bool
}

// filter is q as a store filter, for user at now: at least q.Days days
// in the status is entered at or before now minus q.Days × 24 hours.
func (q listQuery) filter(user auth.User, now time.Time) store.LoanFilter {
	f := store.LoanFilter{Status: q.Status, Search: store.SearchTokens(q.Q), Assignee: q.Assignee, LoanNarrowing: q.narrow}
	if q.Assignee == "me" {
		f.Assignee = user.Email
	}
	if q.Days > 0 {
		f.InStatusBy = now.Add(-time.Duration(q.Days) * 24 * time.Hour)
	}
	return f
}

// maxDaysInStatus bounds the ageing filter (ten years).
const maxDaysInStatus = 3650

// recommendationLabels are the score filter's choices.
var recommendationLabels = []views.Choice{
	{Value: "", Label: "Any score"},
	{Value: "approve", Label: "Approve"},
	{Value: "refer", Label: "Refer"},
	{Value: "decline", Label: "Decline"},
	{Value: store.RecommendationNone, Label: "Not scored"},
}

// dayChoices are the ageing filter's usual choices; another number in the
// URL is offered too.
var dayChoices = []int{1, 3, 7, 14, 30, 60, 90}

// ShowLoanList renders the loan list, the work queue: status tabs with
// counts, search, assignee (my queue, unassigned), product, amount and
// submitted-date ranges, order and page size, all in the URL. htmx
// requests get the results alone; the filter form works as a plain GET
// form without JavaScript. A typed amount or date that does not parse is
// a 422 with its message beside the field and that filter left out.
func (a *App) ShowLoanList(w http.ResponseWriter, r *http.Request) {
	q, msg := parseListQuery(r.URL.Query(), a.zone())
	if msg != "" {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unknown list settings", msg)
		return
	}
	// Without JavaScript the filter form sends every field, the empty
	// ones too (?q=&product=&…): such an address is sent on to its
	// canonical form, as htmx pushes it, so the address bar and bookmarks
	// stay short and comparable. Not when a field is wrong: the form
	// shows the message beside what was typed.
	plain := r.Header.Get("HX-Request") != "true" && len(q.Errors) == 0
	if plain && hasEmptyValue(r.URL.Query()) {
		http.Redirect(w, r, canonicalList(q, r), http.StatusSeeOther)
		return
	}
	user, _ := auth.UserFrom(r.Context())
	vm, err := a.loanListView(r.Context(), q, user, r.URL.Query().Get("select") == "all")
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	// A page past the end shows the last page: its address says so (it
	// kept page=1000000 beside "Page 40 of 40").
	if vm.Pager.Page != q.Page {
		q.Page = vm.Pager.Page
		if plain {
			http.Redirect(w, r, canonicalList(q, r), http.StatusSeeOther)
			return
		}
	}
	status := http.StatusOK
	if len(q.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	// The filter form sends every field; htmx pushes the canonical
	// address (defaults left out) so URLs stay short and comparable.
	w.Header().Set("HX-Push-Url", q.url(nil))
	a.respond(w, r, status, views.LoanListResults(vm, true), func() {
		a.render(w, r, status, views.LoanListPage(a.page(r, "Loans", "loans"), vm))
	})
}

// canonicalList is q's address as htmx pushes it, with r's select=all
// kept (the page with every row ticked).
func canonicalList(q listQuery, r *http.Request) string {
	target := q.url(nil)
	if r.URL.Query().Get("select") == "all" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "select=all"
	}
	return target
}

// hasEmptyValue reports whether a parameter of v is given empty.
func hasEmptyValue(v url.Values) bool {
	for _, vs := range v {
		if slices.Contains(vs, "") {
			return true
		}
	}
	return false
}

// loanListView is the list page for q as user sees it; selectAll ticks
// every row of the bulk form.
func (a *App) loanListView(ctx context.Context, q listQuery, user auth.User, selectAll bool) (views.LoanList, error) {
	page, err := a.loanPage(ctx, q, user, true)
	if err != nil {
		return views.LoanList{}, err
	}
	vm := views.LoanList{
		CanFile:       application.CanWork(user.Role),
		Tabs:          listTabs(q, page.Counts),
		Rows:          a.loanRows(ctx, page.Loans),
		Total:         page.Total,
		Matching:      page.Matching,
		Query:         q.Q,
		SearchIgnored: store.SearchIgnored(q.Q),
		Status:        q.Status,
		Assignee:      q.Assignee,
		Assignees:     a.assigneeChoices(ctx, q.Assignee),
		Sort:          q.Sort,
		Sorts:         choices(sortLabels, q.Sort),
		Pager:         pager(q, page),
		Queue:         queueView(q),
	}
	labelCounts(&vm)
	if application.CanWork(user.Role) {
		sep := "?"
		if strings.Contains(q.url(nil), "?") {
			sep = "&"
		}
		vm.Bulk = &views.BulkAssign{
			Back: q.url(nil), Assignees: a.bulkAssignees(ctx),
			SelectAllURL: q.url(nil) + sep + "select=all", SelectAll: selectAll,
		}
	}
	vm.Queue.ExportURL = "/loans/export.csv" + q.query(func(t *listQuery) { t.Page, t.Size = 1, loanPageSize })
	vm.Queue.ExportXLSXURL = "/loans/export.xlsx" + q.query(func(t *listQuery) { t.Page, t.Size = 1, loanPageSize })
	if page.Matching > exportMaxRows {
		vm.Queue.ExportNote = "The export holds the first " + money.FormatCount(exportMaxRows) + " of " + money.FormatCount(page.Matching) +
			" applications, in this order; narrow the filters to export the rest."
	}
	return vm, nil
}

// queueView is the work queue's part of the list page: the narrowing
// filters as typed, their choices and messages, the column headers'
// sort links and the export link, each carrying the rest of q.
func queueView(q listQuery) views.WorkQueue {
	products := []views.Choice{{Value: "", Label: "Any product"}}
	for _, p := range application.Products {
		products = append(products, views.Choice{Value: p.Name, Label: p.Label})
	}
	var sizes []views.Choice
	for _, n := range pageSizes {
		sizes = append(sizes, views.Choice{Value: strconv.Itoa(n), Label: strconv.Itoa(n) + " a page"})
	}
	days := []views.Choice{{Value: "", Label: "Any time"}}
	ns := slices.Clone(dayChoices)
	if q.Days > 0 && !slices.Contains(ns, q.Days) {
		ns = append(ns, q.Days)
		slices.Sort(ns)
	}
	for _, n := range ns {
		label := strconv.Itoa(n) + " days or more"
		if n == 1 {
			label = "1 day or more"
		}
		days = append(days, views.Choice{Value: strconv.Itoa(n), Label: label})
	}
	wq := views.WorkQueue{
		Products: choices(products, q.Product),
		Min:      q.Min, Max: q.Max, From: q.From, To: q.To, City: q.City,
		Scores:     choices(recommendationLabels, q.Rec),
		Days:       choices(days, strconv.Itoa(q.Days)),
		Sizes:      choices(sizes, strconv.Itoa(q.Size)),
		Errors:     q.Errors,
		Narrowed:   q.narrowed(),
		MyQueue:    q.Assignee == "me",
		MyQueueURL: q.url(func(t *listQuery) { t.Assignee, t.Page = "me", 1 }),
		ClearURL:   q.url(func(t *listQuery) { *t = listQuery{Status: t.Status, Sort: t.Sort, Size: t.Size, Page: 1} }),
	}
	if q.narrow.AmountMin > 0 {
		wq.Min = money.FormatRupees(q.narrow.AmountMin)
	}
	if q.narrow.AmountMax > 0 {
		wq.Max = money.FormatRupees(q.narrow.AmountMax)
	}
	// A header sorts by its column, largest or newest first; clicked
	// again it turns the order round.
	header := func(desc, asc string) views.SortHeader {
		h := views.SortHeader{URL: q.url(func(t *listQuery) { t.Sort, t.Page = desc, 1 })}
		switch q.Sort {
		case desc:
			h.Order, h.URL = "descending", q.url(func(t *listQuery) { t.Sort, t.Page = asc, 1 })
		case asc:
			h.Order = "ascending"
		}
		return h
	}
	wq.AmountSort = header(store.SortAmountDesc, store.SortAmountAsc)
	wq.CreatedSort = header(store.SortNewest, store.SortOldest)
	return wq
}

// loanPage is one page of the list with the counts around it.
type loanPage struct {
	Loans    []model.LoanSummary
	Counts   map[string]int64 // per status, under the search and assignee (tabs only)
	Total    int64            // under the search and assignee, every status (tabs only)
	Matching int64            // in the chosen tab
	Page     int              // clamped to the last page
	Pages    int
}

// loanPage reads one page of the list q asks for. With tabs it counts
// every status (the list page's tabs); without (the API, which shows only
// the total) it counts just the loans matching, once.
func (a *App) loanPage(ctx context.Context, q listQuery, user auth.User, tabs bool) (loanPage, error) {
	f := q.filter(user, a.now())
	var p loanPage
	if tabs {
		counts, err := a.Loans.LoanCountByStatus(ctx, f)
		if err != nil {
			return loanPage{}, err
		}
		p.Counts = counts
		for _, c := range counts {
			p.Total += c
		}
		p.Matching = p.Total
		if q.Status != "" {
			p.Matching = counts[q.Status]
		}
	} else {
		n, err := a.Loans.LoanCountMatching(ctx, f)
		if err != nil {
			return loanPage{}, err
		}
		p.Matching = n
	}
	size := max(q.Size, 1)
	p.Pages = max(1, int((p.Matching+int64(size)-1)/int64(size)))
	p.Page = min(q.Page, p.Pages)
	var err error
	p.Loans, err = a.Loans.LoanList(ctx, store.LoanListParams{
		LoanFilter: f, Sort: q.Sort, Skip: (p.Page - 1) * size, Limit: size,
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

func (a *App) loanRows(ctx context.Context, loans []model.LoanSummary) []views.LoanRow {
	rows := make([]views.LoanRow, 0, len(loans))
	now := a.now()
	names := a.staffNames(ctx) // the short-lived staff list: no query per row
	for _, l := range loans {
		who, email := names.person(l.Assignee)
		rows = append(rows, views.LoanRow{
			HumanID:   l.HumanID,
			Applicant: l.Applicant.Name,
			City:      l.Applicant.City,
			Product:   application.Display("product", l.Terms.Product),
			Amount:    money.FormatINR(l.Terms.Amount),
			Status:    application.StatusLabels[l.Status],
			StatusKey: l.Status,
			Assignee:  who, AssigneeEmail: email,
			Version:  l.Version,
			Created:  a.formatDate(l.CreatedAt),
			InStatus: daysLabel(l.DaysInStatus(now)),
		})
	}
	return rows
}

// daysLabel is a time in status for people: "less than a day", "1 day",
// "12 days".
func daysLabel(n int) string {
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return money.FormatCount(int64(n)) + " days"
}

func pager(q listQuery, p loanPage) views.Pager {
	pg := views.Pager{Page: p.Page, Pages: p.Pages, Size: q.Size}
	if p.Matching > 0 {
		first := int64(p.Page-1)*int64(q.Size) + 1
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
	return choices(append(out, a.choicesOfStaff(ctx).byName...), selected)
}

// bulkAssignees are the bulk form's choices: first a prompt to choose
// (the form starts on it, so Assign selected never assigns to whoever
// happens to sort first), every member of staff, then nobody
// (store.AssigneeNone: unassign).
func (a *App) bulkAssignees(ctx context.Context) []views.Choice {
	staff := a.choicesOfStaff(ctx).withEmail
	out := make([]views.Choice, 0, len(staff)+2)
	out = append(out, views.Choice{Value: "", Label: "Choose who…"})
	return append(append(out, staff...), views.Choice{Value: store.AssigneeNone, Label: "Nobody (unassign)"})
}

// staffChoices are a staff directory's members as choices, made once per
// directory (a new one comes every staffCacheFor at most) instead of on
// every list and loan page: by name (the filter), and by name with the
// e-mail (assigning, where two people may share a name). Shared: callers
// copy before changing (choices does).
type staffChoices struct {
	dir               *store.StaffDirectory
	byName, withEmail []views.Choice
}

func (a *App) choicesOfStaff(ctx context.Context) *staffChoices {
	dir := a.staff(ctx)
	if held := a.staffChoices.Load(); held != nil && held.dir == dir {
		return held
	}
	c := &staffChoices{dir: dir}
	for u := range dir.Users() {
		c.byName = append(c.byName, views.Choice{Value: u.Email, Label: u.Name})
		c.withEmail = append(c.withEmail, views.Choice{Value: u.Email, Label: u.Name + " (" + u.Email + ")"})
	}
	a.staffChoices.Store(c)
	return c
}

// staff are the users applications can be assigned to; on error the list
// is empty (the filters still work by email).
func (a *App) staff(ctx context.Context) *store.StaffDirectory {
	dir, err := a.Users.StaffDirectory(ctx)
	if err != nil {
		a.Logger.Warn("listing users for the assignee choices failed", "err", err)
		return nil
	}
	return dir
}

func choices(cs []views.Choice, selected string) []views.Choice {
	out := make([]views.Choice, len(cs))
	for i, c := range cs {
		c.Selected = c.Value == selected
		out[i] = c
	}
	return out
}
