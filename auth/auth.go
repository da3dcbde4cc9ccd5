// Package auth holds the rules of signing in that need no I/O: password
// policy and hashing, roles and what each may do, and the signed-in user
// carried in a request's context.
package auth

import (
	"context"
)

// Roles, from most to least privileged.
const (
	RoleAdmin       = "admin"
	RoleUnderwriter = "underwriter"
	RoleViewer      = "viewer"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleUnderwriter, RoleViewer}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// User is the signed-in user as the web layer sees it.
type User struct {
	ID    string
	Email string
	Name  string
	Role  string
	// Shared is true for the API token (ADMIN_TOKEN): not a person, so
	// it takes no part in maker-checker (approving, sanctioning, moving
	// money).
	Shared bool
	// MustChangePassword: every page but the password change (and
	// signing out) sends the user there.
	MustChangePassword bool
	// MustEnrolTwoFactor: the user's role signs in with a second factor
	// and they have none yet; every page but the enrolment sends them
	// there.
	MustEnrolTwoFactor bool
}

// IsAdmin reports whether u may manage users and everything else.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// HasRole reports whether u has one of roles.
func (u User) HasRole(roles ...string) bool {
	for _, r := range roles {
		if u.Role == r {
			return true
		}
	}
	return false
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user, if any.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}
