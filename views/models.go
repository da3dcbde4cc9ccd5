// Package views holds the templ components: the layout, pages and the
// partials HTMX swaps. Components take the plain view models below, never
// store types, and do no I/O.
package views

// Assets are the versioned URLs of the static files every page loads.
type Assets struct {
	CSS  string
	HTMX string
	JS   string
	Icon string
}

// Viewer is the signed-in user shown in the navigation.
type Viewer struct {
	Name    string
	Email   string
	Role    string
	IsAdmin bool
}

// Page is what the layout needs for every page.
type Page struct {
	Title  string
	Assets Assets
	Viewer *Viewer // nil when signed out
	Flash  string
	Nav    string // the active navigation entry: "loans", "users"
}

// LoginForm is the sign-in form and its outcome.
type LoginForm struct {
	Email string
	Next  string
	Error string
}

// LoanList is the loan list page.
type LoanList struct {
	Tabs  []StatusTab
	Rows  []LoanRow
	Shown int
	Total int64
}

// StatusTab is one status filter with its count.
type StatusTab struct {
	Label  string
	URL    string
	Count  int64
	Active bool
}

// LoanRow is one loan in the list.
type LoanRow struct {
	HumanID   string
	Applicant string
	City      string
	Product   string
	Amount    string
	Status    string
	StatusKey string
	Created   string
}

// UserAdmin is the user management page.
type UserAdmin struct {
	Rows  []UserRow
	Form  UserForm
	Roles []string
}

// UserRow is one user in the list.
type UserRow struct {
	Email   string
	Name    string
	Role    string
	Created string
}

// UserForm is the "add a user" form with its field errors.
type UserForm struct {
	Email  string
	Name   string
	Role   string
	Errors map[string]string
}

// ErrorInfo is shown on error pages.
type ErrorInfo struct {
	Status    int
	Title     string
	Message   string
	RequestID string
}
