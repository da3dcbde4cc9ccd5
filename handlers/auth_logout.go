package handlers

import (
	"errors"
	"net/http"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
)

// Logout ends the session on the server, not just in the browser, and asks
// the browser to drop cached pages and stored data of this site.
func (a *App) Logout(w http.ResponseWriter, r *http.Request) {
	// Off the user's list of sessions too.
	if u, ok := auth.UserFrom(r.Context()); ok {
		if id, err := primitive.ObjectIDFromHex(u.ID); err == nil {
			if sid := a.Sessions.GetString(r.Context(), SessionID); sid != "" {
				if err := a.Users.UserSessionRevoke(r.Context(), id, sid); err != nil && !errors.Is(err, store.ErrNotFound) {
					a.ServerError(w, r, err)
					return
				}
			}
		}
	}
	if err := a.Sessions.Destroy(r.Context()); err != nil {
		a.ServerError(w, r, err)
		return
	}
	// Destroy cleared the token: the flash below starts a new anonymous
	// session under a new token.
	a.flash(r, "You have been signed out.")
	w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
	a.redirect(w, r, "/login")
}
