package web

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"loandesk/auth"
)

// observe reports an answered request to the metrics by its route
// pattern (never its URL). A refused password sign-in (POST /login
// answered 401) also counts as a sign-in failure.
func (s *Server) observe(r *http.Request, status int, took time.Duration) {
	var patterns []string
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		patterns = rctx.RoutePatterns
	}
	s.cfg.Metrics.ObserveRequest(r.Method, patterns, status, took)
	if status == http.StatusUnauthorized && r.Method == http.MethodPost && len(patterns) == 1 && patterns[0] == "/login" {
		s.cfg.Metrics.SignInFailed()
	}
}

// serveMetrics is GET /metrics on the app's port: for admins, by session
// or bearer token (a Prometheus scrape sends ADMIN_TOKEN as a bearer
// token; no session is created for it). METRICS_ADDR serves the same
// without authentication on a separate listener.
func (s *Server) serveMetrics() http.Handler {
	metrics := s.cfg.Metrics.Handler()
	return s.apiAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := auth.UserFrom(r.Context()); u.Role != auth.RoleAdmin {
			s.app.APIError(w, r, http.StatusForbidden, "forbidden", "Metrics are for admins.")
			return
		}
		metrics.ServeHTTP(w, r)
	}))
}
