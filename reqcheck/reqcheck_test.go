package reqcheck_test

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"loandesk/reqcheck"
)

// wantErr checks err against a code and field ("" code: no error).
func wantErr(t *testing.T, err error, code, field, in string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *reqcheck.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want a *reqcheck.Error with code %s", err, code)
	}
	if e.Code != code || e.Field != field || e.In != in {
		t.Fatalf("got code %q field %q in %q, want %q %q %q", e.Code, e.Field, e.In, code, field, in)
	}
	if !reqcheck.Text(e.Message()) {
		t.Fatalf("message is not printable text: %q", e.Message())
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true},
		{"Asha Verma", true},
		{"12, MG Road\r\nPune\t411001", true},
		{"नमस्ते ₹5,00,000", true},
		{"Asha\x00Verma", false},
		{"\x1b[31m", false},
		{"bell\a", false},
		{"del\x7f", false},
		{"c1\u0086", false},
		// Line breaks pasted text brings (issue 18, found by a tester: a
		// note pasted from a word processor was refused as a bad request).
		{"line\vbreak", true},
		{"page\fbreak", true},
		{"next\u0085line", true},
		{"\xff\xfe", false},
		{"half\xe2\x82", false},
	} {
		if got := reqcheck.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw   string
		code, field string
	}{
		{"Empty", "", "", ""},
		{"OneOfEach", "q=asha&status=submitted&page=2", "", ""},
		{"EmptyPairsSkipped", "a=1&&b=2&", "", ""},
		{"KeyWithoutValue", "download", "", ""},
		{"PlusIsSpace", "q=asha+verma", "", ""},
		{"EncodedNewlineIsText", "address=a%0D%0Ab", "", ""},
		{"RepeatedKey", "status=a&q=x&status=b", reqcheck.CodeRepeatedField, "status"},
		{"RepeatedSameValue", "q=x&q=x", reqcheck.CodeRepeatedField, "q"},
		{"RepeatedEncodedDifferently", "q=x&%71=y", reqcheck.CodeRepeatedField, "q"},
		{"RepeatedWithoutValue", "download&download=1", reqcheck.CodeRepeatedField, "download"},
		{"EncodedNUL", "q=a%00b", reqcheck.CodeInvalidEncoding, "q"},
		{"EncodedInvalidUTF8", "q=%FF%FE", reqcheck.CodeInvalidEncoding, "q"},
		{"RawInvalidUTF8", "q=\xff", reqcheck.CodeInvalidEncoding, "q"},
		{"InvalidKey", "%FF=1", reqcheck.CodeInvalidEncoding, "\xff"},
		{"ControlInKey", "a%01b=1", reqcheck.CodeInvalidEncoding, "a\x01b"},
		{"BadEscapeInValue", "q=%zz", reqcheck.CodeInvalidEncoding, "q"},
		{"BadEscapeInKey", "%zz=1", reqcheck.CodeInvalidEncoding, "%zz"},
		{"Semicolon", "a=1;b=2", reqcheck.CodeInvalidEncoding, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := reqcheck.Query(tc.raw)
			wantErr(t, err, tc.code, tc.field, reqcheck.InQuery)
			var e *reqcheck.Error
			malformed := strings.HasPrefix(tc.name, "BadEscape") || tc.name == "Semicolon"
			if errors.As(err, &e) && e.Malformed != malformed {
				t.Fatalf("Malformed = %v, want %v", e.Malformed, malformed)
			}
			if tc.code == "" {
				std, _ := url.ParseQuery(tc.raw)
				if fmt.Sprint(v) != fmt.Sprint(std) {
					t.Fatalf("parsed %v, net/url %v", v, std)
				}
			}
		})
	}
}

func TestForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		query, form url.Values
		code, field string
		in          string
	}{
		{"Plain", nil, url.Values{"version": {"1"}, "city": {"Mumbai"}}, "", "", ""},
		{"QueryAndFormDisjoint", url.Values{"next": {"/loans"}}, url.Values{"email": {"a@b.c"}}, "", "", ""},
		{"RepeatedInForm", nil, url.Values{"version": {"1"}, "city": {"Mumbai"}, "pan": {"ABCPV1234K", "ABCPV1234L"}}, reqcheck.CodeRepeatedField, "pan", reqcheck.InForm},
		{"EmptyRepeat", nil, url.Values{"city": {"", ""}}, reqcheck.CodeRepeatedField, "city", reqcheck.InForm},
		{"SameKeyInQueryAndForm", url.Values{"version": {"1"}}, url.Values{"version": {"2"}}, reqcheck.CodeRepeatedField, "version", reqcheck.InBoth},
		{"SameKeyEmptyInQuery", url.Values{"city": {""}}, url.Values{"city": {"Delhi"}}, reqcheck.CodeRepeatedField, "city", reqcheck.InBoth},
		{"NULInValue", nil, url.Values{"name": {"Asha\x00Verma"}}, reqcheck.CodeInvalidEncoding, "name", reqcheck.InForm},
		{"InvalidUTF8InValue", nil, url.Values{"name": {"\xff\xfe"}}, reqcheck.CodeInvalidEncoding, "name", reqcheck.InForm},
		{"InvalidUTF8InKey", nil, url.Values{"na\xffme": {"x"}}, reqcheck.CodeInvalidEncoding, "na\xffme", reqcheck.InForm},
		{"TextareaNewlines", nil, url.Values{"reason": {"line one\r\nline two\tend"}}, "", "", ""},
		// The first field in sorted order is named, every time.
		{"FirstProblemInKeyOrder", nil, url.Values{"z": {"1", "2"}, "a": {"\x00"}}, reqcheck.CodeInvalidEncoding, "a", reqcheck.InForm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantErr(t, reqcheck.Form(tc.query, tc.form), tc.code, tc.field, tc.in)
		})
	}
}

// multipartForm builds and parses a multipart body from (name, filename,
// content) parts; an empty filename makes a text field.
func multipartForm(t *testing.T, parts ...[3]string) *multipart.Form {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p[1] == "" {
			if err := mw.WriteField(p[0], p[2]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		fw, err := mw.CreateFormFile(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(p[2]))
	}
	mw.Close()
	f, err := multipart.NewReader(&body, mw.Boundary()).ReadForm(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.RemoveAll() })
	return f
}

func TestMultipart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		query       url.Values
		parts       [][3]string
		code, field string
		in          string
	}{
		{"KindAndFile", nil, [][3]string{{"kind", "", "pan"}, {"file", "pan.png", "PNG"}}, "", "", ""},
		{"KindTwice", nil, [][3]string{{"kind", "", "pan"}, {"kind", "", "income"}, {"file", "pan.png", "PNG"}}, reqcheck.CodeRepeatedField, "kind", reqcheck.InForm},
		{"TwoFiles", nil, [][3]string{{"kind", "", "pan"}, {"file", "a.png", "A"}, {"file", "b.png", "B"}}, reqcheck.CodeRepeatedField, "file", reqcheck.InForm},
		{"FileAndTextOfOneName", nil, [][3]string{{"file", "", "text"}, {"file", "a.png", "A"}}, reqcheck.CodeRepeatedField, "file", reqcheck.InForm},
		{"KindInQueryToo", url.Values{"kind": {"income"}}, [][3]string{{"kind", "", "pan"}, {"file", "a.png", "A"}}, reqcheck.CodeRepeatedField, "kind", reqcheck.InBoth},
		{"FileInQueryToo", url.Values{"file": {"x"}}, [][3]string{{"kind", "", "pan"}, {"file", "a.png", "A"}}, reqcheck.CodeRepeatedField, "file", reqcheck.InBoth},
		{"NULInKind", nil, [][3]string{{"kind", "", "pan\x00"}}, reqcheck.CodeInvalidEncoding, "kind", reqcheck.InForm},
		{"InvalidFileName", nil, [][3]string{{"file", "a\xff.png", "A"}}, reqcheck.CodeInvalidEncoding, "file", reqcheck.InForm},
		// The file's content is not text and is not checked.
		{"BinaryContent", nil, [][3]string{{"file", "a.png", "\x89PNG\x00\xff"}}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantErr(t, reqcheck.Multipart(tc.query, multipartForm(t, tc.parts...)), tc.code, tc.field, tc.in)
		})
	}
	if err := reqcheck.Multipart(nil, nil); err != nil {
		t.Fatalf("nil form: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  reqcheck.Error
		want string
	}{
		{reqcheck.Error{Code: reqcheck.CodeRepeatedField, Field: "pan", In: reqcheck.InForm}, `The field "pan" was sent more than once in the form.`},
		{reqcheck.Error{Code: reqcheck.CodeRepeatedField, Field: "version", In: reqcheck.InBoth}, `The field "version" was sent both in the address and in the form.`},
		{reqcheck.Error{Code: reqcheck.CodeInvalidEncoding, Field: "\xff<b>", In: reqcheck.InQuery}, `The field "\xff<b>" in the address is not valid text`},
		{reqcheck.Error{Code: reqcheck.CodeInvalidEncoding, In: reqcheck.InForm}, `could not be read in the form`},
		{reqcheck.Error{Code: reqcheck.CodeInvalidEncoding, Field: "q", In: reqcheck.InQuery, Malformed: true}, `The field "q" in the address is not properly encoded.`},
	} {
		if got := tc.err.Message(); !strings.Contains(got, tc.want) {
			t.Errorf("Message() = %q, want it to contain %q", got, tc.want)
		}
	}
}

func ExampleQuery() {
	_, err := reqcheck.Query("status=submitted&q=asha&status=approved")
	var e *reqcheck.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Field, e.In)
		fmt.Println(e.Message())
	}
	// Output:
	// repeated_field status query
	// The field "status" was sent more than once in the address. Send each field once.
}

func TestPastedBreaks(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                 "",
		"no breaks":                        "no breaks",
		"Line one\vLine two":               "Line one\nLine two",
		"Page\fNext page\u0085End\r\nCRLF": "Page\nNext page\nEnd\r\nCRLF",
	} {
		if got := reqcheck.PastedBreaks(in); got != want {
			t.Errorf("PastedBreaks(%q) = %q, want %q", in, got, want)
		}
	}
}
