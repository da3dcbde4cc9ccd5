// Package reqcheck refuses request input that a handler could read in
// more than one way, so that a refused request is refused whole, before
// anything reads it, and nothing is stored.
//
// Two things are refused:
//
//   - a field sent more than once: twice in the query, twice in the form
//     body, or once in each (url.Values.Get takes the first, r.FormValue
//     prefers the body, a validator may see one copy and the store another);
//   - text that is not valid UTF-8 or carries control characters (NUL, the
//     other C0 and C1 controls, DEL) other than tab, CR, LF and the line
//     breaks pasted text brings (VT, FF, NEL: PastedBreaks), in any key
//     or value; and a query or body that is not properly percent-encoded
//     (net/url drops such pairs silently).
//
// The checks are pure functions over url.Values, a raw query string and a
// parsed multipart form. The web middleware applies Query and Form to every
// request; a handler that parses a multipart body itself (after bounding
// it) applies Multipart.
package reqcheck

import (
	"fmt"
	"mime/multipart"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Stable error codes, for JSON API answers.
const (
	// CodeRepeatedField: a field was sent more than once.
	CodeRepeatedField = "repeated_field"
	// CodeInvalidEncoding: a key or value is not UTF-8 text without
	// control characters, or the query or body is badly percent-encoded.
	CodeInvalidEncoding = "invalid_encoding"
)

// Where the refused field was sent.
const (
	InQuery = "query"
	InForm  = "form"
	InBoth  = "query and form"
)

// Error is a refused request: why (Code), which field as it was sent
// (Field; it may itself be the invalid text, so show Message, which quotes
// it safely) and where (In).
type Error struct {
	Code  string
	Field string
	In    string
	// Malformed: the pair could not be decoded at all (a bad %-escape or
	// a ';' separator); Field is then the key as sent, still encoded.
	Malformed bool
}

// Error implements error.
func (e *Error) Error() string {
	return "reqcheck: " + e.Code + ": " + e.Message()
}

// Message says what was wrong, for people; the field name is quoted with
// Go escapes, so it is printable whatever was sent.
func (e *Error) Message() string {
	where := ""
	switch e.In {
	case InQuery:
		where = " in the address"
	case InForm:
		where = " in the form"
	case InBoth:
		where = " both in the address and in the form"
	}
	switch e.Code {
	case CodeRepeatedField:
		if e.In == InBoth {
			return fmt.Sprintf("The field %s was sent%s. Send each field once.", quote(e.Field), where)
		}
		return fmt.Sprintf("The field %s was sent more than once%s. Send each field once.", quote(e.Field), where)
	case CodeInvalidEncoding:
		if e.Field == "" {
			return fmt.Sprintf("The request could not be read%s: it is not properly encoded.", where)
		}
		if e.Malformed {
			return fmt.Sprintf("The field %s%s is not properly encoded.", quote(e.Field), where)
		}
		return fmt.Sprintf("The field %s%s is not valid text (UTF-8 without control characters).", quote(e.Field), where)
	}
	return "The request was refused."
}

func quote(s string) string { return strconv.Quote(s) }

// Text reports whether s is valid UTF-8 without control characters other
// than tab, CR, LF and the pasted line breaks VT, FF and NEL.
func Text(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' && !pastedBreak(r) {
			return false
		}
	}
	return true
}

// pastedBreak reports whether r is a line-break control that text pasted
// from elsewhere carries: VT (a word processor's manual line break,
// Shift+Enter in Word), FF (a page break) and NEL (U+0085, from older
// systems). Unicode counts all three as white space.
func pastedBreak(r rune) bool { return r == '\v' || r == '\f' || r == 0x85 }

// PastedBreaks returns s with its pasted line breaks (VT, FF, NEL) made
// \n, as a textarea sends a line break typed there; text without any is
// returned as it is. Free-text checks call it first, so a note or a
// reason pasted from a document is kept with its lines, not refused.
func PastedBreaks(s string) string {
	if !strings.ContainsFunc(s, pastedBreak) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if pastedBreak(r) {
			return '\n'
		}
		return r
	}, s)
}

// Values checks that each key of v has one value and that every key and
// value is Text. Keys are checked in sorted order, so the error names the
// same field every time. The error is an *Error with In unset.
func Values(v url.Values) error {
	for _, k := range sortedKeys(v) {
		if !Text(k) {
			return &Error{Code: CodeInvalidEncoding, Field: k}
		}
		vals := v[k]
		if len(vals) > 1 {
			return &Error{Code: CodeRepeatedField, Field: k}
		}
		for _, s := range vals {
			if !Text(s) {
				return &Error{Code: CodeInvalidEncoding, Field: k}
			}
		}
	}
	return nil
}

// Query parses a raw URL query strictly and checks it with Values. Unlike
// url.ParseQuery, which drops them, a badly percent-encoded pair or a
// semicolon separator is an error (CodeInvalidEncoding). Empty pairs
// ("a=1&&b=2") are skipped as net/url does.
func Query(raw string) (url.Values, error) {
	v, err := parse(raw)
	if err != nil {
		err.In = InQuery
		return nil, err
	}
	if err := Values(v); err != nil {
		err.(*Error).In = InQuery
		return nil, err
	}
	return v, nil
}

// Form checks a parsed urlencoded body (form) with Values and that no
// field is in both the query and the body (r.FormValue would take the
// body's, r.URL.Query().Get the query's).
func Form(query, form url.Values) error {
	if err := Values(form); err != nil {
		err.(*Error).In = InForm
		return err
	}
	return disjoint(query, form)
}

// Multipart checks a parsed multipart form as Form does, its file parts
// too: each file field once, its file name Text, and no name used by two
// parts of any kind or by the query and the form.
func Multipart(query url.Values, f *multipart.Form) error {
	if f == nil {
		return nil
	}
	if err := Form(query, f.Value); err != nil {
		return err
	}
	for _, k := range sortedKeys(f.File) {
		if !Text(k) {
			return &Error{Code: CodeInvalidEncoding, Field: k, In: InForm}
		}
		if len(f.File[k]) > 1 || len(f.Value[k]) > 0 {
			return &Error{Code: CodeRepeatedField, Field: k, In: InForm}
		}
		for _, fh := range f.File[k] {
			if !Text(fh.Filename) {
				return &Error{Code: CodeInvalidEncoding, Field: k, In: InForm}
			}
		}
		if _, ok := query[k]; ok {
			return &Error{Code: CodeRepeatedField, Field: k, In: InBoth}
		}
	}
	return nil
}

func disjoint(query, form url.Values) error {
	for _, k := range sortedKeys(form) {
		if _, ok := query[k]; ok {
			return &Error{Code: CodeRepeatedField, Field: k, In: InBoth}
		}
	}
	return nil
}

// parse splits a query like url.ParseQuery but fails on the first pair
// that url.ParseQuery would drop.
func parse(raw string) (url.Values, *Error) {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			return nil, &Error{Code: CodeInvalidEncoding, Field: rawKey(pair), Malformed: true}
		}
		k, val, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, &Error{Code: CodeInvalidEncoding, Field: k, Malformed: true}
		}
		value, err := url.QueryUnescape(val)
		if err != nil {
			return nil, &Error{Code: CodeInvalidEncoding, Field: key, Malformed: true}
		}
		v[key] = append(v[key], value)
	}
	return v, nil
}

// rawKey is the key part of a pair that cannot be parsed, as sent.
func rawKey(pair string) string {
	k, _, _ := strings.Cut(pair, "=")
	k, _, _ = strings.Cut(k, ";")
	return k
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
