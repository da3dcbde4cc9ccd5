package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/handlers"
	"loandesk/reqcheck"
	"loandesk/store"
)

type requestIDKey struct{}

// RequestID returns the id given to the request by logRequests.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logRequests gives every request an id (echoed in X-Request-ID), logs
// one line when it ends (method, path, status, bytes, duration) and
// reports it to the metrics by its route pattern.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(ctx))
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		took := time.Since(start)
		s.observe(r, status, took)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(ctx, level, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", took),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// recoverPanics turns a panic in a handler into a logged error and a 500
// page instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec) // the client went away; let net/http handle it
			}
			s.logger.Error("panic serving request",
				"request_id", RequestID(r.Context()),
				"method", r.Method, "uri", r.URL.RequestURI(),
				"panic", rec, "stack", string(debug.Stack()))
			w.Header().Set("Connection", "close")
			if isAPI(r) {
				s.app.APIError(w, r, http.StatusInternalServerError, "internal",
					"The request could not be completed. If it keeps failing, tell your administrator the request ID "+RequestID(r.Context())+".")
				return
			}
			s.app.ErrorPage(w, r, http.StatusInternalServerError, "Something went wrong",
				"The request could not be completed. If it keeps failing, tell your administrator the request ID below.")
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows our own scripts, styles and connections
// only: no inline script or style, no eval, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// secureHeaders sets the browser security headers on every response.
// Dynamic responses are never cached: they may carry personal data.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection rejects state-changing requests sent by other
// sites (Go's Sec-Fetch-Site / Origin check) with a 403 page (JSON under
// /api).
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger.Warn("cross-origin request refused", "request_id", RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		if isAPI(r) {
			s.app.APIError(w, r, http.StatusForbidden, "cross_origin", "This request came from another site and was refused.")
			return
		}
		s.app.ErrorPage(w, r, http.StatusForbidden, "Request refused", "This request came from another site and was refused.")
	}))
	return cop.Handler(next)
}

// maxFormBytes bounds an urlencoded form body; a larger one is a 413.
// The largest real form (an application section) is a few KB.
const maxFormBytes = 64 << 10

// strictInput refuses with a 400, before any handler or the session store
// sees the request, a query or urlencoded form body that could be read
// more than one way (see reqcheck): a field sent twice (in the query, in
// the body, or once in each), or a key or value that is not UTF-8 text.
//
// The form body is bounded (413 past maxFormBytes) and parsed here, so a
// handler's own ParseForm is a no-op and reads exactly what was checked.
// Multipart bodies are left to their handler, which must bound them first
// and then apply reqcheck.Multipart; JSON bodies to theirs.
func (s *Server) strictInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, err := reqcheck.Query(r.URL.RawQuery)
		if err != nil {
			s.refuseInput(w, r, err)
			return
		}
		if hasFormBody(r) {
			if !utf8Charset(r) {
				s.unsupportedCharset(w, r)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				if errors.As(err, new(*http.MaxBytesError)) {
					s.inputTooLarge(w, r)
					return
				}
				s.refuseInput(w, r, &reqcheck.Error{Code: reqcheck.CodeInvalidEncoding, In: reqcheck.InForm})
				return
			}
			if err := reqcheck.Form(query, r.PostForm); err != nil {
				s.refuseInput(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hasFormBody reports whether r.ParseForm reads r's body as an urlencoded
// form (the same test net/http makes).
func hasFormBody(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// utf8Charset reports whether a request body's declared charset, if
// any, is UTF-8: Loan Desk reads every body as UTF-8, so another would be
// read as text other than what was sent.
func utf8Charset(r *http.Request) bool {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// unsupportedCharset answers 415 for a body in another charset.
func (s *Server) unsupportedCharset(w http.ResponseWriter, r *http.Request) {
	msg := "Send the body in UTF-8 (charset=utf-8, or no charset)."
	if isAPI(r) {
		s.app.APIError(w, r, http.StatusUnsupportedMediaType, "unsupported_charset", msg)
		return
	}
	s.app.ErrorPage(w, r, http.StatusUnsupportedMediaType, "Unsupported text encoding", msg)
}

// refuseInput answers a request reqcheck refused: 400 with the reason,
// as JSON with its stable code under /api.
func (s *Server) refuseInput(w http.ResponseWriter, r *http.Request, err error) {
	var e *reqcheck.Error
	if !errors.As(err, &e) {
		e = &reqcheck.Error{Code: reqcheck.CodeInvalidEncoding}
	}
	s.logger.Info("request input refused", "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "code", e.Code, "reason", e.Message())
	if isAPI(r) {
		s.app.APIError(w, r, http.StatusBadRequest, e.Code, e.Message())
		return
	}
	s.app.ErrorPage(w, r, http.StatusBadRequest, "Request refused", e.Message())
}

// inputTooLarge answers a form body past maxFormBytes.
func (s *Server) inputTooLarge(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("The form is larger than %d KB.", maxFormBytes>>10)
	if isAPI(r) {
		s.app.APIError(w, r, http.StatusRequestEntityTooLarge, "request_too_large", msg)
		return
	}
	s.app.ErrorPage(w, r, http.StatusRequestEntityTooLarge, "Request too large", msg)
}

// notFound is the 404: JSON under /api, the page elsewhere.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.app.APIError(w, r, http.StatusNotFound, "not_found", "There is no such endpoint.")
		return
	}
	s.app.NotFound(w, r)
}

// methodNotAllowed answers a method the path does not accept: 405 with
// Allow listing the methods it does (JSON under /api). chi hands the
// allowed methods only to its own default handler, so they are found
// again here with chi's Match. A path that no method routes (an unknown
// method on an unknown path) is a 404.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := s.allowedMethods(r)
	if len(allow) == 0 {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	if isAPI(r) {
		s.app.APIError(w, r, http.StatusMethodNotAllowed, "method_not_allowed",
			"This endpoint does not accept "+r.Method+"; it accepts "+strings.Join(allow, ", ")+".")
		return
	}
	s.app.MethodNotAllowed(w, r)
}

// routeMethods are the methods chi routes, in the order Allow lists them.
var routeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, "QUERY", http.MethodOptions, http.MethodTrace, http.MethodConnect,
}

// allowedMethods lists the methods r's path is routed for; HEAD wherever
// GET is (middleware.GetHead serves it).
func (s *Server) allowedMethods(r *http.Request) []string {
	routes, path := s.mux, r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if isAPI(r) {
		// The API's own table: at the top level, /api and everything under
		// it matches the mount for every method.
		routes, path = s.api, strings.TrimPrefix(path, apiPrefix)
		if path == "" {
			path = "/"
		}
	}
	var allow []string
	for _, m := range routeMethods {
		if routes.Match(chi.NewRouteContext(), m, path) || (m == http.MethodHead && slices.Contains(allow, http.MethodGet)) {
			allow = append(allow, m)
		}
	}
	return allow
}

// loadUser puts the signed-in user (if any) into the request context. A
// session whose user no longer exists is ended; a failed lookup is a 500,
// not a sign-out.
func (s *Server) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idHex := s.sessions.GetString(r.Context(), handlers.SessionUserID)
		if idHex == "" {
			next.ServeHTTP(w, r)
			return
		}
		sid := s.sessions.GetString(r.Context(), handlers.SessionID)
		u, err := s.sessionUser(r.Context(), idHex, sid)
		// A password changed, or sessions ended by an admin, after this
		// session signed in ends it (the user's own change renews their
		// current session first); so does deactivation.
		switch {
		case err != nil:
		case u.Deactivated:
			s.logger.Info("ending session of a deactivated user", "user", u.Email)
			err = store.ErrNotFound
		case !u.SessionLive(sid, s.sessions.GetInt64(r.Context(), handlers.SessionAuthAt)):
			s.logger.Info("ending a session signed out by its user or an admin, or signed in before a password change", "user", u.Email)
			err = store.ErrNotFound
		default:
			s.sessionSeen(r, u)
		}
		switch {
		case err == nil:
			ctx := auth.WithUser(r.Context(), auth.User{ID: idHex, Email: u.Email, Name: u.Name, Role: u.Role, MustChangePassword: u.MustChangePassword,
				MustEnrolTwoFactor: u.TOTP == nil && s.app.TwoFactorRequired(u.Role)})
			next.ServeHTTP(w, r.WithContext(ctx))
		case errors.Is(err, store.ErrNotFound):
			s.logger.Info("ending session of unknown user or old password", "user_id", idHex)
			if err := s.sessions.Destroy(r.Context()); err != nil {
				s.app.ServerError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		default:
			s.app.ServerError(w, r, err)
		}
	})
}

// sessionSeen writes when the session was last used, for the sessions
// list, at most every handlers.SessionSeenEvery (a failure is only
// logged: it is not worth failing a request over).
func (s *Server) sessionSeen(r *http.Request, u store.User) {
	sid := s.sessions.GetString(r.Context(), handlers.SessionID)
	us, ok := u.Sessions[sid]
	now := time.Now()
	if s.cfg.Now != nil {
		now = s.cfg.Now()
	}
	if !ok || now.Sub(us.LastSeen) < handlers.SessionSeenEvery {
		return
	}
	if err := s.store.UserSessionSeen(r.Context(), u.ID, sid, now); err != nil {
		s.logger.Warn("record when a session was last used", "user", u.Email, "err", err)
	}
}

// sessionUser looks up the user a session names, with that session
// alone of their sessions (store.UserForSession); a malformed user or
// session id is ErrNotFound like a deleted user.
func (s *Server) sessionUser(ctx context.Context, idHex, sid string) (store.User, error) {
	id, err := primitive.ObjectIDFromHex(idHex)
	if err != nil {
		return store.User{}, store.ErrNotFound
	}
	return s.store.UserForSession(ctx, id, sid)
}

// passwordPath is where a user who must change their password is sent.
const passwordPath = "/account/password"

// requireUser sends signed-out visitors to the sign-in page (htmx requests
// get HX-Redirect, since a swapped-in login page would be wrong), and a
// user who must change their password to passwordPath.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := auth.UserFrom(r.Context()); ok {
			if first := firstStep(u); first != "" && r.URL.Path != first {
				if r.Header.Get("HX-Request") == "true" {
					w.Header().Set("HX-Redirect", first)
					w.WriteHeader(http.StatusForbidden)
					return
				}
				http.Redirect(w, r, first, http.StatusSeeOther)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		target := "/login"
		if back := returnTo(r); back != "" {
			target += "?next=" + url.QueryEscape(back)
		}
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", target)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// returnTo is where a signed-out request returns after signing in: the
// page a plain GET asked for; for htmx, the page the browser shows
// (HX-Current-URL, on this host), never the fragment or form it sent —
// signing in to a live poll's or a panel's address would land on a bare
// fragment or nothing. "" is the list (the sign-in's own default).
func returnTo(r *http.Request) string {
	if r.Header.Get("HX-Request") == "true" {
		u, err := url.Parse(r.Header.Get("HX-Current-URL"))
		if err != nil || u.Host != r.Host || u.Path == "" || u.Path == "/" {
			return ""
		}
		return u.RequestURI()
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path != "/" {
		if strings.HasPrefix(r.URL.Path, "/loans/export.") {
			// An export (a download) returns to the list it exports, its
			// filters kept: signing in to the file would leave the
			// browser on the sign-in page while it saves the file.
			u := url.URL{Path: "/loans", RawQuery: r.URL.RawQuery}
			return u.RequestURI()
		}
		return r.URL.RequestURI()
	}
	return ""
}

// requireRole answers 403 unless the signed-in user has one of roles.
func (s *Server) requireRole(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := auth.UserFrom(r.Context())
			if !ok || !u.HasRole(roles...) {
				s.app.Forbidden(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// firstStep is the page a signed-in user must finish before anything
// else, or "": a generated or admin-set password is changed first, then
// a role that signs in with a second factor enrols. Until then the
// session opens that page alone — no other page, fragment, API call or
// /metrics (API tokens have neither step).
func firstStep(u auth.User) string {
	switch {
	case u.MustChangePassword:
		return passwordPath
	case u.MustEnrolTwoFactor:
		return handlers.TwoFactorPath
	}
	return ""
}

// apiAuth authenticates JSON API requests: a bearer token when the
// request carries one (no session is read or created), else the session
// cookie. Neither gives a JSON 401; a session whose user has a first
// step to finish (firstStep) gets a JSON 403 naming it.
func (s *Server) apiAuth(next http.Handler) http.Handler {
	requireUser := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFrom(r.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="loandesk"`)
			s.app.APIError(w, r, http.StatusUnauthorized, "unauthorized", "Sign in, or send Authorization: Bearer <token>.")
			return
		}
		switch firstStep(u) {
		case passwordPath:
			s.app.APIError(w, r, http.StatusForbidden, "password_change_required", "Change your password first, at "+passwordPath+".")
			return
		case handlers.TwoFactorPath:
			s.app.APIError(w, r, http.StatusForbidden, "two_factor_enrolment_required", "Set up two-factor sign-in first, at "+handlers.TwoFactorPath+".")
			return
		}
		next.ServeHTTP(w, r)
	})
	withSession := s.sessions.LoadAndSave(s.loadUser(requireUser))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			withSession.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			requireUser.ServeHTTP(w, r)
			return
		}
		t, err := s.store.APITokenByValue(r.Context(), strings.TrimSpace(token))
		switch {
		case errors.Is(err, store.ErrNotFound):
			requireUser.ServeHTTP(w, r)
		case err != nil:
			s.app.APIServerError(w, r, err)
		default:
			user := auth.User{Email: "token:" + t.Name, Name: t.Name, Role: t.Role, Shared: true}
			requireUser.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), user)))
		}
	})
}

// proxiedClientIP sets RemoteAddr to the client address the trusted
// proxy in front appended to X-Forwarded-For: the rightmost entry, the
// only one a client cannot forge (chi's RealIP takes the leftmost, and
// X-Real-IP or True-Client-IP whoever sent them).
func proxiedClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				r.RemoteAddr = net.JoinHostPort(ip.String(), "0")
			}
		}
		next.ServeHTTP(w, r)
	})
}
