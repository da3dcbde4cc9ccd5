package auth

import (
	"context"
	"testing"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	for _, r := range Roles {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "Admin", "root", "admin "} {
		if ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
	admin, uw := User{Role: RoleAdmin}, User{Role: RoleUnderwriter}
	if !admin.IsAdmin() || uw.IsAdmin() {
		t.Error("IsAdmin is wrong")
	}
	if !uw.HasRole(RoleAdmin, RoleUnderwriter) || uw.HasRole(RoleAdmin, RoleViewer) || uw.HasRole() {
		t.Error("HasRole is wrong")
	}
}

func TestUserInContext(t *testing.T) {
	t.Parallel()
	if _, ok := UserFrom(context.Background()); ok {
		t.Fatal("a user in an empty context")
	}
	u := User{ID: "u1", Email: "asha@example.com", Name: "Asha", Role: RoleViewer}
	if got, ok := UserFrom(WithUser(context.Background(), u)); !ok || got != u {
		t.Fatalf("UserFrom = %+v, %v", got, ok)
	}
}

// A sign-in for an unknown email (a nil hash) does the work of a real
// bcrypt comparison, so its response time cannot tell which emails are
// registered. Counted in allocations, which are deterministic, instead
// of timed: a bcrypt comparison sets up a Blowfish state (several
// allocations); without it Check would allocate next to nothing.
//
// Not parallel: AllocsPerRun counts the whole process's allocations.
func TestHasher_UnknownUserCostsAComparison(t *testing.T) {
	h := NewHasher(4)
	hash, err := h.Hash("the right password")
	if err != nil {
		t.Fatal(err)
	}
	h.Check(nil, "warm up") // the dummy hash is made once
	known := testing.AllocsPerRun(5, func() { h.Check(hash, "a wrong password") })
	unknown := testing.AllocsPerRun(5, func() { h.Check(nil, "a wrong password") })
	// Not equal: the race detector's instrumentation shifts a few
	// allocations between the two paths. Without a comparison Check
	// allocates at most the prehash.
	if unknown*2 < known {
		t.Fatalf("Check of an unknown user allocates %v times, a real comparison %v: the comparison was skipped", unknown, known)
	}
}
