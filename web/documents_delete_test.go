package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
)

// replace posts a file in place of document doc, as the Replace form does
// with htmx.
func replace(t testing.TB, c *http.Client, base, loan, doc, filename string, data []byte, fields ...string) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/loans/"+loan+"/documents/"+doc+"/replace", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	return do(t, c, req)
}

// TestDocuments_DeleteAndReplace (issue 18): a document is deleted only
// with a reason and only by staff who may upload; it stays stored and
// served (kept for audit), is marked with who, when and why, and the
// deletion is in the history; deleting it again is a 409 naming who did.
// A deleted (or replaced) file is opened by admins only (audit); others
// get a 403 and no link.
// A replacement stores the new file, marks the old one replaced (still
// served) and is in the history; a deleted document cannot be replaced,
// and that stores nothing.
func TestDocuments_DeleteAndReplace(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	uw, admin, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	loanPath := "/loans/" + f.loan.HumanID
	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	if res := upload(t, uw, f.url, f.loan.HumanID, "pan", "card.png", png); res.status != http.StatusOK {
		t.Fatalf("upload: %d %.200s", res.status, res.body)
	}
	docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %d, %v", len(docs), err)
	}
	card := docs[0]
	cardPath := loanPath + "/documents/" + card.ID.Hex()

	deleted := func(id string) *model.DocumentDeletion {
		t.Helper()
		docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			if d.ID.Hex() == id {
				return d.Deleted
			}
		}
		t.Fatalf("document %s is gone from the store", id)
		return nil
	}
	for _, tc := range []struct {
		who    *http.Client
		name   string
		reason string
		status int
		says   string
	}{
		{viewer, "a viewer", "Blurred copy", http.StatusForbidden, "can view documents but not delete them"},
		{uw, "no reason", "   ", http.StatusUnprocessableEntity, "Say why card.png is deleted."},
	} {
		res := postForm(t, tc.who, f.url, cardPath+"/delete", url.Values{"reason": {tc.reason}})
		if res.status != tc.status || !strings.Contains(res.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q (%.300s)", tc.name, res.status, tc.status, tc.says, res.body)
		}
		if d := deleted(card.ID.Hex()); d != nil {
			t.Fatalf("%s: the document was deleted: %+v", tc.name, d)
		}
	}

	// Deleted by the form without JavaScript: back to the documents.
	res := postForm(t, uw, f.url, cardPath+"/delete", url.Values{"reason": {"Blurred copy"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != loanPath+"#documents-panel" {
		t.Fatalf("delete: %d %q", res.status, res.header.Get("Location"))
	}
	if d := deleted(card.ID.Hex()); d == nil || d.By != "uw@example.com" || d.Reason != "Blurred copy" || d.At.IsZero() {
		t.Fatalf("the deletion stored: %+v", d)
	}
	// Kept for audit: an admin opens and downloads it; nobody else does
	// (it may be another applicant's), and their panel links no file.
	if res := get(t, admin, f.url+cardPath); res.status != http.StatusOK || res.body != string(png) {
		t.Errorf("the deleted file is not kept for the admin: %d, %d bytes", res.status, len(res.body))
	}
	if res := get(t, admin, f.url+cardPath+"?download=1"); res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the admin's download of the deleted file: %d %q", res.status, res.header.Get("Content-Disposition"))
	}
	for name, c := range map[string]*http.Client{"viewer": viewer, "underwriter": uw} {
		for _, q := range []string{"", "?download=1"} {
			if res := get(t, c, f.url+cardPath+q); res.status != http.StatusForbidden || strings.Contains(res.body, string(png[:16])) || !strings.Contains(res.body, "only an admin can open it") {
				t.Errorf("%s opens the deleted file%s: %d", name, q, res.status)
			}
		}
	}
	page := get(t, viewer, f.url+loanPath).body
	for _, want := range []string{"Uploaded card.png", "Deleted card.png (kept for audit). Reason: Blurred copy", `data-testid="document-deleted"`, "kept for audit (admins open it)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the loan page lacks %q", want)
		}
	}
	if strings.Contains(page, cardPath) {
		t.Error("a viewer's loan page links the deleted file")
	}
	if !strings.Contains(get(t, admin, f.url+loanPath).body, cardPath+"?download=1") {
		t.Error("the admin's loan page does not link the deleted file")
	}
	if res := postForm(t, admin, f.url, cardPath+"/delete", url.Values{"reason": {"Duplicate"}}); res.status != http.StatusConflict ||
		!strings.Contains(res.body, "deleted already by uw (") || !strings.Contains(res.body, "Blurred copy") {
		t.Errorf("deleting again: %d (%.300s)", res.status, res.body)
	}

	// Replace: a slip with a newer one.
	if res := upload(t, uw, f.url, f.loan.HumanID, "income", "slip-old.png", png); res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	docs, _ = f.store.DocumentsOfLoan(ctx, f.loan.ID)
	old := docs[len(docs)-1]
	pdf := ocrtest.TextPDF([]string{"Net pay Rs. 85,000"})
	// A replacement says why, and its kind: without a reason (or with a
	// blank one, or no kind) nothing is stored and the row's form opens
	// again with what was typed.
	for _, c := range []struct {
		name, want string
		fields     []string
	}{
		{"no reason", "Say why slip-old.png is replaced.", []string{"kind", "bank"}},
		{"a blank reason", "Say why slip-old.png is replaced.", []string{"kind", "bank", "reason", " \t "}},
		{"no kind", "Choose what kind of document this is.", []string{"reason", "The latest month"}},
		{"an unknown kind", "Choose what kind of document this is.", []string{"reason", "The latest month", "kind", "passport"}},
	} {
		res := replace(t, uw, f.url, f.loan.HumanID, old.ID.Hex(), "slip-new.pdf", pdf, c.fields...)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, c.want) {
			t.Errorf("replace with %s: %d (%.300s)", c.name, res.status, res.body)
			continue
		}
		row := parse(t, res.body).Find(`#replace-reason-` + old.ID.Hex())
		if _, open := row.Closest("details").Attr("open"); !open || row.AttrOr("autofocus", "no") == "no" {
			t.Errorf("replace with %s: the form is not open again with its reason focused", c.name)
		}
		if docs, _ := f.store.DocumentsOfLoan(ctx, f.loan.ID); len(docs) != 2 || docs[1].Deleted != nil {
			t.Errorf("replace with %s stored something: %d documents", c.name, len(docs))
		}
	}
	typed := parse(t, replace(t, uw, f.url, f.loan.HumanID, old.ID.Hex(), "slip-new.pdf", pdf, "kind", "bank", "reason", "  ").body)
	if got := typed.Find(`#replace-kind-`+old.ID.Hex()+` option[selected]`).AttrOr("value", ""); got != "bank" {
		t.Errorf("the refused form offers kind %q, want the chosen bank", got)
	}
	if got := parse(t, get(t, uw, f.url+loanPath).body).Find(`#replace-kind-`+old.ID.Hex()+` option[selected]`).AttrOr("value", ""); got != "income" {
		t.Errorf("the Replace form offers kind %q, want the document's own (income)", got)
	}
	res = replace(t, uw, f.url, f.loan.HumanID, old.ID.Hex(), "slip-new.pdf", pdf, "kind", "bank", "reason", "The latest month's statement")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Replaced slip-old.png with slip-new.pdf") {
		t.Fatalf("replace: %d (%.300s)", res.status, res.body)
	}
	docs, _ = f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if len(docs) != 3 {
		t.Fatalf("%d documents after the replacement, want 3 (the deleted, the replaced, the new)", len(docs))
	}
	fresh := docs[2]
	if d := deleted(old.ID.Hex()); d == nil || d.ReplacedBy != fresh.ID || d.Reason != "The latest month's statement" || d.ReplacedWith != "slip-new.pdf" ||
		fresh.Replaces != old.ID || fresh.Kind != "bank" || fresh.Deleted != nil {
		t.Errorf("the replacement stored: old %+v, new %+v", d, fresh)
	}
	if res := get(t, admin, f.url+loanPath+"/documents/"+old.ID.Hex()); res.status != http.StatusOK || res.body != string(png) {
		t.Errorf("the replaced file is not kept: %d", res.status)
	}
	if res := get(t, viewer, f.url+loanPath+"/documents/"+old.ID.Hex()); res.status != http.StatusForbidden {
		t.Errorf("a viewer opens the replaced file: %d", res.status)
	}
	if res := get(t, viewer, f.url+loanPath+"/documents/"+fresh.ID.Hex()); res.status != http.StatusOK || res.body != string(pdf) {
		t.Errorf("a viewer cannot open the current file: %d", res.status)
	}
	page = get(t, viewer, f.url+loanPath).body
	for _, want := range []string{
		"Replaced slip-old.png with slip-new.pdf (the old file is kept for audit). Reason: The latest month&#39;s statement",
		"Replaced with slip-new.pdf by ", ". Reason: The latest month&#39;s statement</p>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the loan page lacks %q", want)
		}
	}

	// A deleted document cannot be replaced: nothing is stored.
	res = replace(t, uw, f.url, f.loan.HumanID, card.ID.Hex(), "card-2.png", png, "kind", "pan", "reason", "Clearer")
	if res.status != http.StatusConflict || !strings.Contains(res.body, "card.png was deleted already by uw (") || !strings.Contains(res.body, "Blurred copy") {
		t.Errorf("replacing a deleted document: %d (%.300s)", res.status, res.body)
	}
	if docs, _ := f.store.DocumentsOfLoan(ctx, f.loan.ID); len(docs) != 3 {
		t.Errorf("%d documents after a refused replacement, want 3", len(docs))
	}
}
