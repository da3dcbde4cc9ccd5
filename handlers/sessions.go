package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"loandesk/auth"
	"loandesk/reqcheck"
	"loandesk/store"
	"loandesk/views"
)

// SessionID is the session key of the id under which the session is
// listed among its user's sessions (store.User.Sessions).
const SessionID = "sid"

// SessionSeenEvery is how stale a listed session's "last seen" may get
// before a request writes it again.
const SessionSeenEvery = time.Minute

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// listSession lists this browser's session among u's sessions as signed
// in (or having proved the password again) at now, under the session's
// id (a new one when it has none).
func (a *App) listSession(r *http.Request, u store.User, now time.Time) error {
	ctx := r.Context()
	sid := a.Sessions.GetString(ctx, SessionID)
	if sid == "" {
		sid = newSessionID()
		a.Sessions.Put(ctx, SessionID, sid)
	}
	return a.Users.UserSessionPut(ctx, u, sid, store.UserSession{AuthAt: now, IP: clientIP(r), UserAgent: userAgent(r)})
}

// userAgent is the request's User-Agent as shown in the sessions list:
// visible characters only, at most 160.
func userAgent(r *http.Request) string {
	ua := strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || c == utf8.RuneError {
			return -1
		}
		return c
	}, reqcheck.CleanText(r.UserAgent()))
	if utf8.RuneCountInString(ua) > 160 {
		ua = string([]rune(ua)[:160]) + "…"
	}
	return ua
}

// sessionRows shows sessions, the most recently seen first; current
// marks this browser's.
func (a *App) sessionRows(sessions map[string]store.UserSession, current string) []views.SessionRow {
	rows := make([]views.SessionRow, 0, len(sessions))
	for id, s := range sessions {
		rows = append(rows, views.NewSessionRow(views.SessionRow{ID: id, SignedIn: a.formatDateTime(s.AuthAt), LastSeen: a.formatDateTime(s.LastSeen),
			IP: s.IP, Browser: s.UserAgent, Current: id == current}, s.LastSeen))
	}
	slices.SortFunc(rows, func(x, y views.SessionRow) int { return y.Seen().Compare(x.Seen()) })
	return rows
}

// ShowOwnSessions lists the signed-in user's sessions, with a sign-out
// for each other one.
func (a *App) ShowOwnSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := a.signedInUser(w, r)
	if !ok {
		return
	}
	rows := a.sessionRows(u.LiveSessions(), a.Sessions.GetString(r.Context(), SessionID))
	a.render(w, r, http.StatusOK, views.OwnSessionsPage(a.page(r, "Your sessions", "account"), rows))
}

// RevokeOwnSession signs out one of the user's other sessions (this one
// signs out with Sign out).
func (a *App) RevokeOwnSession(w http.ResponseWriter, r *http.Request) {
	u, ok := a.signedInUser(w, r)
	if !ok {
		return
	}
	sid := chi.URLParam(r, "session")
	if sid == a.Sessions.GetString(r.Context(), SessionID) {
		a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Use Sign out", "This is the session you are using: sign out with the button at the top.")
		return
	}
	if !a.revokeSession(w, r, u, sid) {
		return
	}
	a.flash(r, "That session is signed out.")
	a.redirect(w, r, "/account/sessions")
}

// RevokeUserSession is an admin signing out one session of a user.
func (a *App) RevokeUserSession(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	if !a.revokeSession(w, r, u, chi.URLParam(r, "session")) {
		return
	}
	a.flash(r, "That session of "+u.Email+" is signed out.")
	a.redirect(w, r, userURL(u))
}

// EndUserSessions is an admin signing a user out everywhere, without
// deactivating them.
func (a *App) EndUserSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	if a.isSelf(r, u) {
		a.renderUser(w, r, http.StatusForbidden, u, "Sign yourself out with Sign out, or end your other sessions on your account's sessions page.", "")
		return
	}
	if err := a.audited(r, "", auditSessionsEnded, u.Email, func(ctx context.Context) (string, error) {
		return "all sessions", a.Users.UserEndSessions(ctx, u.ID, a.now())
	}); err != nil {
		a.userStoreError(w, r, err)
		return
	}
	a.flash(r, u.Email+" is signed out everywhere.")
	a.redirect(w, r, userURL(u))
}

func (a *App) revokeSession(w http.ResponseWriter, r *http.Request, u store.User, sid string) bool {
	s, listed := u.LiveSessions()[sid]
	if !listed {
		a.NotFound(w, r)
		return false
	}
	err := a.audited(r, "", auditSessionRevoked, u.Email, func(ctx context.Context) (string, error) {
		return "signed in " + a.formatDateTime(s.AuthAt) + " from " + s.IP, a.Users.UserSessionRevoke(ctx, u.ID, sid)
	})
	if errors.Is(err, store.ErrNotFound) {
		a.NotFound(w, r)
		return false
	} else if err != nil {
		a.ServerError(w, r, err)
		return false
	}
	me, _ := auth.UserFrom(r.Context())
	a.Logger.Info("session revoked", "user", u.Email, "by", me.Email)
	return true
}
