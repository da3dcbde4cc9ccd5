package handlers

import (
	"net/http"
)

// Logout ends the session on the server, not just in the browser, and asks
// the browser to drop cached pages and stored data of this site.
func (a *App) Logout(w http.ResponseWriter, r *http.Request) {
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
