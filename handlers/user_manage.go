package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// msgLastAdmin refuses removing the last active admin.
const msgLastAdmin = "This is the last active admin: make another user an admin first, or nobody could manage users."

// ShowUser is an admin's page about one user (the router enforces the
// role).
func (a *App) ShowUser(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	a.renderUser(w, r, http.StatusOK, u, "", "")
}

// ChangeUserRole sets another user's role. Demoting the last active admin
// is refused (409); an admin's own role is changed by another admin.
func (a *App) ChangeUserRole(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	role := r.PostFormValue("role")
	switch {
	case a.isSelf(r, u):
		a.renderUser(w, r, http.StatusForbidden, u, "Another admin changes your role.", "")
		return
	case !auth.ValidRole(role):
		a.renderUser(w, r, http.StatusUnprocessableEntity, u, "Choose admin, underwriter or viewer.", "")
		return
	case role == u.Role:
		a.redirect(w, r, userURL(u))
		return
	}
	var before store.User
	err := a.audited(r, "", auditRoleChanged, u.Email, func(ctx context.Context) (string, error) {
		var err error
		before, err = a.Users.UserChangeAccess(ctx, u.ID, store.UserAccessChange{Role: &role}, a.now())
		return "role " + before.Role + " → " + role, err
	})
	if !a.accessChanged(w, r, u, err) {
		return
	}
	a.Logger.Info("role changed", "user", u.Email, "from", before.Role, "to", role)
	a.flash(r, u.Email+" is now "+role+".")
	a.redirect(w, r, userURL(u))
}

// SetUserActive deactivates (active=false) or reactivates (active=true)
// another user. A deactivated user's sessions end at their next request
// and they cannot sign in; the last active admin cannot be deactivated.
func (a *App) SetUserActive(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	var active bool
	switch r.PostFormValue("active") {
	case "true":
		active = true
	case "false":
	default:
		a.renderUser(w, r, http.StatusUnprocessableEntity, u, "Choose to deactivate or reactivate.", "")
		return
	}
	if a.isSelf(r, u) {
		a.renderUser(w, r, http.StatusForbidden, u, "Another admin deactivates you.", "")
		return
	}
	if active == !u.Deactivated {
		a.redirect(w, r, userURL(u))
		return
	}
	action, msg := auditDeactivated, u.Email+" is deactivated and signed out everywhere."
	if active {
		action, msg = auditReactivated, u.Email+" is active again."
	}
	err := a.audited(r, "", action, u.Email, func(ctx context.Context) (string, error) {
		_, err := a.Users.UserChangeAccess(ctx, u.ID, store.UserAccessChange{Active: &active}, a.now())
		return "", err
	})
	if !a.accessChanged(w, r, u, err) {
		return
	}
	a.Logger.Info("user access changed", "user", u.Email, "active", active)
	a.flash(r, msg)
	a.redirect(w, r, userURL(u))
}

// ResetUserPassword gives another user a random temporary password,
// shown to the admin once: every session of the user ends and they must
// choose their own at the next sign-in.
func (a *App) ResetUserPassword(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	if a.isSelf(r, u) {
		a.renderUser(w, r, http.StatusForbidden, u, "Change your own password on your account page.", "")
		return
	}
	temp := auth.RandomPassword()
	hash, err := a.Hasher.Hash(temp)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	if err := a.audited(r, "", auditPasswordReset, u.Email, func(ctx context.Context) (string, error) {
		return "sessions ended; change required at next sign-in", a.Users.UserSetPassword(ctx, u.ID, hash, true, a.now())
	}); err != nil {
		a.userStoreError(w, r, err)
		return
	}
	a.Logger.Info("password reset by an admin", "user", u.Email)
	// The page shows the user as the reset left them (their sessions
	// ended), and the temporary password once (every page is no-store).
	if u, err = a.Users.UserGet(r.Context(), u.ID); err != nil {
		a.userStoreError(w, r, err)
		return
	}
	a.renderUser(w, r, http.StatusOK, u, "", temp)
}

// ResetUserTwoFactor removes another user's second factor (a lost
// phone): their codes and recovery codes stop working and they enrol
// again; their sessions end.
func (a *App) ResetUserTwoFactor(w http.ResponseWriter, r *http.Request) {
	u, ok := a.targetUser(w, r)
	if !ok {
		return
	}
	if a.isSelf(r, u) {
		a.renderUser(w, r, http.StatusForbidden, u, "Another admin resets your two-factor sign-in.", "")
		return
	}
	now := a.now()
	if err := a.audited(r, "", auditTwoFactorReset, u.Email, func(ctx context.Context) (string, error) {
		if err := a.Users.UserTOTPReset(ctx, u.ID, now); err != nil {
			return "", err
		}
		// The reset ends their sessions like a password change: whoever
		// holds their phone is signed out.
		return "sessions ended; enrols again at next sign-in", a.Users.UserEndSessions(ctx, u.ID, now)
	}); err != nil {
		a.userStoreError(w, r, err)
		return
	}
	a.Logger.Info("two-factor reset by an admin", "user", u.Email)
	a.flash(r, "Two-factor sign-in of "+u.Email+" is reset; they enrol again at their next sign-in.")
	a.redirect(w, r, userURL(u))
}

// targetUser loads the user named by the {user} route parameter; a
// malformed or unknown id is a 404.
func (a *App) targetUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	id, err := primitive.ObjectIDFromHex(chi.URLParam(r, "user"))
	if err != nil {
		a.NotFound(w, r)
		return store.User{}, false
	}
	u, err := a.Users.UserGet(r.Context(), id)
	if err != nil {
		a.userStoreError(w, r, err)
		return store.User{}, false
	}
	return u, true
}

func (a *App) userStoreError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		a.NotFound(w, r)
		return
	}
	a.ServerError(w, r, err)
}

// accessChanged handles UserChangeAccess's error: the last admin is a
// 409 on the user's page.
func (a *App) accessChanged(w http.ResponseWriter, r *http.Request, u store.User, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrLastAdmin):
		a.renderUser(w, r, http.StatusConflict, u, msgLastAdmin, "")
	default:
		a.userStoreError(w, r, err)
	}
	return false
}

func (a *App) isSelf(r *http.Request, u store.User) bool {
	me, _ := auth.UserFrom(r.Context())
	return me.ID == u.ID.Hex()
}

func userURL(u store.User) string { return "/admin/users/" + u.ID.Hex() }

// renderUser shows u's page with an error or a just-set temporary
// password.
func (a *App) renderUser(w http.ResponseWriter, r *http.Request, status int, u store.User, errMsg, temp string) {
	entries, err := a.Users.AuditList(r.Context(), store.AuditListParams{Target: u.Email, Limit: 20})
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	vm := views.UserDetail{
		ID: u.ID.Hex(), Email: u.Email, Name: u.Name, Role: u.Role, Roles: auth.Roles,
		Active: !u.Deactivated, MustChange: u.MustChangePassword, TwoFactor: u.TOTP != nil,
		Created: a.formatDate(u.CreatedAt), DeactivatedAt: a.formatDateTime(u.DeactivatedAt),
		Self: a.isSelf(r, u), Error: errMsg, TempPassword: temp,
		Audit: a.auditRows(entries), AuditURL: "/admin/audit?" + url.Values{"user": {u.Email}}.Encode(),
		Sessions: a.sessionRows(u.LiveSessions(), a.Sessions.GetString(r.Context(), SessionID)),
	}
	a.render(w, r, status, views.UserDetailPage(a.page(r, u.Email, "users"), vm))
}
