package web_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
)

func parse(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestLoanList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	b.seedLoans(t, 60)
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")

	res := get(t, c, b.url+"/loans")
	doc := parse(t, res.body)
	if n := doc.Find(`[data-testid="loan-row"]`).Length(); n != 25 {
		t.Fatalf("rows = %d, want 25", n)
	}
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="loan-total"]`).Text()), " "); got != "60 applications in all statuses" {
		t.Fatalf("total = %q", got)
	}

	t.Run("StatusTabFiltersAndHtmxGetsAFragment", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, b.url+"/loans?status=approved", nil)
		req.Header.Set("HX-Request", "true")
		res := do(t, c, req)
		if res.status != http.StatusOK || strings.Contains(res.body, "<html") || !strings.Contains(strings.Join(res.header.Values("Vary"), ","), "HX-Request") {
			t.Fatalf("fragment: status %d, whole page %v, vary %q", res.status, strings.Contains(res.body, "<html"), res.header.Values("Vary"))
		}
		doc := parse(t, res.body)
		rows := doc.Find(`[data-testid="loan-row"]`)
		if rows.Length() == 0 {
			t.Fatal("no approved loans among 60")
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			if st := strings.TrimSpace(s.Find(".badge").Text()); st != "Approved" {
				t.Errorf("row with status %q under the Approved tab", st)
			}
		})
		if active := doc.Find(`[aria-current="page"]`).Text(); !strings.HasPrefix(strings.TrimSpace(active), "Approved") {
			t.Errorf("active tab = %q", active)
		}
		// A history restore gets the whole page.
		req.Header.Set("HX-History-Restore-Request", "true")
		if res := do(t, c, req); !strings.Contains(res.body, "<html") {
			t.Error("history restore did not get the whole page")
		}
	})

	t.Run("UnknownStatusIsAClearError", func(t *testing.T) {
		for _, q := range []string{"status=<script>", "status=" + strings.Repeat("x", 5000)} {
			r := get(t, c, b.url+"/loans?"+q)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "no loan status by that name") || strings.Contains(r.body, "<script>") {
				t.Fatalf("%.40s: status %d", q, r.status)
			}
		}
		// A NUL is refused by the router before the list reads it.
		if r := get(t, c, b.url+"/loans?status=approved%00"); r.status != http.StatusBadRequest || strings.Contains(r.body, "approved\x00") {
			t.Fatalf("status=approved%%00: status %d", r.status)
		}
	})

	t.Run("OperatorKeysAreIgnored", func(t *testing.T) {
		// status[$ne]=x is not the status parameter: it never reaches a query.
		r := get(t, c, b.url+"/loans?status[$ne]=x")
		if r.status != http.StatusOK || parse(t, r.body).Find(`[data-testid="loan-row"]`).Length() != 25 {
			t.Fatalf("status %d", r.status)
		}
	})
}

func TestUserAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "admin@example.com")

	t.Run("CreatesAUserWhoCanSignIn", func(t *testing.T) {
		res := postForm(t, c, b.url, "/admin/users", url.Values{"email": {"Ravi@Example.com"}, "name": {"Ravi Kumar"}, "role": {"underwriter"}, "password": {"ravi's copper kettle"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("status %d", res.status)
		}
		page := get(t, c, b.url+"/admin/users")
		if !strings.Contains(page.body, "Added ravi@example.com as underwriter.") || !strings.Contains(page.body, "Ravi Kumar") {
			t.Fatal("new user or flash missing from the list")
		}
		rc := newClient(t)
		if res := login(t, rc, b.url, "ravi@example.com", "ravi's copper kettle"); res.status != http.StatusSeeOther {
			t.Fatalf("new user cannot sign in: %d", res.status)
		}
	})

	t.Run("InvalidInputStoresNothingAndExplains", func(t *testing.T) {
		before := parse(t, get(t, c, b.url+"/admin/users").body).Find(`[data-testid="user-row"]`).Length()
		cases := map[string]struct {
			form  url.Values
			field string
		}{
			"bad email":       {url.Values{"email": {"not-an-email"}, "name": {"X"}, "role": {"viewer"}, "password": {"long enough password"}}, "Enter a valid email"},
			"display name":    {url.Values{"email": {"X <x@example.com>"}, "name": {"X"}, "role": {"viewer"}, "password": {"long enough password"}}, "Enter a valid email"},
			"short password":  {url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"viewer"}, "password": {"short"}}, "at least 12"},
			"long password":   {url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"viewer"}, "password": {strings.Repeat("p", 129)}}, "at most 128"},
			"unknown role":    {url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"superuser"}, "password": {"long enough password"}}, "Choose admin"},
			"operator role":   {url.Values{"email": {"x@example.com"}, "name": {"X"}, "role[$ne]": {"x"}, "password": {"long enough password"}}, "Choose admin"},
			"missing name":    {url.Values{"email": {"x@example.com"}, "name": {" "}, "role": {"viewer"}, "password": {"long enough password"}}, "Enter a name"},
			"huge name":       {url.Values{"email": {"x@example.com"}, "name": {strings.Repeat("n", 5000)}, "role": {"viewer"}, "password": {"long enough password"}}, "at most 100"},
			"duplicate email": {url.Values{"email": {"ADMIN@example.com"}, "name": {"X"}, "role": {"viewer"}, "password": {"long enough password"}}, "already exists"},
		}
		for name, tc := range cases {
			res := postForm(t, c, b.url, "/admin/users", tc.form)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422", name, res.status)
				continue
			}
			msg := parse(t, res.body).Find(`[data-testid="field-error"]`).Text()
			if !strings.Contains(msg, tc.field) {
				t.Errorf("%s: field error %q lacks %q", name, msg, tc.field)
			}
		}
		after := parse(t, get(t, c, b.url+"/admin/users").body).Find(`[data-testid="user-row"]`).Length()
		if after != before {
			t.Fatalf("users went from %d to %d after invalid submissions", before, after)
		}
	})

	t.Run("OutputIsEscaped", func(t *testing.T) {
		res := postForm(t, c, b.url, "/admin/users", url.Values{"email": {"xss@example.com"}, "name": {`<img src=x onerror=alert(1)>`}, "role": {"viewer"}, "password": {"long enough password"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("status %d", res.status)
		}
		page := get(t, c, b.url+"/admin/users")
		if strings.Contains(page.body, "<img src=x") || !strings.Contains(page.body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Fatal("user name rendered unescaped")
		}
	})

	t.Run("HtmxValidationErrorReturnsTheFormOnly", func(t *testing.T) {
		form := url.Values{"email": {"bad"}, "name": {"X"}, "role": {"viewer"}, "password": {"long enough password"}}
		req, _ := http.NewRequest(http.MethodPost, b.url+"/admin/users", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.url)
		req.Header.Set("HX-Request", "true")
		res := do(t, c, req)
		if res.status != http.StatusUnprocessableEntity || strings.Contains(res.body, "<html") || !strings.Contains(res.body, `id="user-form"`) {
			t.Fatalf("status %d, form only: %v", res.status, !strings.Contains(res.body, "<html"))
		}
	})
}

func TestLoanList_SearchFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "uw@example.com", auth.RoleUnderwriter)
	b.seedLoans(t, 60)
	c := newClient(t)
	mustLogin(t, c, b.url, "uw@example.com")
	ctx := context.Background()
	all, err := b.store.LoanList(ctx, store.LoanListParams{Limit: 100})
	if err != nil || len(all) != 60 {
		t.Fatalf("%d loans, %v", len(all), err)
	}
	target, err := b.store.LoanGet(context.Background(), all[17].HumanID) // a row has no PAN, e-mail or phone
	if err != nil {
		t.Fatal(err)
	}
	rows := func(path string) []string {
		t.Helper()
		res := get(t, c, b.url+path)
		if res.status != http.StatusOK {
			t.Fatalf("%s: status %d", path, res.status)
		}
		var ids []string
		parse(t, res.body).Find(`[data-testid="loan-row"] td:first-child`).Each(func(_ int, s *goquery.Selection) {
			ids = append(ids, strings.TrimSpace(s.Text()))
		})
		return ids
	}

	t.Run("SearchFindsByEveryKey", func(t *testing.T) {
		a := target.Applicant
		for _, q := range []string{target.HumanID, strings.ToLower(a.PAN), a.Email, a.Phone, strings.ReplaceAll(a.Phone[4:], " ", ""), a.Name, strings.Fields(a.Name)[0][:3]} {
			ids := rows("/loans?q=" + url.QueryEscape(q))
			if !slices.Contains(ids, target.HumanID) {
				t.Errorf("q=%q: %s not among %v", q, target.HumanID, ids)
			}
		}
		if ids := rows("/loans?q=" + url.QueryEscape("zzqx nobody")); len(ids) != 0 {
			t.Errorf("nonsense search matched %v", ids)
		}
	})

	t.Run("PagesCoverEveryLoanOnce", func(t *testing.T) {
		seen := map[string]bool{}
		for page := 1; page <= 3; page++ {
			for _, id := range rows(fmt.Sprintf("/loans?page=%d", page)) {
				if seen[id] {
					t.Fatalf("%s on two pages", id)
				}
				seen[id] = true
			}
		}
		if len(seen) != 60 {
			t.Fatalf("three pages showed %d loans, want 60", len(seen))
		}
		// A page past the end is the last page, and its address says so.
		res := get(t, c, b.url+"/loans?page=99")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans?page=3" {
			t.Fatalf("page 99: %d %q, want 303 to /loans?page=3", res.status, res.header.Get("Location"))
		}
		res = get(t, c, b.url+res.header.Get("Location"))
		doc := parse(t, res.body)
		if got := doc.Find(`[data-testid="page-of"]`).Text(); got != "Page 3 of 3" || doc.Find(`[data-testid="next-page"]`).Length() != 0 {
			t.Errorf("page 99: %q", got)
		}
		if got := doc.Find(`[data-testid="page-range"]`).Text(); got != "51–60 of 60" {
			t.Errorf("range %q", got)
		}
	})

	t.Run("SortByAmount", func(t *testing.T) {
		ids := rows("/loans?sort=amount_desc")
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(x, y model.LoanSummary) int { return cmp.Compare(y.Terms.Amount, x.Terms.Amount) })
		if ids[0] != want[0].HumanID {
			t.Errorf("largest first: got %s, want %s", ids[0], want[0].HumanID)
		}
	})

	t.Run("AssigneeFilter", func(t *testing.T) {
		next := target
		next.Assignee = "uw@example.com"
		if _, err := b.store.LoanUpdate(ctx, next, model.LoanChange{At: time.Now(), By: "test"}); err != nil {
			t.Fatal(err)
		}
		if ids := rows("/loans?assignee=me"); len(ids) != 1 || ids[0] != target.HumanID {
			t.Errorf("assigned to me: %v", ids)
		}
		if ids := rows("/loans?assignee=none&page=3"); slices.Contains(ids, target.HumanID) || len(ids) != 9 {
			t.Errorf("unassigned, page 3: %d rows", len(ids))
		}
	})

	t.Run("TabsKeepTheSearchAndHtmxUpdatesTheForm", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, b.url+"/loans?q=a&status=approved", nil)
		req.Header.Set("HX-Request", "true")
		res := do(t, c, req)
		doc := parse(t, res.body)
		if doc.Find(`#filter-status[hx-swap-oob="true"]`).AttrOr("value", "") != "approved" {
			t.Error("the fragment does not update the form's status")
		}
		doc.Find(`[data-testid="status-tabs"] a`).Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.AttrOr("href", ""), "q=a") {
				t.Errorf("tab %q drops the search", s.AttrOr("href", ""))
			}
		})
	})

	t.Run("BadParametersAreClearErrors", func(t *testing.T) {
		for _, q := range []string{"sort=price", "page=0", "page=abc", "page=-1", "q=" + strings.Repeat("x", 101), "assignee=bob", "q=%ff"} {
			if r := get(t, c, b.url+"/loans?"+q); r.status != http.StatusBadRequest {
				t.Errorf("%.30s: status %d", q, r.status)
			}
		}
		// Operator-looking searches are just text.
		if r := get(t, c, b.url+"/loans?q="+url.QueryEscape(`{"$ne": null}`)); r.status != http.StatusOK || parse(t, r.body).Find(`[data-testid="loan-row"]`).Length() != 0 {
			t.Errorf("operator search: status %d", r.status)
		}
	})
}
