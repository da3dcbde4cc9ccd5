package web_test

// Look-alike identities, invisible characters and unusable file names
// (issue 19), over HTTP: refused, or stored without the characters that
// hide what the text is.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/ocr/ocrtest"
)

func TestLookAlikes_Users(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "admin@example.com")
	add := func(email, name, password string) response {
		return postForm(t, c, b.url, "/admin/users", url.Values{"email": {email}, "name": {name}, "role": {"admin"}, "password": {password}})
	}

	for what, tc := range map[string]struct{ email, name, password, msg string }{
		"Cyrillic а in the email":      {"\u0430dmin@example.com", "Admin", "plum tractor seventy", "plain Latin letters"},
		"zero-width space in email":    {"ad\u200bmin@example.com", "Admin", "plum tractor seventy", "plain Latin letters"},
		"mixed-script name":            {"asha@example.com", "\u0410sha Iyer", "plum tractor seventy", "mixes Latin"},
		"passwordpassword":             {"p1@example.com", "P One", "passwordpassword", "repeated"},
		"123456789012":                 {"p2@example.com", "P Two", "123456789012", "common or leaked"},
		"Password1234":                 {"p3@example.com", "P Three", "Password1234", "common or leaked"},
		"loandesk1234":                 {"p4@example.com", "P Four", "loandesk1234", "product's name"},
		"built on the user's own name": {"ravi.kumar@example.com", "Ravi Kumar", "ravikumar@2024", "your own name"},
		// Found by a tester: names that read as an existing user's.
		"dotless ı beside admin": {"x1@example.com", "Adm\u0131n", "plum tractor seventy", "looks the same as admin's (admin@example.com)"},
		"admin in capitals":      {"x2@example.com", "ADMIN", "plum tractor seventy", "looks the same as admin's"},
		"rn for m":               {"x3@example.com", "adrnin", "plum tractor seventy", "looks the same as admin's"},
		"full-width letters":     {"x4@example.com", "\uff41\uff44\uff4d\uff49\uff4e", "plum tractor seventy", "looks the same as admin's"},
		"soft hyphen inside":     {"x5@example.com", "ad\u00admin", "plum tractor seventy", "looks the same as admin's"},
		"small capital ᴀ":        {"x6@example.com", "\u1d00dmin", "plum tractor seventy", "phonetic letters"},
	} {
		res := add(tc.email, tc.name, tc.password)
		msg := parse(t, res.body).Find(`[data-testid="field-error"]`).Text()
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: status %d, message %q, want 422 with %q", what, res.status, msg, tc.msg)
		}
	}
	users, _ := b.store.UserList(context.Background())
	if len(users) != 1 {
		t.Fatalf("%d users stored after refusals, want 1", len(users))
	}

	// Invisible and bidi characters in a name are dropped, not stored.
	if res := add("ravi@example.com", "Ravi\u202e Kumar\u2066\u200b", "plum tractor seventy"); res.status != http.StatusSeeOther {
		t.Fatalf("name with bidi controls: status %d", res.status)
	}
	u, err := b.store.UserByEmail(context.Background(), "ravi@example.com")
	if err != nil || u.Name != "Ravi Kumar" {
		t.Fatalf("stored name %q (%v), want %q", u.Name, err, "Ravi Kumar")
	}
	// Compatibility forms are stored folded (NFKC): full-width letters
	// are the plain ones; a name in Devanagari is kept as typed.
	for email, want := range map[string]string{"sunita@example.com": "Sunita Rao", "rahul@example.com": "राहुल शर्मा"} {
		name := want
		if want == "Sunita Rao" {
			name = "\uff33\uff55\uff4e\uff49\uff54\uff41 \uff32\uff41\uff4f"
		}
		if res := add(email, name, "plum tractor seventy"); res.status != http.StatusSeeOther {
			t.Fatalf("%q: status %d", name, res.status)
		}
		if u, err := b.store.UserByEmail(context.Background(), email); err != nil || u.Name != want {
			t.Errorf("stored name %q (%v), want %q", u.Name, err, want)
		}
	}
}

func TestLookAlikes_LoanTextAndFileNames(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "uw@example.com")

	// A name with an invisible character is refused; free text is
	// stored without bidi overrides and zero-width spaces; a Devanagari
	// conjunct's zero-width joiner is kept.
	res := send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant",
		url.Values{"version": {"1"}, "city": {"Pu\u200dne"}}, true)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("a city with a zero-width joiner: status %d, want 422", res.status)
	}
	res = send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant",
		url.Values{"version": {"1"}, "address": {"12, MG\u202e Road\u200b, Pune"}}, true)
	if res.status != http.StatusOK {
		t.Fatalf("update: status %d\n%.400s", res.status, res.body)
	}
	l, err := f.store.LoanGet(context.Background(), f.loan.HumanID)
	if err != nil || l.Applicant.Address != "12, MG Road, Pune" {
		t.Fatalf("stored address %q (%v)", l.Applicant.Address, err)
	}
	res = send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant",
		url.Values{"version": {"2"}, "address": {"१२, क्\u200dष रोड, पुणे"}}, true)
	if l, _ = f.store.LoanGet(context.Background(), f.loan.HumanID); res.status != http.StatusOK || l.Applicant.Address != "१२, क्\u200dष रोड, पुणे" {
		t.Fatalf("Devanagari with a joiner: status %d, stored %q", res.status, l.Applicant.Address)
	}

	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	// Listed as sent, not reversed: the override is dropped.
	if res := upload(t, c, f.url, f.loan.HumanID, "pan", "inv\u202egnp.exe.png", png); res.status != http.StatusOK {
		t.Fatalf("upload: status %d", res.status)
	}
	for _, name := range []string{"..", ".", `a\..\b.png`} {
		res := upload(t, c, f.url, f.loan.HumanID, "pan", name, png)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "file name is not usable") {
			t.Errorf("file name %q: status %d, want 422", name, res.status)
		}
	}
	docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID)
	if err != nil || len(docs) != 1 || docs[0].Filename != "invgnp.exe.png" {
		t.Fatalf("documents %+v (%v), want one named invgnp.exe.png", docs, err)
	}
}
