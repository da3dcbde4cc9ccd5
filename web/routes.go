package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"loandesk/auth"
)

// routes is the whole route table.
//
// Middleware order, outermost first: request id + log line → panic
// recovery → security headers → cross-origin protection (before anything
// can change state) → sessions → the signed-in user. Health checks and
// static files sit outside sessions: they must work without a database
// write and never create a session.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics)
	if s.cfg.TrustProxy {
		r.Use(proxiedClientIP)
	}
	r.Use(s.secureHeaders, s.crossOriginProtection)
	r.NotFound(s.app.NotFound)
	r.MethodNotAllowed(s.app.MethodNotAllowed)

	// Probes and static files: no session.
	r.Get("/health", s.app.Health)
	r.Get("/ready", s.app.Ready)
	r.Method(http.MethodGet, "/static/*", s.assets)
	r.Method(http.MethodHead, "/static/*", s.assets)

	// The JSON API: a bearer token or the session cookie; errors as JSON.
	r.Route("/api", func(r chi.Router) {
		r.Use(s.apiAuth)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			s.app.APIError(w, r, http.StatusNotFound, "not_found", "There is no such endpoint.")
		})
		r.Get("/applications", s.app.APIListApplications)
		r.Get("/applications/{id}", s.app.APIGetApplication)
		r.Patch("/applications/{id}", s.app.APIPatchApplication)
		r.Get("/admin/queue-stats", s.app.APIQueueStats)
	})

	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave, s.loadUser)

		// Signing in and out.
		r.Get("/login", s.app.ShowLogin)
		r.Post("/login", s.app.Login)
		r.Post("/logout", s.app.Logout)

		// Signed-in pages.
		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loans", http.StatusSeeOther)
			})
			r.Get("/loans", s.app.ShowLoanList)
			r.Get("/loans/{id}", s.app.ShowLoan)
			r.Post("/loans/{id}/status", s.app.ChangeLoanStatus)
			r.Post("/loans/{id}/assignee", s.app.AssignLoan)
			r.Get("/loans/{id}/documents", s.app.ShowDocuments)
			r.Post("/loans/{id}/documents", s.app.UploadDocument)
			r.Get("/loans/{id}/documents/{doc}", s.app.ServeDocument)
			r.Post("/loans/{id}/score", s.app.ScoreNow)
			r.Post("/loans/{id}/jobs/{event}/retry", s.app.RetryLoanJob)
			r.Get("/loans/{id}/{section}", s.app.ShowLoanSection)
			r.Get("/loans/{id}/{section}/edit", s.app.EditLoanSection)
			// Sections save with PUT from htmx and POST from plain forms.
			r.Put("/loans/{id}/{section}", s.app.UpdateLoanSection)
			r.Post("/loans/{id}/{section}", s.app.UpdateLoanSection)

			// Administration.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(auth.RoleAdmin))
				r.Get("/admin/users", s.app.ShowUsers)
				r.Post("/admin/users", s.app.CreateUser)
				r.Get("/admin/queue", s.app.ShowQueue)
				r.Get("/admin/queue/stats", s.app.ShowQueueStats)
				r.Post("/admin/queue/{event}/retry", s.app.RetryJob)
				r.Post("/admin/queue/{event}/discard", s.app.DiscardJob)
			})
		})
	})
	return r
}
