package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/ocr/ocrtest"
)

// The history names people, not e-mail addresses (issue 18): an upload
// (an activity, stored with the e-mail only), a note and a status move by
// Uma are all shown as "Uma Rao", each with her e-mail as the name's
// tooltip for auditors; an entry by no member of staff ("seed") is shown
// as recorded, without a tooltip.
func TestLoanHistory_NamesWithEmailTooltips(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	f.createNamedUser(t, "uma@example.com", "Uma Rao", auth.RoleUnderwriter)
	uma := newClient(t)
	mustLogin(t, uma, f.url, "uma@example.com")
	loanPath := "/loans/" + f.loan.HumanID
	if res := upload(t, uma, f.url, f.loan.HumanID, "pan", "card.png", ocrtest.PNG([]string{"PAN ABCPV1234K"})); res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	if res := postForm(t, uma, f.url, loanPath+"/notes", url.Values{"text": {"Called HR"}}); res.status != http.StatusSeeOther {
		t.Fatalf("note: %d", res.status)
	}
	if res := postForm(t, uma, f.url, loanPath+"/status", url.Values{"version": {"1"}, "to": {"under_review"}}); res.status != http.StatusSeeOther {
		t.Fatalf("start review: %d", res.status)
	}

	doc := parse(t, get(t, uma, f.url+loanPath).body)
	kinds := map[string]bool{}
	doc.Find(`[data-testid="history-entry"]`).Each(func(_ int, e *goquery.Selection) {
		who := e.Find(`[data-testid="history-who"]`)
		kind := e.AttrOr("data-kind", "")
		kinds[kind] = true
		if kind == "change" && e.Find("li").Length() == 0 {
			return
		}
		if who.Text() != "Uma Rao" || who.AttrOr("title", "") != "uma@example.com" {
			t.Errorf("%s entry: who %q, tooltip %q; want Uma Rao, uma@example.com", kind, who.Text(), who.AttrOr("title", ""))
		}
	})
	for _, k := range []string{"document_uploaded", "note", "change"} {
		if !kinds[k] {
			t.Errorf("no %s entry in the history: %v", k, kinds)
		}
	}
	if txt := doc.Find(`[data-testid="history"]`).Text(); strings.Contains(txt, "uma@example.com") {
		t.Errorf("the history shows the e-mail: %q", strings.Join(strings.Fields(txt), " "))
	}
}
