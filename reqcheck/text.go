package reqcheck

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// The text rules every writer of stored text applies (the loan service's
// fields and reasons, user names and emails, uploaded file names), so
// what is stored shows as what it is (Unicode TR #36, TR #39):
//
//   - CleanText drops the characters that change how text around them
//     is shown without showing themselves: bidirectional embeddings,
//     overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks
//     U+200E, U+200F and U+061C, zero-width space, word joiner and
//     byte-order mark (U+200B, U+2060, U+FEFF) and the other invisible
//     format and default-ignorable characters (soft hyphen, tag
//     characters, Hangul fillers, U+2061–U+2064, U+180E …; see Invisible).
//     Zero-width (non-)joiners
//     (U+200C, U+200D) are kept only after a letter or mark of a script
//     that needs them (Devanagari, Bengali, Malayalam ...), never after
//     Latin, Greek or Cyrillic, where they only hide a difference.
//     "inv\u202Egnp.exe.png" becomes "invgnp.exe.png": listed as sent.
//   - PlainEmail accepts only printable ASCII, so "аdmin@example.com"
//     with a Cyrillic а cannot pass for admin@example.com.
//   - MixedScript finds a word mixing Latin, Greek and Cyrillic letters
//     ("Аsha" with a Cyrillic А): refused in names.
//   - StaffName, NameLookalikeKey and PhoneticLetters keep staff names
//     apart: a new user named like an existing one ("Admın", "ADMIN",
//     "ᴀdmin" beside "Admin") is refused.
//   - FileName cleans a file name and refuses ".", ".." and names with a
//     path separator.

// Invisible reports whether r shows nothing itself and is always
// removed by CleanText: a format character (general category Cf: the
// bidirectional embeddings, overrides, isolates and marks, zero-width
// space, word joiner, byte-order mark, soft hyphen U+00AD, the tag
// characters U+E0000–U+E007F …), another default-ignorable code point
// (Unicode's Other_Default_Ignorable_Code_Point: the combining grapheme
// joiner U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0 …), or
// the line and paragraph separators U+2028 and U+2029. Not removed
// always: the zero-width (non-)joiners and the variation selectors, which
// CleanText keeps where a script uses them, and the prepended
// concatenation marks (the Arabic number sign U+0600 …), which show.
// Source: Unicode TR #44 DerivedCoreProperties (Default_Ignorable_Code_Point),
// TR #36 §3.
func Invisible(r rune) bool {
	switch {
	case r < 0xAD:
		return false // ASCII and Latin-1 up to the soft hyphen: fast path
	case r == 0x200C, r == 0x200D, unicode.Is(unicode.Variation_Selector, r):
		return false // by context, in CleanText
	case r == 0x2028, r == 0x2029:
		return true
	case unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// CleanText returns s without invisible characters (see Invisible),
// without zero-width joiners that do not follow a letter or mark of a
// script that shapes with them, and without variation selectors that do
// not follow a symbol (emoji presentation) or a Han ideograph (a name's
// glyph variant). Text without any is returned as it is.
func CleanText(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return Invisible(r) || contextual(r) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prev := rune(-1)
	for _, r := range s {
		switch {
		case Invisible(r):
			continue
		case r == 0x200C || r == 0x200D:
			if !joinerScript(prev) {
				continue
			}
		case unicode.Is(unicode.Variation_Selector, r):
			if prev < 0 || !(unicode.Is(unicode.So, prev) || unicode.Is(unicode.Han, prev)) {
				continue
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// contextual reports whether r is kept or dropped by what precedes it.
func contextual(r rune) bool {
	return r == 0x200C || r == 0x200D || (r >= 0xFE00 && unicode.Is(unicode.Variation_Selector, r))
}

// joinerScript reports whether a zero-width joiner after r can be
// meaningful: r is a letter or mark outside Latin, Greek and Cyrillic
// (Indic and Arabic scripts, emoji sequences use them).
func joinerScript(r rune) bool {
	if r < 0 || r < 0x80 {
		return false
	}
	if unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.So, r) || r == 0xFE0F
}

// PlainEmail reports whether s uses printable ASCII only (no spaces):
// the letters of an address that look like what they are.
func PlainEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7F {
			return false
		}
	}
	return s != ""
}

// MixedScript reports whether a word of s has letters of more than one of
// Latin, Greek and Cyrillic (the scripts whose letters look alike).
func MixedScript(s string) bool {
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) }) {
		var latin, greek, cyrillic bool
		for _, r := range word {
			latin = latin || unicode.Is(unicode.Latin, r)
			greek = greek || unicode.Is(unicode.Greek, r)
			cyrillic = cyrillic || unicode.Is(unicode.Cyrillic, r)
		}
		if n := btoi(latin) + btoi(greek) + btoi(cyrillic); n > 1 {
			return true
		}
	}
	return false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ErrFileName is a file name that cannot be stored as sent; its text is
// fit to show.
var ErrFileName = errors.New("The file name is not usable: rename the file (no \".\", \"..\", slashes or backslashes) and upload it again.")

// maxFileName bounds a stored file name, in characters.
const maxFileName = 120

// FileName returns the name to store for an uploaded file's name as sent:
// invisible and control characters removed, trimmed, at most 120
// characters (the extension kept). A name that is empty after that gets
// "document". A name with a slash or backslash, or that is "." or "..",
// is refused with ErrFileName.
func FileName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", ErrFileName
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, CleanText(name))
	name = strings.TrimSpace(name)
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", ErrFileName
	}
	if r := []rune(name); len(r) > maxFileName {
		ext := []rune("")
		if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 10 {
			ext = []rune(name[i:])
		}
		name = string(r[:maxFileName-len(ext)]) + string(ext)
	}
	if strings.Trim(name, ". ") == "" {
		if name == "" {
			return "document", nil
		}
		return "", ErrFileName
	}
	return name, nil
}

// StaffName returns the form a member of staff's name is stored in:
// compatibility forms folded (NFKC: full-width "Ｒａｈｕｌ" is "Rahul",
// mathematical letters are plain ones), after CleanText, trimmed.
func StaffName(s string) string {
	return strings.TrimSpace(norm.NFKC.String(CleanText(s)))
}

// NameLookalikeKey is the key under which two names look the same: the
// Unicode TR #39 skeleton (github.com/mtibben/confusables, generated from
// Unicode's confusables.txt: "Admın" with a dotless ı, "Adrnin" and "Admin"
// share one) of the name's NFKC form, in lower case (case is not an
// identity: "ADMIN" and "admin" name the same person to a reader).
func NameLookalikeKey(s string) string {
	return confusables.Skeleton(strings.ToLower(StaffName(s)))
}

// PhoneticLetters reports whether s has a letter from the blocks that
// spell sounds, not names (IPA Extensions, Phonetic Extensions and their
// supplement, Latin Extended-D's small capitals): "ᴀdmin" with a small
// capital ᴀ passes for "Admin" and no one is named with them.
func PhoneticLetters(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return (r >= 0x0250 && r <= 0x02AF) || (r >= 0x1D00 && r <= 0x1DBF) || (r >= 0xA720 && r <= 0xA7FF)
	})
}
