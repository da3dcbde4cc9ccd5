package reqcheck

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text":                    "plain text",
		"inv\u202egnp.exe.png":          "invgnp.exe.png",
		"a\u202ab\u202bc\u202cd\u202de": "abcde",
		"\u2066x\u2067y\u2068z\u2069":   "xyz",
		"zero\u200bwidth\ufeff":         "zerowidth",
		"l\u200er\u200fm\u061c":         "lrm",
		"ad\u200dmin":                   "admin", // a joiner between Latin letters only hides
		"\u200dstart":                   "start",
		"क्\u200dष":                     "क्\u200dष", // Devanagari half form: kept
		"👩\u200d💻":                      "👩\u200d💻",  // emoji sequence: kept
		// Found by a tester: default-ignorable and format characters
		// outside the first list.
		"soft\u00adhyphen":              "softhyphen",
		"tag\U000e0041\U000e007fs":      "tags",
		"cgj\u034fx":                    "cgjx",
		"\u115f\u1160\u3164\uffa0Rahul": "Rahul", // Hangul fillers
		"line\u2028para\u2029":          "linepara",
		"ad\ufe0fmin":                   "admin",                // a variation selector after a Latin letter
		"\u2764\ufe0f":                  "\u2764\ufe0f",         // after a symbol (emoji presentation): kept
		"\u845b\U000e0100":              "\u845b\U000e0100",     // an ideographic variant of a Han name: kept
		"\u0600\u0661":                  "\u0600\u0661",         // the Arabic number sign shows: kept
		"\u00e9t\u00e9 ₹1,000":          "\u00e9t\u00e9 ₹1,000", // Latin-1 letters and symbols untouched
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainEmailAndMixedScript(t *testing.T) {
	t.Parallel()
	if !PlainEmail("admin@example.com") || PlainEmail("\u0430dmin@example.com") || PlainEmail("a b@example.com") || PlainEmail("") {
		t.Error("PlainEmail is wrong")
	}
	for s, want := range map[string]bool{"Asha Iyer": false, "\u0410sha Iyer": true, "Ивана Петрова": false, "Αθηνα": false,
		"Pαul": true, "राहुल शर्मा": false, "Asha Иванова": false} {
		if MixedScript(s) != want {
			t.Errorf("MixedScript(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"pan.png":                         "pan.png",
		"inv\u202egnp.exe.png":            "invgnp.exe.png",
		" spaced .pdf ":                   "spaced .pdf",
		"":                                "document",
		"\u200b":                          "document",
		strings.Repeat("x", 200) + ".pdf": strings.Repeat("x", 116) + ".pdf",
	} {
		if got, err := FileName(in); err != nil || got != want {
			t.Errorf("FileName(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{".", "..", "...", "a/b.png", `a\b.png`, "../etc/passwd", ".\u202e.", "bad \xff utf8",
		"..\u00ad", "\u00ad..", ".\U000e0041.", ".\u2028."} {
		if got, err := FileName(in); !errors.Is(err, ErrFileName) {
			t.Errorf("FileName(%q) = %q, %v, want ErrFileName", in, got, err)
		}
	}
}
