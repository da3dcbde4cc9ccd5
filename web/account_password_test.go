package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/store"
)

// A user changes their own password: the current one is required, the
// policy applies, and their other sessions end while this one goes on.
func TestPasswordChange_Own(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "asha@example.com", auth.RoleViewer)
	here, there := newClient(t), newClient(t)
	mustLogin(t, here, b.url, "asha@example.com")
	mustLogin(t, there, b.url, "asha@example.com")
	change := func(current, next string) response {
		return postForm(t, here, b.url, "/account/password", url.Values{"current": {current}, "password": {next}})
	}
	if res := get(t, here, b.url+"/account/password"); res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="password-form"`) {
		t.Fatalf("the page: %d", res.status)
	}
	for what, tc := range map[string]struct{ current, next, msg string }{
		"wrong current":  {"not my password", "plum tractor seventy", "not your current password"},
		"common new":     {testPassword, "Password1234", "common or leaked"},
		"built on email": {testPassword, "asha1234asha!", "your own name"},
		"same as now":    {testPassword, testPassword, "other than your current"},
	} {
		res := change(tc.current, tc.next)
		if msg := parse(t, res.body).Find(`[data-testid="field-error"]`).Text(); res.status != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: status %d, message %q, want 422 with %q", what, res.status, msg, tc.msg)
		}
	}
	if res := change(testPassword, "plum tractor seventy"); res.status != http.StatusSeeOther {
		t.Fatalf("change: status %d", res.status)
	}
	if !signedIn(t, here, b.url) {
		t.Fatal("the session that changed the password was signed out")
	}
	if signedIn(t, there, b.url) {
		t.Fatal("the other session is still signed in after the password change")
	}
	if res := login(t, newClient(t), b.url, "asha@example.com", testPassword); res.status != http.StatusUnauthorized {
		t.Fatalf("the old password: status %d", res.status)
	}
	if res := login(t, newClient(t), b.url, "asha@example.com", "plum tractor seventy"); res.status != http.StatusSeeOther {
		t.Fatalf("the new password: status %d", res.status)
	}
}

// A user whose password was set for them (the generated first admin) is
// sent to change it at sign-in and on every page until they have.
func TestPasswordChange_RequiredFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hash, _ := auth.NewHasher(testCost).Hash(testPassword)
	if _, err := b.store.UserCreate(context.Background(), store.UserCreateParams{Email: "admin@localhost", Name: "Administrator", Role: auth.RoleAdmin,
		PasswordHash: hash, MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	if res := login(t, c, b.url, "admin@localhost", testPassword); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
		t.Fatalf("sign-in: %d to %q", res.status, res.header.Get("Location"))
	}
	for _, path := range []string{"/loans", "/admin/users"} {
		if res := get(t, c, b.url+path); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/password" {
			t.Errorf("GET %s: %d to %q, want the password page", path, res.status, res.header.Get("Location"))
		}
	}
	if res := get(t, c, b.url+"/account/password"); !strings.Contains(res.body, `data-testid="password-required"`) {
		t.Fatal("the page does not say the change is required")
	}
	if res := postForm(t, c, b.url, "/account/password", url.Values{"current": {testPassword}, "password": {"plum tractor seventy"}}); res.status != http.StatusSeeOther {
		t.Fatalf("change: %d", res.status)
	}
	if res := get(t, c, b.url+"/admin/users"); res.status != http.StatusOK {
		t.Fatalf("after the change: GET /admin/users %d", res.status)
	}
}

// A password set from outside (ADMIN_PASSWORD at a restart) ends every
// session signed in before.
func TestPasswordChange_FromOutsideEndsSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "boss@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "boss@example.com")
	u, _ := b.store.UserByEmail(context.Background(), "boss@example.com")
	hash, _ := auth.NewHasher(testCost).Hash("a new admin password")
	if err := b.store.UserUpdateAccess(context.Background(), u.ID, auth.RoleAdmin, hash); err != nil {
		t.Fatal(err)
	}
	if signedIn(t, c, b.url) {
		t.Fatal("still signed in after ADMIN_PASSWORD changed the password")
	}
}
