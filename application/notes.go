package application

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"loandesk/money"
	"loandesk/reqcheck"
)

// MaxNoteLen is the longest note, in characters.
const MaxNoteLen = 2000

// CanAddNote reports whether role may add notes: those who work
// applications (viewers read them).
func CanAddNote(role string) bool { return CanWork(role) }

// NoteText checks a note someone typed and returns it as it is kept:
// invisible and bidirectional control characters dropped
// (reqcheck.CleanText), other control characters but line breaks and tabs
// dropped, line breaks made \n (also the VT, FF and NEL of pasted text:
// reqcheck.PastedBreaks), in NFC, trimmed. The message is for
// people; "" means the note is fine.
func NoteText(typed string) (string, string) {
	if !utf8.ValidString(typed) {
		return "", "The note is not valid text."
	}
	s := strings.ReplaceAll(strings.ReplaceAll(reqcheck.PastedBreaks(typed), "\r\n", "\n"), "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, reqcheck.CleanText(s))
	s = strings.TrimSpace(norm.NFC.String(s))
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", "Write the note first."
	case n > MaxNoteLen:
		return "", "A note is at most 2,000 characters (this one is " + money.FormatCount(int64(n)) + ")."
	}
	return s, ""
}
