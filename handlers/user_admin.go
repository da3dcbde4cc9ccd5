package handlers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"loandesk/auth"
	"loandesk/reqcheck"
	"loandesk/store"
	"loandesk/views"
)

// maxUserForm bounds the add-user form body.
const maxUserForm = 16 << 10

// ShowUsers lists users with the add-user form (admins only; the router
// enforces the role).
func (a *App) ShowUsers(w http.ResponseWriter, r *http.Request) {
	a.renderUsers(w, r, http.StatusOK, views.UserForm{Role: auth.RoleViewer})
}

// CreateUser adds a user. Invalid input re-renders the form with messages
// next to the fields (422) and stores nothing.
func (a *App) CreateUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUserForm)
	if err := r.ParseForm(); err != nil {
		a.ErrorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	req := userCreateRequest{
		Email:    strings.TrimSpace(r.PostForm.Get("email")),
		Name:     reqcheck.StaffName(r.PostForm.Get("name")),
		Role:     r.PostForm.Get("role"),
		Password: r.PostForm.Get("password"),
	}
	form := views.UserForm{Email: req.Email, Name: req.Name, Role: req.Role, Errors: req.validate()}
	if len(form.Errors) == 0 {
		hash, err := a.Hasher.Hash(req.Password)
		if err != nil {
			a.ServerError(w, r, err)
			return
		}
		// The admin typed the password: the user chooses their own at
		// their first sign-in.
		var lookalike store.User
		err = a.audited(r, "", auditUserCreated, store.NormalizeEmail(req.Email), func(ctx context.Context) (string, error) {
			if u, found, err := a.userNamedLike(ctx, req.Name); err != nil || found {
				lookalike = u
				return "", cmp.Or(err, errNameLookalike)
			}
			_, err := a.Users.UserCreate(ctx, store.UserCreateParams{Email: req.Email, Name: req.Name, Role: req.Role, PasswordHash: hash, MustChangePassword: true})
			return "role " + req.Role + "; change required at first sign-in", err
		})
		switch {
		case errors.Is(err, store.ErrDuplicate):
			form.Errors = map[string]string{"email": "A user with this email already exists."}
		case errors.Is(err, errNameLookalike):
			form.Errors = map[string]string{"name": "This name looks the same as " + lookalike.Name + "'s (" + lookalike.Email + "): add what tells them apart, such as a middle name, an initial or a branch."}
		case err != nil:
			a.ServerError(w, r, err)
			return
		default:
			a.flash(r, "Added "+store.NormalizeEmail(req.Email)+" as "+req.Role+".")
			a.redirect(w, r, "/admin/users")
			return
		}
	}
	a.respond(w, r, http.StatusUnprocessableEntity, views.UserFormPartial(form, auth.Roles), func() {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, form)
	})
}

// errNameLookalike refuses a new user whose name reads as an existing
// user's (reqcheck.NameLookalikeKey): history, assignee lists and notes
// show names, so two people must not look the same there.
var errNameLookalike = errors.New("handlers: the name looks like an existing user's")

// userNamedLike returns a user whose name looks the same as name, if any.
func (a *App) userNamedLike(ctx context.Context, name string) (store.User, bool, error) {
	users, err := a.Users.UserList(ctx)
	if err != nil {
		return store.User{}, false, err
	}
	key := reqcheck.NameLookalikeKey(name)
	for _, u := range users {
		if reqcheck.NameLookalikeKey(u.Name) == key {
			return u, true, nil
		}
	}
	return store.User{}, false, nil
}

func (a *App) renderUsers(w http.ResponseWriter, r *http.Request, status int, form views.UserForm) {
	users, err := a.Users.UserList(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	vm := views.UserAdmin{Form: form, Roles: auth.Roles}
	for _, u := range users {
		status := "Active"
		if u.Deactivated {
			status = "Deactivated"
		}
		if u.MustChangePassword {
			status += ", must change password"
		}
		if u.TOTP != nil {
			status += ", two-factor on"
		}
		vm.Rows = append(vm.Rows, views.UserRow{ID: u.ID.Hex(), Email: u.Email, Name: u.Name, Role: u.Role, Status: status, Created: a.formatDate(u.CreatedAt)})
	}
	a.render(w, r, status, views.UserAdminPage(a.page(r, "Users", "users"), vm))
}

// userCreateRequest is the add-user form as submitted.
type userCreateRequest struct {
	Email, Name, Role, Password string
}

// validate returns a message per invalid field.
func (req userCreateRequest) validate() map[string]string {
	errs := map[string]string{}
	if msg := validateEmail(req.Email); msg != "" {
		errs["email"] = msg
	}
	switch n := utf8.RuneCountInString(req.Name); {
	case !utf8.ValidString(req.Name):
		errs["name"] = "Name contains invalid characters."
	case n == 0:
		errs["name"] = "Enter a name."
	case n > 100:
		errs["name"] = "Name must be at most 100 characters."
	case reqcheck.MixedScript(req.Name):
		errs["name"] = "A word of the name mixes Latin, Greek or Cyrillic letters (look-alikes); type it in one script."
	case reqcheck.PhoneticLetters(req.Name):
		errs["name"] = "The name has phonetic letters (such as small capitals) that pass for others; type it in ordinary letters."
	}
	if !auth.ValidRole(req.Role) {
		errs["role"] = "Choose admin, underwriter or viewer."
	}
	if err := auth.CheckPassword(req.Password, req.Email, req.Name); err != nil {
		errs["password"] = err.Error()
	}
	return errs
}

// validateEmail accepts a bare address (no display name) of sane length.
func validateEmail(email string) string {
	if email == "" {
		return "Enter an email address."
	}
	if len(email) > 254 || !utf8.ValidString(email) {
		return "Enter a valid email address."
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "Enter a valid email address."
	}
	// Plain ASCII only: "аdmin@…" with a Cyrillic а would look like admin.
	if !reqcheck.PlainEmail(email) {
		return "Use an email address in plain Latin letters, digits and punctuation (no look-alike or invisible characters)."
	}
	// A domain needs a dot, except the bootstrap admin's "localhost".
	domain := email[strings.LastIndex(email, "@")+1:]
	if !strings.Contains(domain, ".") && domain != "localhost" {
		return "Enter a valid email address."
	}
	return ""
}
