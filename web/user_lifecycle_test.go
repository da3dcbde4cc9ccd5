package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/store"
)

// lifecycleFixture: two admins and an underwriter, each signed in.
type lifecycleFixture struct {
	*testBundle
	admin, admin2, uw *http.Client
}

func newLifecycleFixture(t *testing.T) lifecycleFixture {
	t.Helper()
	b := setup(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	b.createUser(t, "admin2@example.com", auth.RoleAdmin)
	b.createUser(t, "uw@example.com", auth.RoleUnderwriter)
	f := lifecycleFixture{testBundle: b, admin: newClient(t), admin2: newClient(t), uw: newClient(t)}
	mustLogin(t, f.admin, b.url, "admin@example.com")
	mustLogin(t, f.admin2, b.url, "admin2@example.com")
	mustLogin(t, f.uw, b.url, "uw@example.com")
	return f
}

// userPath is the admin's page of the user with email.
func (f lifecycleFixture) userPath(t *testing.T, email string) string {
	t.Helper()
	u, err := f.store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return "/admin/users/" + u.ID.Hex()
}

func (f lifecycleFixture) user(t *testing.T, email string) store.User {
	t.Helper()
	u, err := f.store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUserLifecycle_Deactivate(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	uwPath := f.userPath(t, "uw@example.com")
	if res := get(t, f.admin, f.url+uwPath); res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="deactivate"`) {
		t.Fatalf("the user's page: %d", res.status)
	}
	oldCookie := sessionCookie(t, f.uw, f.url)

	if res := postForm(t, f.admin, f.url, uwPath+"/active", url.Values{"active": {"false"}}); res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: status %d", res.status)
	}
	// The open browser is signed out at its next request, htmx included.
	req, _ := http.NewRequest(http.MethodGet, f.url+"/loans", nil)
	req.Header.Set("HX-Request", "true")
	if res := do(t, f.uw, req); res.status != http.StatusUnauthorized || res.header.Get("HX-Redirect") == "" {
		t.Fatalf("a deactivated user's htmx request: status %d", res.status)
	}
	if signedIn(t, f.uw, f.url) {
		t.Fatal("a deactivated user is still signed in")
	}
	// The right password no longer signs in, and says why.
	res := login(t, newClient(t), f.url, "uw@example.com", testPassword)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "deactivated") {
		t.Fatalf("a deactivated user's sign-in: status %d", res.status)
	}
	// A wrong password says only what it always says.
	if res := login(t, newClient(t), f.url, "uw@example.com", "not the password"); res.status != http.StatusUnauthorized || strings.Contains(res.body, "deactivated") {
		t.Fatalf("a wrong password of a deactivated user: status %d, or it tells the account is deactivated", res.status)
	}

	// Reactivated: signs in again, but the old session stays ended.
	if res := postForm(t, f.admin, f.url, uwPath+"/active", url.Values{"active": {"true"}}); res.status != http.StatusSeeOther {
		t.Fatalf("reactivate: status %d", res.status)
	}
	stale := newClient(t)
	u, _ := url.Parse(f.url)
	stale.Jar.SetCookies(u, []*http.Cookie{oldCookie})
	if signedIn(t, stale, f.url) {
		t.Fatal("reactivating brought an old session back")
	}
	mustLogin(t, newClient(t), f.url, "uw@example.com")

	// Who did what, when (in the lender's zone) and to whom.
	audit := get(t, f.admin, f.url+"/admin/audit")
	doc := parse(t, audit.body)
	var actions []string
	doc.Find(`[data-testid="audit-action"]`).Each(func(_ int, s *goquery.Selection) { actions = append(actions, s.Text()) })
	want := []string{"Signed in", "Reactivated", "Sign-in refused", "Deactivated"}
	if len(actions) < len(want) || strings.Join(actions[:len(want)], "|") != strings.Join(want, "|") {
		t.Fatalf("audit actions, newest first: %q, want %q first", actions, want)
	}
	row := doc.Find(`[data-testid="audit-row"]`).Eq(3).Text()
	if !strings.Contains(row, "admin@example.com") || !strings.Contains(row, "uw@example.com") || !strings.Contains(row, "IST") {
		t.Fatalf("the deactivation's row %q lacks who, whom or the zone", row)
	}
}

func TestUserLifecycle_RoleChange(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	uwPath := f.userPath(t, "uw@example.com")
	if res := get(t, f.uw, f.url+"/loans/new"); res.status != http.StatusOK {
		t.Fatalf("an underwriter's new-application page: %d", res.status)
	}
	if res := postForm(t, f.admin, f.url, uwPath+"/role", url.Values{"role": {"viewer"}}); res.status != http.StatusSeeOther {
		t.Fatalf("change role: status %d", res.status)
	}
	// Takes effect at the user's next request, in the open session.
	if res := get(t, f.uw, f.url+"/loans/new"); res.status != http.StatusForbidden {
		t.Fatalf("after demotion to viewer: status %d, want 403", res.status)
	}
	if res := postForm(t, f.admin, f.url, uwPath+"/role", url.Values{"role": {"root"}}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown role: status %d", res.status)
	}
	if got := f.user(t, "uw@example.com").Role; got != auth.RoleViewer {
		t.Fatalf("role %q", got)
	}
	page := get(t, f.admin, f.url+uwPath)
	if !strings.Contains(page.body, "role underwriter → viewer") {
		t.Fatal("the user's page does not show the role change in its audit log")
	}
}

func TestUserLifecycle_LastAdmin(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	ctx := context.Background()
	admin2 := f.userPath(t, "admin2@example.com")
	me := f.userPath(t, "admin@example.com")

	// Nobody deactivates or demotes themselves.
	for _, tc := range []struct {
		path string
		form url.Values
	}{{me + "/active", url.Values{"active": {"false"}}}, {me + "/role", url.Values{"role": {"viewer"}}}} {
		if res := postForm(t, f.admin, f.url, tc.path, tc.form); res.status != http.StatusForbidden {
			t.Errorf("%s on oneself: status %d, want 403", tc.path, res.status)
		}
	}

	// Two admins deactivating each other at the same moment: one of them
	// stays.
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, c := range []struct {
		client *http.Client
		path   string
	}{{f.admin, admin2}, {f.admin2, me}} {
		wg.Go(func() {
			<-start
			postForm(t, c.client, f.url, c.path+"/active", url.Values{"active": {"false"}})
		})
	}
	close(start)
	wg.Wait()
	users, err := f.store.UserList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, u := range users {
		if u.Role == auth.RoleAdmin && !u.Deactivated {
			active = append(active, u.Email)
		}
	}
	if len(active) != 1 {
		t.Fatalf("active admins after deactivating each other: %q, want exactly one", active)
	}

	// The store refuses removing the last one whoever asks.
	last := f.user(t, active[0])
	viewer, no := auth.RoleViewer, false
	for _, c := range []store.UserAccessChange{{Role: &viewer}, {Active: &no}} {
		if _, err := f.store.UserChangeAccess(ctx, last.ID, c, last.CreatedAt); !errors.Is(err, store.ErrLastAdmin) {
			t.Errorf("change %+v of the last admin: %v, want ErrLastAdmin", c, err)
		}
	}
	if u := f.user(t, active[0]); u.Role != auth.RoleAdmin || u.Deactivated {
		t.Fatalf("the last admin was changed: %+v", u)
	}
	// With two active admins again, either may be demoted.
	survivor, other := f.admin, admin2
	if active[0] != "admin@example.com" {
		survivor, other = f.admin2, me
	}
	if res := postForm(t, survivor, f.url, other+"/active", url.Values{"active": {"true"}}); res.status != http.StatusSeeOther {
		t.Fatalf("reactivate the other admin: %d", res.status)
	}
	if res := postForm(t, survivor, f.url, other+"/role", url.Values{"role": {"viewer"}}); res.status != http.StatusSeeOther {
		t.Fatalf("demote the other admin: %d", res.status)
	}
}

func TestUserLifecycle_CreatedAndResetUsersChooseTheirPassword(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	res := postForm(t, f.admin, f.url, "/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New Person"}, "role": {"underwriter"}, "password": {"plum tractor seventy"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("add a user: %d", res.status)
	}
	c := newClient(t)
	if res := login(t, c, f.url, "new@example.com", "plum tractor seventy"); res.header.Get("Location") != "/account/password" {
		t.Fatalf("an admin-created user's first sign-in goes to %q, want /account/password", res.header.Get("Location"))
	}
	if res := get(t, c, f.url+"/loans"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
		t.Fatalf("before changing the password: GET /loans %d %q", res.status, res.header.Get("Location"))
	}

	// A reset: a temporary password shown once, the user's sessions end.
	uwPath := f.userPath(t, "uw@example.com")
	res = postForm(t, f.admin, f.url, uwPath+"/password", nil)
	temp := strings.TrimSpace(parse(t, res.body).Find(`[data-testid="temp-password"]`).Text())
	if res.status != http.StatusOK || len(temp) < 12 {
		t.Fatalf("reset: status %d, temporary password %q", res.status, temp)
	}
	// The answer shows the user as the reset left them (found by a
	// check: it listed the session it had just ended) and is not cached.
	if n := parse(t, res.body).Find(`[data-testid="session-row"]`).Length(); n != 0 {
		t.Errorf("the reset's page lists %d sessions, want none", n)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page with the temporary password: Cache-Control %q, want no-store", cc)
	}
	if signedIn(t, f.uw, f.url) {
		t.Fatal("the user's session survived a password reset")
	}
	if res := login(t, newClient(t), f.url, "uw@example.com", testPassword); res.status != http.StatusUnauthorized {
		t.Fatalf("the old password after a reset: %d", res.status)
	}
	if res := login(t, newClient(t), f.url, "uw@example.com", temp); res.header.Get("Location") != "/account/password" {
		t.Fatalf("the temporary password's sign-in goes to %q", res.header.Get("Location"))
	}
	// The temporary password is in no page after it was shown.
	if page := get(t, f.admin, f.url+uwPath); strings.Contains(page.body, temp) {
		t.Fatal("the temporary password is shown again")
	}
}
