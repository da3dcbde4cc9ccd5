package views

import "time"

// UserAdmin is the user management page.
type UserAdmin struct {
	Rows  []UserRow
	Form  UserForm
	Roles []string
}

// UserRow is one user in the list.
type UserRow struct {
	ID      string
	Email   string
	Name    string
	Role    string
	Created string
	// Status is "Active", "Deactivated", with "must change password"
	// or "two-factor on" added.
	Status string
}

// UserForm is the "add a user" form with its field errors.
type UserForm struct {
	Email  string
	Name   string
	Role   string
	Errors map[string]string
}

// UserDetail is an admin's page about one user: who they are, their
// access, what can be done about it, and what was done.
type UserDetail struct {
	ID            string
	Email         string
	Name          string
	Role          string
	Roles         []string
	Active        bool
	MustChange    bool
	TwoFactor     bool
	Created       string
	DeactivatedAt string
	// Self is true on an admin's own page: they cannot deactivate
	// themselves or change their own role.
	Self bool
	// Error is why the last action was refused; TempPassword is a
	// password just set by a reset, shown this once.
	Error        string
	TempPassword string
	Audit        []AuditRow
	// AuditURL is the whole audit log narrowed to this user.
	AuditURL string
	Sessions []SessionRow
}

// AuditLog is the audit log page: entries newest first, and the link to
// the older ones.
type AuditLog struct {
	Rows []AuditRow
	// Target is the user the list is narrowed to, if any.
	Target string
	// Older links to the next page ("" on the last).
	Older string
}

// AuditRow is one entry of the audit log, ready to show.
type AuditRow struct {
	When   string
	Actor  string
	Action string
	Target string
	Detail string
	IP     string
}

// CodeForm is the second step of signing in: the authenticator's code or
// a recovery code.
type CodeForm struct {
	Error string
}

// TwoFactor is the signed-in user's two-factor page: either the
// enrolment (QR code, the secret to type, the confirming code) or what is
// on.
type TwoFactor struct {
	Enrolled     bool
	EnrolledAt   string
	RecoveryLeft int
	// Required: the user's role requires two-factor sign-in and they have
	// none yet, so nothing else opens until they enrol.
	Required bool
	QR       string // a data: URL of the QR code's PNG
	Secret   string // the secret grouped by fours, to type by hand
	Errors   map[string]string
	// RecoveryCodes are shown once, right after enrolment.
	RecoveryCodes []string
}

// SessionRow is one signed-in browser of a user.
type SessionRow struct {
	ID       string
	SignedIn string
	LastSeen string
	IP       string
	Browser  string
	// Current marks the browser looking at the list.
	Current bool
	seen    time.Time
}

// NewSessionRow is a row whose last use was seen (the list's order).
func NewSessionRow(r SessionRow, seen time.Time) SessionRow { r.seen = seen; return r }

// Seen is when the session was last used.
func (r SessionRow) Seen() time.Time { return r.seen }
