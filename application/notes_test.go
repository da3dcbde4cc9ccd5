package application

import (
	"strings"
	"testing"
)

func TestNoteText(t *testing.T) {
	t.Parallel()
	for typed, want := range map[string]string{
		"  Called HR.\r\nSlips Monday. ": "Called HR.\nSlips Monday.",
		"a\u202Eb\u0007c\tTabbed":        "abc\tTabbed",
		"zoe\u0308":                      "zoë",
		// Pasted from a word processor: its line and page breaks.
		"Called HR.\vSlips Monday.\fPage 2\u0085End": "Called HR.\nSlips Monday.\nPage 2\nEnd",
	} {
		if got, msg := NoteText(typed); got != want || msg != "" {
			t.Errorf("NoteText(%q) = %q, %q; want %q", typed, got, msg, want)
		}
	}
	for typed, want := range map[string]string{
		"":                        "Write the note first.",
		" \u200B\r\n":             "Write the note first.",
		strings.Repeat("ह", 2001): "A note is at most 2,000 characters (this one is 2,001).",
		"\xff":                    "The note is not valid text.",
	} {
		if _, msg := NoteText(typed); msg != want {
			t.Errorf("NoteText(%.20q): %q, want %q", typed, msg, want)
		}
	}
	if got, msg := NoteText(strings.Repeat("ह", 2000)); msg != "" || len([]rune(got)) != 2000 {
		t.Errorf("2,000 characters refused: %q", msg)
	}
	if CanAddNote("viewer") || !CanAddNote("underwriter") || !CanAddNote("admin") {
		t.Error("CanAddNote")
	}
}
