package auth

import (
	"errors"
	"testing"
)

// The user's e-mail, whole, its local part (however short) and its
// domain's words count as context words wherever they stand in the
// password, in any case (issue 19, found by a tester: "u9@example.com!"
// was accepted for u9@example.com).
func TestCheckPassword_EmailWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw, email, name string
		want            error
	}{
		{"u9@example.com!", "u9@example.com", "U Nine", ErrContextPassword},
		{"U9@Example.COM!!", "u9@example.com", "U Nine", ErrContextPassword},
		{"!u9@example.com", "U9@EXAMPLE.com", "U Nine", ErrContextPassword},
		{"u9!!!!!!!!!!!", "u9@example.com", "U Nine", ErrContextPassword},
		{"example.com 2024!", "u9@example.com", "U Nine", ErrContextPassword},
		{"Example12345", "u9@example.com", "U Nine", ErrContextPassword},
		{"gmail1234567", "ravi@gmail.com", "Ravi", ErrContextPassword},
		{"asha.iyer@example.com", "asha.iyer@example.com", "Asha Iyer", ErrContextPassword},
		{"hdfcbank.co.in!", "ravi@hdfcbank.co.in", "Ravi", ErrContextPassword},
		{"2024 Hdfcbank!!", "ravi@hdfcbank.co.in", "Ravi", ErrContextPassword},
		// Longest first: the domain's word is taken out whole before the
		// local part inside it ("tara" first would leave "keshwar2024",
		// 11 of its own).
		{"Tarakeshwar2024!", "tara@tarakeshwar.in", "Tara Rao", ErrContextPassword},
		// Enough of the password's own beyond the words passes.
		{"u9 plum tractor seventy", "u9@example.com", "U Nine", nil},
		{"correct horse battery", "u9@example.com", "U Nine", nil},
		{"example of plum tractors", "u9@example.com", "U Nine", nil},
	} {
		if err := CheckPassword(tc.pw, tc.email, tc.name); !errors.Is(err, tc.want) {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", tc.pw, tc.email, err, tc.want)
		}
	}
}
