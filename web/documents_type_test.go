package web_test

import (
	"bytes"
	"context"
	"html"
	"mime"
	"net/http"
	"strings"
	"testing"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
)

// A document's name ends as its content's type (issue 19, L3): a PNG
// with HTML after its end uploaded as poly.html is stored, listed and
// sent (inline and as a download) as poly.html.png, so a browser never
// saves an .html that runs script when staff open it; an .svg the same.
// A name that already ends right is kept, in any case. A document stored
// before the rule is listed and sent so too.
func TestUpload_NameFollowsTheContent(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	card := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	polyglot := append(append([]byte{}, card...), "<html><body><script>alert(document.cookie)</script></body></html>"...)
	photo := ocrtest.OrientedJPEG(ocrtest.Gray([]string{"PAN ABCPV1234K"}), 1)
	uploads := []struct {
		name, want, typ string
		data            []byte
	}{
		{"poly.html", "poly.html.png", "PNG", polyglot},
		{"x.svg", "x.svg.png", "PNG", card},
		{"scan.PNG", "scan.PNG.jpg", "JPEG", photo},
		{"Card.PNG", "Card.PNG", "PNG", card},
		{"photo.JPEG", "photo.JPEG", "JPEG", photo},
		{"slip.pdf", "slip.pdf", "PDF", ocrtest.TextPDF([]string{"Net pay INR 98,450"})},
		{"statement", "statement.pdf", "PDF", ocrtest.TextPDF([]string{"Net pay INR 98,450"})},
	}
	for _, u := range uploads {
		if res := upload(t, uw, f.url, f.loan.HumanID, "pan", u.name, u.data); res.status != http.StatusOK {
			t.Fatalf("upload %s: %d", u.name, res.status)
		}
	}
	ctx := context.Background()
	// Stored before names followed the content.
	old, err := f.store.DocumentUpload(ctx, model.Document{LoanID: f.loan.ID, LoanHumanID: f.loan.HumanID, Kind: "pan", Filename: "old.html",
		ContentType: "image/png", Size: int64(len(polyglot)), UploadedBy: "uw@example.com"}, bytes.NewReader(polyglot))
	if err != nil {
		t.Fatal(err)
	}
	uploads = append(uploads, struct {
		name, want, typ string
		data            []byte
	}{"old.html", "old.html.png", "PNG", polyglot})

	docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if err != nil || len(docs) != len(uploads) {
		t.Fatalf("documents: %d, %v", len(docs), err)
	}
	page := get(t, uw, f.url+"/loans/"+f.loan.HumanID).body
	for _, u := range uploads {
		var d model.Document
		for _, doc := range docs {
			if doc.Filename == u.want || doc.ID == old.ID && u.name == "old.html" {
				d = doc
			}
		}
		if d.ID.IsZero() {
			t.Errorf("%s: not stored as %s", u.name, u.want)
			continue
		}
		for _, q := range []string{"", "?download=1"} {
			res := get(t, uw, f.url+"/loans/"+f.loan.HumanID+"/documents/"+d.ID.Hex()+q)
			_, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
			if res.status != http.StatusOK || err != nil || params["filename"] != u.want {
				t.Errorf("%s%s: %d, Content-Disposition %q, want filename %q", u.name, q, res.status, res.header.Get("Content-Disposition"), u.want)
			}
		}
		// The list names it so and says what it is.
		row := `data-testid="document-open">` + html.EscapeString(u.want) + `</a>`
		i := strings.Index(page, row)
		if i < 0 || !strings.Contains(page[i:min(len(page), i+300)], `data-testid="document-type">`+u.typ+`</span>`) {
			t.Errorf("the documents list does not show %s as %s", u.want, u.typ)
		}
	}
}
