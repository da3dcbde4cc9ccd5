package auth

import (
	"errors"
	"strings"
	"testing"
)

// The passwords issue 19 found accepted, and their kin, are refused; the
// length rules still apply first; sound passphrases pass.
func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw, email, name string
		want            error
	}{
		{"passwordpassword", "asha@example.com", "Asha Iyer", ErrRepeatedPassword},
		{"123456789012", "asha@example.com", "Asha Iyer", ErrCommonPassword},
		{"Password1234", "asha@example.com", "Asha Iyer", ErrCommonPassword},
		{"loandesk1234", "asha@example.com", "Asha Iyer", ErrContextPassword},
		{"P@ssw0rd!2024", "asha@example.com", "Asha Iyer", ErrCommonPassword},
		{"qwertyuiop12", "asha@example.com", "Asha Iyer", ErrCommonPassword},
		{"1q2w3e4r5t6y", "asha@example.com", "Asha Iyer", nil}, // not on the 10k list as a whole or a base: length carries it
		{"abcabcabcabc", "asha@example.com", "Asha Iyer", ErrRepeatedPassword},
		{"aaaaaaaaaaaa", "asha@example.com", "Asha Iyer", ErrRepeatedPassword},
		{"ashaiyer2024!", "asha.iyer@example.com", "Asha Iyer", ErrContextPassword},
		{"LoanDesk Admin 1", "asha@example.com", "Asha Iyer", ErrContextPassword},
		{"hdfcbank12345", "ravi@hdfcbank.in", "Ravi", ErrContextPassword},
		{"my password is long enough", "asha@example.com", "Asha Iyer", nil},
		{"correct horse battery", "asha@example.com", "Asha Iyer", nil},
		{"plum tractor seventy", "asha@example.com", "Asha Iyer", nil},
		{"short", "asha@example.com", "Asha Iyer", nil}, // the length rule's own message
	} {
		err := CheckPassword(tc.pw, tc.email, tc.name)
		switch {
		case tc.pw == "short":
			if err == nil || !strings.Contains(err.Error(), "at least 12") {
				t.Errorf("CheckPassword(%q) = %v, want the length message", tc.pw, err)
			}
		case !errors.Is(err, tc.want):
			t.Errorf("CheckPassword(%q, %q, %q) = %v, want %v", tc.pw, tc.email, tc.name, err, tc.want)
		}
	}
	// Every list entry of twelve characters or more is refused as it is.
	n := 0
	for pw := range commonPasswords() {
		if len(pw) >= MinPasswordLen && len(pw) <= MaxPasswordLen {
			n++
			if !errors.Is(CheckPassword(pw, "x@example.com", "X"), ErrCommonPassword) && !errors.Is(CheckPassword(pw, "x@example.com", "X"), ErrRepeatedPassword) {
				t.Errorf("list entry %q accepted", pw)
			}
		}
	}
	if len(commonPasswords()) < 9_900 || n == 0 {
		t.Fatalf("the embedded list holds %d passwords (%d of 12+ characters)", len(commonPasswords()), n)
	}
}

// The edges of the policy's rules, each a password one side of it
// (found by gremlins: each flipped edge passed TestCheckPassword).
func TestCheckPassword_Edges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw   string
		want error
	}{
		// Exactly minOwnChars (8) letters and digits beyond a context word
		// is enough; 7 is not.
		{"loandeskq7v2m9x4", nil},
		{"loandeskq7v2m9x!", ErrContextPassword},
		// A list entry of exactly four characters is a base too ("love").
		{"love90817263", ErrCommonPassword},
		// A list entry ending in a digit with one symbol after it: only the
		// split before the last character finds it ("primetime21" is on
		// the list, "primetime" is not).
		{"primetime21!", ErrCommonPassword},
		// A list entry with digits and symbols on both sides ("monkey").
		{"12monkey!!34", ErrCommonPassword},
		{"!!dragon2024", ErrCommonPassword},
	} {
		if err := CheckPassword(tc.pw, "asha@example.com", "Asha Iyer"); !errors.Is(err, tc.want) {
			t.Errorf("CheckPassword(%q) = %v, want %v", tc.pw, err, tc.want)
		}
	}
}
