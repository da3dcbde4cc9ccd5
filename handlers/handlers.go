// Package handlers turns HTTP requests into store calls and views: parse,
// validate, call the store, then render a page, a partial or JSON. One file
// per area; no MongoDB code here, only the small interfaces below.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/v2"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// Session keys.
const (
	SessionUserID = "userID"
	SessionAuthAt = "authAt" // when the session signed in, Unix milliseconds
	sessionFlash  = "flash"
)

// UserStore is what the handlers need of users.
type UserStore interface {
	UserGet(ctx context.Context, id primitive.ObjectID) (store.User, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UserList(ctx context.Context) ([]store.User, error)
	StaffDirectory(ctx context.Context) (*store.StaffDirectory, error)
	UserCreate(ctx context.Context, p store.UserCreateParams) (store.User, error)
	UserSetPassword(ctx context.Context, id primitive.ObjectID, passwordHash []byte, mustChange bool, at time.Time) error
	UserChangeAccess(ctx context.Context, id primitive.ObjectID, c store.UserAccessChange, at time.Time) (store.User, error)
	UserTOTPEnable(ctx context.Context, id primitive.ObjectID, t store.TOTP) error
	UserTOTPUseStep(ctx context.Context, id primitive.ObjectID, step int64) error
	UserTOTPUseRecovery(ctx context.Context, id primitive.ObjectID, hash string) error
	UserTOTPReset(ctx context.Context, id primitive.ObjectID, at time.Time) error
	UserEndSessions(ctx context.Context, id primitive.ObjectID, at time.Time) error
	UserSessionPut(ctx context.Context, u store.User, sid string, us store.UserSession) error
	UserSessionRevoke(ctx context.Context, id primitive.ObjectID, sid string) error
	UserDeviceIssue(ctx context.Context, userID primitive.ObjectID, id string, drop []string, at, notBefore time.Time) error
	AuditAdd(ctx context.Context, e store.AuditEntry) error
	Audited(ctx context.Context, act func(ctx context.Context) (store.AuditEntry, error)) error
	AuditList(ctx context.Context, p store.AuditListParams) ([]store.AuditEntry, error)
}

// LoanStore is what the handlers need of loans.
type LoanStore interface {
	LoanCountByStatus(ctx context.Context, f store.LoanFilter) (map[string]int64, error)
	LoanCountMatching(ctx context.Context, f store.LoanFilter) (int64, error)
	LoanList(ctx context.Context, p store.LoanListParams) ([]model.LoanSummary, error)
	LoanGet(ctx context.Context, humanID string) (model.Loan, error)
	LoanEach(ctx context.Context, f store.LoanFilter, sort string, limit int, fn func(model.Loan) error) error
}

// Pinger answers whether the database is usable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// App holds the handlers' dependencies.
type App struct {
	Users UserStore
	Loans LoanStore
	// Service is the loan service: every change to a loan goes through it.
	Service  *application.Service
	Work     WorkStore
	Money    MoneyStore
	DB       Pinger
	Sessions *scs.SessionManager
	Hasher   *auth.Hasher
	// Throttle limits sign-in attempts (only failures count).
	Throttle *auth.Throttle
	Policy   application.Policy
	Assets   views.Assets
	Logger   *slog.Logger
	// RequestID returns the id the logging middleware gave the request.
	RequestID func(context.Context) string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Zone is the lender's time zone: dates and times are shown in it,
	// with its abbreviation (UTC when nil).
	Zone *time.Location
	// UploadMaxBytes bounds an uploaded document (DefaultUploadMaxBytes
	// when 0).
	UploadMaxBytes int64
	// TwoFactorRoles are the roles that must sign in with a second
	// factor: their users enrol before anything else opens.
	TwoFactorRoles []string
	// SecureCookies: the site is served over HTTPS, so the device cookie
	// is Secure and __Host- prefixed like the session cookie.
	SecureCookies bool

	// staffChoices holds the assignee choices made from the last staff
	// directory (loan_list.go).
	staffChoices atomic.Pointer[staffChoices]
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// isFragment reports whether htmx asked for a partial: an htmx request
// that is neither boosted nor a history restore (those want whole pages).
// Only respond uses it: page or fragment is decided in one place.
func isFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" &&
		r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// respond answers an htmx partial request with fragment and status, and
// any other request with whole (a full page, a redirect or an error
// page, built only when needed). It is the one place that decides page
// or fragment (cf. pagoda's pkg/ui/request.go).
func (a *App) respond(w http.ResponseWriter, r *http.Request, status int, fragment templ.Component, whole func()) {
	if isFragment(r) {
		a.render(w, r, status, fragment)
		return
	}
	whole()
}

// render writes c with status. Output is buffered so a failing component
// yields a clean error page, never half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		a.ServerError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Add("Vary", "HX-Request")
	// Sent whole, so its length is known: no chunked encoding.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageBuffers hold rendered pages until they are sent whole (so a
// failure midway is a clean error page). Growing a fresh buffer to a
// 30–60 KB page was a third of all the bytes a request allocated.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns buf to the pool, unless it grew past 1 MB (a
// rare page; keeping it would hold that memory for good).
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

// page returns the layout data for r: assets, the signed-in user and the
// pending flash message (which this consumes).
func (a *App) page(r *http.Request, title, nav string) views.Page {
	p := views.Page{Title: title, Assets: a.Assets, Nav: nav}
	if u, ok := auth.UserFrom(r.Context()); ok {
		p.Viewer = &views.Viewer{Name: u.Name, Email: u.Email, Role: u.Role, IsAdmin: u.IsAdmin()}
	}
	if r.Method == http.MethodHead {
		p.Flash = a.Sessions.GetString(r.Context(), sessionFlash) // a HEAD shows nothing: keep it for the GET
	} else {
		p.Flash = a.Sessions.PopString(r.Context(), sessionFlash)
	}
	return p
}

// flash queues msg for the next page the user sees.
func (a *App) flash(r *http.Request, msg string) {
	a.Sessions.Put(r.Context(), sessionFlash, msg)
}

// redirect sends the browser to url after a successful action: a 303 for
// forms, HX-Redirect for htmx requests (which would otherwise swap the
// redirected page into the target).
func (a *App) redirect(w http.ResponseWriter, r *http.Request, url string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", url)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// ErrorPage renders an error page with status and a message for people.
func (a *App) ErrorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	var rid string
	if a.RequestID != nil {
		rid = a.RequestID(r.Context())
	}
	p := views.Page{Title: title, Assets: a.Assets}
	info := views.ErrorInfo{Status: status, Title: title, Message: message, RequestID: rid}
	var buf bytes.Buffer
	if err := views.ErrorPage(p, info).Render(r.Context(), &buf); err != nil {
		http.Error(w, title, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// ServerError logs err with the request's context and shows a generic 500.
func (a *App) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	attrs := []any{"method", r.Method, "uri", r.URL.RequestURI(), "err", err}
	if a.RequestID != nil {
		attrs = append(attrs, "request_id", a.RequestID(r.Context()))
	}
	if u, ok := auth.UserFrom(r.Context()); ok {
		attrs = append(attrs, "user", u.Email)
	}
	if errors.Is(err, context.Canceled) {
		a.Logger.Info("request cancelled", attrs...)
		return
	}
	a.Logger.Error("request failed", attrs...)
	a.ErrorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The request could not be completed. Please try again; if it keeps failing, tell your administrator the request ID below.")
}

// Forbidden tells a signed-in user their role does not allow this.
func (a *App) Forbidden(w http.ResponseWriter, r *http.Request) {
	a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", "Your role does not allow this action.")
}

// NotFound is the 404 page.
func (a *App) NotFound(w http.ResponseWriter, r *http.Request) {
	a.ErrorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.")
}

// MethodNotAllowed is the 405 page.
func (a *App) MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	a.ErrorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This address does not accept that kind of request.")
}

// zone is the lender's time zone.
func (a *App) zone() *time.Location {
	if a.Zone != nil {
		return a.Zone
	}
	return time.UTC
}

// formatDate renders the lender's calendar date of a moment, in lists
// (Indian day-month order).
func (a *App) formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.zone()).Format("02 Jan 2006")
}

// formatDateTime renders a moment in histories and headers, in the
// lender's zone and naming it: "01 Dec 2026, 00:00 IST".
func (a *App) formatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.zone()).Format("02 Jan 2006, 15:04 MST")
}
