package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/handlers"
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

// logRequests gives every request an id (echoed in X-Request-ID) and logs
// one line when it ends: method, path, status, bytes, duration.
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
			slog.Duration("duration", time.Since(start)),
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
// sites (Go's Sec-Fetch-Site / Origin check) with a 403 page.
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger.Warn("cross-origin request refused", "request_id", RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		s.app.ErrorPage(w, r, http.StatusForbidden, "Request refused", "This request came from another site and was refused.")
	}))
	return cop.Handler(next)
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
		u, err := s.sessionUser(r.Context(), idHex)
		switch {
		case err == nil:
			ctx := auth.WithUser(r.Context(), auth.User{ID: idHex, Email: u.Email, Name: u.Name, Role: u.Role})
			next.ServeHTTP(w, r.WithContext(ctx))
		case errors.Is(err, store.ErrNotFound):
			s.logger.Info("ending session of unknown user", "user_id", idHex)
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

// sessionUser looks up the user a session names; a malformed id is
// ErrNotFound like a deleted user.
func (s *Server) sessionUser(ctx context.Context, idHex string) (store.User, error) {
	id, err := primitive.ObjectIDFromHex(idHex)
	if err != nil {
		return store.User{}, store.ErrNotFound
	}
	return s.store.UserGet(ctx, id)
}

// requireUser sends signed-out visitors to the sign-in page (htmx requests
// get HX-Redirect, since a swapped-in login page would be wrong).
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.UserFrom(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		target := "/login"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", target)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
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

// apiAuth authenticates JSON API requests: a bearer token when the
// request carries one (no session is read or created), else the session
// cookie. Neither gives a JSON 401.
func (s *Server) apiAuth(next http.Handler) http.Handler {
	requireUser := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.UserFrom(r.Context()); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="loandesk"`)
			s.app.APIError(w, r, http.StatusUnauthorized, "unauthorized", "Sign in, or send Authorization: Bearer <token>.")
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
			user := auth.User{Email: "token:" + t.Name, Name: t.Name, Role: t.Role}
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
