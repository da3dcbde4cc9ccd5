package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/auth"
)

// The staff list is answered from memory for staffCacheFor, for the same
// roles only, and never from before a change this process made.
func TestStaffCache_HoldsForItsTimeAndRoles(t *testing.T) {
	t.Parallel()
	var c staffCache
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	staff := []string{auth.RoleAdmin, auth.RoleUnderwriter}
	_, gen, ok := c.get(staff, at)
	if ok {
		t.Fatal("an empty cache answered")
	}
	c.put(staff, newStaffDirectory([]User{{Email: "a@x.com", Name: "A"}}), at, gen)
	for _, tc := range []struct {
		name  string
		roles []string
		now   time.Time
		want  bool
	}{
		{"same instant", staff, at, true},
		{"just before it expires", staff, at.Add(staffCacheFor - time.Nanosecond), true},
		{"when it expires", staff, at.Add(staffCacheFor), false},
		{"a clock that went back", staff, at.Add(-time.Second), false},
		{"other roles", []string{auth.RoleAdmin}, at, false},
	} {
		if got, _, ok := c.get(tc.roles, tc.now); ok != tc.want || (ok && got.Name("a@x.com") != "A") {
			t.Errorf("%s: got %v %v, want held=%v", tc.name, got, ok, tc.want)
		}
	}
	if staffCacheFor != 2*time.Second {
		t.Errorf("staffCacheFor = %v: the README and UserListByRole's doc say 2 s", staffCacheFor)
	}

	// A caller changing what it got does not change what others get.
	got, _, _ := c.get(staff, at)
	for u := range got.Users() {
		u.Email = "changed@x.com"
	}
	if again, _, _ := c.get(staff, at); !again.Has("a@x.com") || again.Has("changed@x.com") {
		t.Errorf("a caller's change reached the cache: %v", again.users)
	}

	// A read that started before a change is not kept after it.
	_, gen, _ = c.get(nil, at)
	c.forget()
	c.put(staff, newStaffDirectory([]User{{Email: "stale@x.com"}}), at, gen)
	if got, _, ok := c.get(staff, at); ok {
		t.Errorf("a list read before forget was kept: %v", got.users)
	}
}

// Every change this process makes to who is staff shows in the very next
// list: a new user, a role change, a deactivation, a bootstrap role set.
func TestStore_UserListByRoleSeesOwnChangesAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	staff := func() []string {
		t.Helper()
		users, err := b.store.UserListByRole(ctx, auth.RoleAdmin, auth.RoleUnderwriter)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range users {
			out = append(out, u.Email+":"+u.Role)
		}
		return out
	}
	admin, err := b.store.UserCreate(ctx, UserCreateParams{Email: "admin@x.com", Name: "A", Role: auth.RoleAdmin, PasswordHash: []byte("h")})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, w ...string) {
		t.Helper()
		if got := staff(); !slices.Equal(got, w) {
			t.Fatalf("after %s: staff %v, want %v", step, got, w)
		}
	}
	want("the first user", "admin@x.com:admin")
	uw, err := b.store.UserCreate(ctx, UserCreateParams{Email: "uw@x.com", Name: "U", Role: auth.RoleViewer, PasswordHash: []byte("h")})
	if err != nil {
		t.Fatal(err)
	}
	want("creating a viewer", "admin@x.com:admin")
	role := auth.RoleUnderwriter
	if _, err := b.store.UserChangeAccess(ctx, uw.ID, UserAccessChange{Role: &role}, time.Now()); err != nil {
		t.Fatal(err)
	}
	want("making them an underwriter", "admin@x.com:admin", "uw@x.com:underwriter")
	if err := b.store.UserUpdateAccess(ctx, uw.ID, auth.RoleAdmin, []byte("h2")); err != nil {
		t.Fatal(err)
	}
	want("the bootstrap role change", "admin@x.com:admin", "uw@x.com:admin")
	off := false
	if _, err := b.store.UserChangeAccess(ctx, admin.ID, UserAccessChange{Active: &off}, time.Now()); err != nil {
		t.Fatal(err)
	}
	users, err := b.store.UserListByRole(ctx, auth.RoleAdmin, auth.RoleUnderwriter)
	if err != nil || len(users) != 2 || !users[0].Deactivated {
		t.Fatalf("after deactivating admin@: %+v %v, want them listed as deactivated", users, err)
	}

	// A change this process did not make (another process sharing the
	// database) shows once the held list expires.
	if _, err := b.store.users.UpdateOne(ctx, bson.M{"_id": uw.ID}, bson.M{"$set": bson.M{"role": auth.RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(staffCacheFor + 2*time.Second)
	for !slices.Equal(staff(), []string{"admin@x.com:admin"}) {
		if time.Now().After(deadline) {
			t.Fatalf("another process's change not seen after %v: %v", staffCacheFor, staff())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The directory names each listed user by e-mail, knows who is listed,
// yields them in the order read, and a nil directory is empty.
func TestStaffDirectory_NamesAndMembers(t *testing.T) {
	t.Parallel()
	d := newStaffDirectory([]User{{Email: "a@x.com", Name: "Asha"}, {Email: "b@x.com"}, {Email: "c@x.com", Name: "Chitra"}})
	for email, want := range map[string]string{"a@x.com": "Asha", "b@x.com": "", "c@x.com": "Chitra", "z@x.com": ""} {
		if got := d.Name(email); got != want {
			t.Errorf("Name(%q) = %q, want %q", email, got, want)
		}
	}
	for email, want := range map[string]bool{"a@x.com": true, "b@x.com": true, "c@x.com": true, "z@x.com": false, "": false} {
		if got := d.Has(email); got != want {
			t.Errorf("Has(%q) = %v, want %v", email, got, want)
		}
	}
	var order []string
	for u := range d.Users() {
		order = append(order, u.Email)
		if u.Email == "b@x.com" {
			break
		}
	}
	if !slices.Equal(order, []string{"a@x.com", "b@x.com"}) {
		t.Errorf("Users() stopped at b@x.com gave %v", order)
	}
	var none *StaffDirectory
	if none.Name("a@x.com") != "" || none.Has("a@x.com") {
		t.Error("a nil directory knows someone")
	}
	for u := range none.Users() {
		t.Errorf("a nil directory yielded %v", u)
	}
}
