package web

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"loandesk/application"
	"loandesk/auth"
)

// routes builds the whole route table.
//
// Middleware order, outermost first: request id + log line → panic
// recovery (the metrics see every request, by route pattern, in the
// first) → security headers → cross-origin protection (before anything
// can change state) → strict input (a field sent twice or text that is not
// UTF-8 is refused before any handler or the session store sees the
// request) → HEAD served by the GET route → sessions → the signed-in user.
// Health checks and static files sit outside sessions: they must work
// without a database write and never create a session.
//
// Every 405 says in Allow what the path accepts; everything under /api
// answers JSON, errors included.
func (s *Server) routes() (root, api *chi.Mux) {
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics)
	if s.cfg.TrustProxy {
		r.Use(proxiedClientIP)
	}
	r.Use(s.secureHeaders, s.crossOriginProtection, s.strictInput, middleware.GetHead)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	// Probes and static files: no session.
	r.Get("/health", s.app.Health)
	r.Get("/ready", s.app.Ready)
	r.Method(http.MethodGet, "/metrics", s.serveMetrics()) // admins or a bearer token; see serveMetrics
	r.Method(http.MethodGet, "/static/*", s.assets)

	// The JSON API: a bearer token or the session cookie; errors as JSON.
	api = chi.NewRouter()
	api.Use(s.apiAuth)
	api.NotFound(s.notFound)
	api.MethodNotAllowed(s.methodNotAllowed)
	api.Get("/applications", s.app.APIListApplications)
	api.Post("/applications", s.app.APICreateApplication)
	api.Get("/applications/{id}", s.app.APIGetApplication)
	api.Get("/applications/{id}/schedule", s.app.APISchedule)
	api.Post("/applications/{id}/disbursement", s.app.APIDisburse)
	api.Post("/applications/{id}/repayments", s.app.APIPostRepayment)
	api.Get("/applications/{id}/ledger", s.app.APILoanLedger)
	api.Get("/admin/trial-balance", s.app.APITrialBalance)
	api.Patch("/applications/{id}", s.app.APIPatchApplication)
	api.Get("/admin/queue-stats", s.app.APIQueueStats)
	r.Mount(apiPrefix, api)

	// A section is one of the application's editable sections, so that
	// /loans/{id}/score or /loans/{id}/documents never fall through to the
	// section routes (a wrong method there is a 405, not a 404 from the
	// section handler).
	section := "{section:(?:" + sectionPattern() + ")}"

	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave, s.loadUser)

		// Signing in and out.
		r.Get("/login", s.app.ShowLogin)
		r.Post("/login", s.app.Login)
		r.Get("/login/code", s.app.ShowLoginCode)
		r.Post("/login/code", s.app.LoginCode)
		r.Post("/logout", s.app.Logout)

		// Signed-in pages.
		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/account/password", s.app.ShowPasswordChange)
			r.Post("/account/password", s.app.ChangePassword)
			r.Get("/account/two-factor", s.app.ShowTwoFactor)
			r.Post("/account/two-factor", s.app.EnrolTwoFactor)
			r.Get("/account/sessions", s.app.ShowOwnSessions)
			r.Post("/account/sessions/{session}/revoke", s.app.RevokeOwnSession)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loans", http.StatusSeeOther)
			})
			r.Get("/loans", s.app.ShowLoanList)
			r.Post("/loans", s.app.CreateLoan)
			r.Get("/loans/new", s.app.ShowNewLoan)
			r.Get("/loans/export.csv", s.app.ExportLoans)
			r.Get("/loans/export.xlsx", s.app.ExportLoansXLSX)
			r.Post("/loans/bulk-assign", s.app.BulkAssignLoans)
			r.Get("/loans/bulk-assign", s.app.ShowBulkAssign)
			r.Post("/loans/bulk-hold", s.app.BulkHoldLoans)
			r.Get("/loans/bulk-hold", s.app.ShowBulkHold)
			r.Get("/loans/{id}", s.app.ShowLoan)
			r.Post("/loans/{id}/flags", s.app.AcknowledgeFlag)
			r.Post("/loans/{id}/notes", s.app.AddNote)
			r.Get("/loans/{id}/schedule", s.app.ShowSchedule)
			r.Get("/loans/{id}/schedule.csv", s.app.DownloadSchedule)
			r.Get("/loans/{id}/kfs", s.app.ShowKFS)
			r.Post("/loans/{id}/disburse", s.app.DisburseLoan)
			r.Post("/loans/{id}/repayments", s.app.PostRepayment)
			r.Get("/loans/{id}/ledger", s.app.ShowLoanLedger)
			r.Get("/loans/{id}/status", s.app.ShowStatusPanel)
			r.Post("/loans/{id}/status", s.app.ChangeLoanStatus)
			r.Get("/loans/{id}/assignee", s.app.ShowAssignPanel)
			r.Post("/loans/{id}/assignee", s.app.AssignLoan)
			r.Get("/loans/{id}/documents", s.app.ShowDocuments)
			r.Post("/loans/{id}/documents", s.app.UploadDocument)
			r.Get("/loans/{id}/documents/{doc}", s.app.ServeDocument)
			r.Post("/loans/{id}/documents/{doc}/delete", s.app.DeleteDocument)
			r.Post("/loans/{id}/documents/{doc}/replace", s.app.ReplaceDocument)
			r.Get("/loans/{id}/score", s.app.ShowScore)
			r.Post("/loans/{id}/score", s.app.ScoreNow)
			r.Get("/loans/{id}/jobs", s.app.ShowJobs)
			r.Get("/loans/{id}/changed", s.app.ShowChangedNotice)
			r.Get("/loans/{id}/live", s.app.ShowLive)
			r.Post("/loans/{id}/jobs/{event}/retry", s.app.RetryLoanJob)
			r.Get("/loans/{id}/"+section, s.app.ShowLoanSection)
			r.Get("/loans/{id}/"+section+"/edit", s.app.EditLoanSection)
			// Sections save with PUT from htmx and POST from plain forms.
			r.Put("/loans/{id}/"+section, s.app.UpdateLoanSection)
			r.Post("/loans/{id}/"+section, s.app.UpdateLoanSection)

			// Administration.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(auth.RoleAdmin))
				r.Get("/admin/users", s.app.ShowUsers)
				r.Post("/admin/users", s.app.CreateUser)
				r.Get("/admin/users/{user}", s.app.ShowUser)
				r.Post("/admin/users/{user}/role", s.app.ChangeUserRole)
				r.Post("/admin/users/{user}/active", s.app.SetUserActive)
				r.Post("/admin/users/{user}/password", s.app.ResetUserPassword)
				r.Post("/admin/users/{user}/two-factor/reset", s.app.ResetUserTwoFactor)
				r.Post("/admin/users/{user}/sessions/{session}/revoke", s.app.RevokeUserSession)
				r.Post("/admin/users/{user}/sessions/end", s.app.EndUserSessions)
				r.Get("/admin/audit", s.app.ShowAudit)
				r.Get("/admin/queue", s.app.ShowQueue)
				r.Get("/admin/ledger", s.app.ShowTrialBalance)
				r.Get("/admin/locks", s.app.ShowLocks)
				r.Post("/admin/locks/release", s.app.ReleaseLock)
				r.Get("/admin/queue/stats", s.app.ShowQueueStats)
				r.Post("/admin/queue/{event}/retry", s.app.RetryJob)
				r.Post("/admin/queue/{event}/discard", s.app.DiscardJob)
			})
		})
	})
	return r, api
}

// apiPrefix is where the JSON API is mounted.
const apiPrefix = "/api"

// isAPI reports whether r is for the JSON API, whose every answer,
// errors included, is JSON.
func isAPI(r *http.Request) bool {
	return r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/")
}

// sectionPattern is the application's section keys as a regexp
// alternation ("applicant|terms").
func sectionPattern() string {
	keys := make([]string, len(application.Sections))
	for i, sec := range application.Sections {
		keys[i] = regexp.QuoteMeta(string(sec))
	}
	return strings.Join(keys, "|")
}
