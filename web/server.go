// Package web is the HTTP server: the chi router with the whole route
// table, the middleware (request ids and logs, panic recovery, security
// headers, cross-origin protection, strict input, sessions, sign-in and
// role checks) and static file serving.
package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/clock"
	"loandesk/handlers"
	"loandesk/metrics"
	"loandesk/static"
	"loandesk/store"
	"loandesk/views"
)

// Config tunes the server's security and sessions.
type Config struct {
	// SessionLifetime is the absolute timeout: a session ends this long
	// after sign-in whatever happens.
	SessionLifetime time.Duration
	// SessionIdleTimeout ends a session not used for this long.
	SessionIdleTimeout time.Duration
	// SecureCookies marks the session cookie Secure (behind HTTPS) and
	// turns on HSTS.
	SecureCookies bool
	// TrustProxy takes the client IP from the last X-Forwarded-For entry
	// (the one the trusted proxy appends; clients can forge the others).
	TrustProxy bool
	// BcryptCost is the password hashing cost (≥ auth.MinCost in
	// production; tests may go lower to keep -race runs fast).
	BcryptCost int
	// LoginLimits bound sign-in attempts; zero means the defaults.
	LoginLimits auth.SignInLimits
	// Policy holds the loan workflow's limits.
	Policy application.Policy
	// Zone is the lender's time zone (TIME_ZONE): business dates and the
	// times shown (UTC when nil).
	Zone *time.Location
	// Now is the clock of the loan service (the wall clock when nil).
	Now clock.Func
	// UploadMaxBytes bounds an uploaded document.
	UploadMaxBytes int64
	// Metrics receives every request's route, status and duration and
	// is served at /metrics (a registry of its own when nil).
	Metrics *metrics.Metrics
	// TwoFactorRoles must sign in with a second factor (TOTP); their
	// users enrol before anything else opens. Admins by default.
	TwoFactorRoles []string
}

// DefaultConfig is what the server runs with unless told otherwise.
func DefaultConfig() Config {
	return Config{
		SessionLifetime:    7 * 24 * time.Hour,
		SessionIdleTimeout: 24 * time.Hour,
		BcryptCost:         auth.MinCost,
		LoginLimits:        auth.DefaultSignInLimits,
		Policy:             application.DefaultPolicy,
		Zone:               application.DefaultZone(),
		UploadMaxBytes:     handlers.DefaultUploadMaxBytes,
		TwoFactorRoles:     []string{auth.RoleAdmin},
	}
}

// Server is the application's http.Handler and what it needs.
type Server struct {
	cfg      Config
	store    *store.Store
	sessions *scs.SessionManager
	app      *handlers.App
	logger   *slog.Logger
	assets   *assetServer
	handler  http.Handler
	// mux is the route table (handler is mux); api is the JSON API's,
	// mounted under /api. The 405 handlers read both to list what a path
	// accepts.
	mux *chi.Mux
	api *chi.Mux
}

// New builds the server over st.
func New(cfg Config, st *store.Store, logger *slog.Logger) (*Server, error) {
	if cfg.LoginLimits == (auth.SignInLimits{}) {
		cfg.LoginLimits = auth.DefaultSignInLimits
	}
	if cfg.Policy == (application.Policy{}) {
		cfg.Policy = application.DefaultPolicy
	}
	if cfg.Zone == nil {
		cfg.Zone = application.DefaultZone()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	assets, err := newAssetServer(static.Files())
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	s := &Server{cfg: cfg, store: st, logger: logger, assets: assets}
	s.sessions = newSessionManager(cfg, st)
	s.app = &handlers.App{
		Users:    st,
		Loans:    st,
		Work:     st,
		Money:    st,
		DB:       st,
		Sessions: s.sessions,
		Hasher:   auth.NewHasher(cfg.BcryptCost),
		Throttle: &auth.Throttle{Store: st, Limits: cfg.LoginLimits, Clock: cfg.Now},
		Service: &application.Service{
			Loans: st, Intake: st, Ledger: st, Staff: st, Policy: cfg.Policy, Clock: cfg.Now, Zone: cfg.Zone,
		},
		Zone: cfg.Zone,
		Now:  cfg.Now,
		Assets: views.Assets{
			CSS:  assets.URL("app.css"),
			HTMX: assets.URL(static.HTMX),
			JS:   assets.URL("app.js"),
			Icon: assets.URL("favicon.svg"),
		},
		Logger:         logger,
		RequestID:      RequestID,
		UploadMaxBytes: cfg.UploadMaxBytes,
		TwoFactorRoles: cfg.TwoFactorRoles,
		SecureCookies:  cfg.SecureCookies,
	}
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.logger.Error("session store failed", "err", err, "request_id", RequestID(r.Context()))
		if isAPI(r) {
			s.app.APIError(w, r, http.StatusInternalServerError, "internal", "Your session could not be loaded. Please try again.")
			return
		}
		s.app.ErrorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Your session could not be loaded. Please try again.")
	}
	s.mux, s.api = s.routes()
	s.handler = s.mux
	return s, nil
}

// Routes is the route table, for walking it (chi.Walk) in tests and
// tools: every method and pattern the server answers, the JSON API's
// under /api.
func (s *Server) Routes() chi.Routes {
	return s.mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func newSessionManager(cfg Config, st *store.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Store = st.Sessions()
	sm.Codec = sortedGobCodec{}
	sm.Lifetime = cfg.SessionLifetime
	sm.IdleTimeout = cfg.SessionIdleTimeout
	sm.Cookie.Name = "loandesk_session"
	if cfg.SecureCookies {
		// Over HTTPS the __Host- prefix makes browsers refuse the cookie
		// unless it is Secure, for this host only (no Domain) and for
		// every path, so a sibling subdomain cannot plant or shadow it.
		sm.Cookie.Name = "__Host-loandesk_session"
	}
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Persist = true
	sm.Cookie.Path = "/"
	return sm
}

// HTTPServer wraps h in an http.Server with timeouts that bound slow
// clients without cutting off uploads.
func HTTPServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
