package auth

import (
	_ "embed"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordsText is the 10,000 most common passwords of SecLists
// (github.com/danielmiessler/SecLists, MIT licence, © Daniel Miessler
// and contributors), file Passwords/Common-Credentials/10k-most-common.txt
// as of commit 4f84b3c29b5f2192cc82ccdeaf655f0c5f0ab547, drawn from
// Mark Burnett's ten million leaked passwords (xato.net), one per line
// with LF line ends (the original has CRLF). SHA-256 of this copy:
// 4adb3f0afb4a10cf19ebe48d8c69a46f934bbc8d77c694c210564f9583e7f4ba.
//
// Only ten of them have the twelve characters our policy asks for, so
// they are used as bases too: "Password1234" is "password" plus digits.
//
//go:embed commonpasswords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10_000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.ToLower(strings.TrimSpace(line)); line != "" {
			m[line] = struct{}{}
		}
	}
	return m
})

// productWords are words of this product and its context that no
// password may be built on, whoever it is for.
var productWords = []string{"loandesk", "loan desk", "password", "admin", "lender"}

// Messages of CheckPassword, shown next to the password field.
var (
	ErrCommonPassword   = errors.New("This password is on a list of common or leaked passwords. Choose another, e.g. a few unrelated words.")
	ErrRepeatedPassword = errors.New("This password is one short part repeated. Choose another, e.g. a few unrelated words.")
	ErrContextPassword  = errors.New("This password is built on the product's name, the word 'password' or your own name or email. Choose another.")
)

// minOwnChars is how many characters a password needs beyond any context
// word it contains.
const minOwnChars = 8

// CheckPassword applies the whole password policy to a new password for
// the account with email and name: the length rules of ValidatePassword,
// then it refuses a password that is, or is built on, a common or leaked
// password (a list entry with only digits or symbols around it, also
// with l33t spelling undone), one short part repeated, or little more
// than context words (the product's name, "password", the user's email
// and name). Case is ignored throughout. The error is fit to show next
// to the field.
func CheckPassword(pw, email, name string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	lower := strings.ToLower(pw)
	if isRepeated(strings.Join(strings.Fields(lower), "")) {
		return ErrRepeatedPassword
	}
	common := commonPasswords()
	for _, cand := range []string{lower, strings.Join(strings.Fields(lower), "")} {
		if isCommon(common, cand) {
			return ErrCommonPassword
		}
	}
	words := contextWords(email, name)
	for _, cand := range []string{lower, unleet(lower)} {
		rest := cand
		for _, w := range words {
			rest = strings.ReplaceAll(rest, w, "")
		}
		if rest != cand && ownChars(rest) < minOwnChars {
			return ErrContextPassword
		}
	}
	return nil
}

// isCommon reports whether s is on the list, or is a list entry of four
// or more characters with only non-letters before or after it, also when
// l33t spelling is undone in that entry ("p@ssw0rd!2024").
func isCommon(common map[string]struct{}, s string) bool {
	on := func(x string) bool {
		if len(x) < 4 {
			return false
		}
		_, a := common[x]
		_, b := common[unleet(x)]
		return a || b
	}
	if on(s) {
		return true
	}
	for i := range len(s) + 1 {
		// s[:i] a list entry, s[i:] no letters; or the other way round.
		if noLetters(s[i:]) && on(s[:i]) || noLetters(s[:i]) && on(s[i:]) {
			return true
		}
	}
	// A list entry with non-letters on both sides.
	core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != s && on(core)
}

// isRepeated reports whether s is a part of at most half its length
// repeated ("abcabcabcabc", "passwordpassword", "111111111111").
func isRepeated(s string) bool {
	r := []rune(s)
	for n := 1; n <= len(r)/2; n++ {
		if len(r)%n != 0 {
			continue
		}
		if strings.Repeat(string(r[:n]), len(r)/n) == s {
			return true
		}
	}
	return false
}

// contextWords are the product's words and the user's own, lower case,
// longest first (so the whole email is taken out before its parts): the
// whole email, its local part (of two or more characters: "u9"), the
// local part's and the domain's words ("asha", "iyer"; "hdfcbank",
// "example" — every label but the last) and the name's words, of four or
// more characters.
func contextWords(email, name string) []string {
	words := append([]string(nil), productWords...)
	add := func(w string, least int) {
		if w = strings.ToLower(strings.TrimSpace(w)); len([]rune(w)) >= least {
			words = append(words, w)
		}
	}
	notWordChar := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	email = strings.ToLower(strings.TrimSpace(email))
	local, domain, _ := strings.Cut(email, "@")
	add(email, 2)
	add(local, 2)
	for _, p := range strings.FieldsFunc(local, notWordChar) {
		add(p, 4)
	}
	if i := strings.LastIndex(domain, "."); i > 0 {
		add(domain, 4)
		for _, p := range strings.FieldsFunc(domain[:i], notWordChar) {
			add(p, 4)
		}
	}
	for _, w := range strings.Fields(name) {
		add(w, 4)
	}
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) })
	return words
}

// unleet undoes the usual digit and symbol spellings of letters.
func unleet(s string) string {
	return strings.NewReplacer("@", "a", "4", "a", "8", "b", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t").Replace(s)
}

func noLetters(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsLetter)
}

// ownChars counts the letters and digits of s.
func ownChars(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}
