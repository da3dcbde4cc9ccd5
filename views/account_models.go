package views

// PasswordForm is the change-password form: messages by field
// ("current", "password"); Required when the user must change it before
// anything else.
type PasswordForm struct {
	Required bool
	Errors   map[string]string
}
