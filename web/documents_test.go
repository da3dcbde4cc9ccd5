package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/jobs"
	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
	"loandesk/web"
)

// upload posts a file to the loan's documents as the form does.
func upload(t testing.TB, c *http.Client, base, loan, kind, filename string, data []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if kind != "" {
		mw.WriteField("kind", kind)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/loans/"+loan+"/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	return do(t, c, req)
}

// runJobs runs the application's job runner on the fixture's store. The
// returned channel is signalled each time a handler returns (a signal is
// dropped when one is already pending).
func runJobs(t *testing.T, st *store.Store) <-chan struct{} {
	ctx, cancel := context.WithCancel(context.Background())
	r := &jobs.Runner{Queue: st, Handlers: jobs.Handlers(st, &application.Service{Loans: st, Staff: st}, slog.New(slog.DiscardHandler)), Workers: 2, IdleMin: 5 * time.Millisecond, IdleMax: 50 * time.Millisecond}
	ran := make(chan struct{}, 1)
	for typ, h := range r.Handlers {
		r.Handlers[typ] = func(ctx context.Context, ev store.Event) error {
			defer func() {
				select {
				case ran <- struct{}{}:
				default:
				}
			}()
			return h(ctx, ev)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return ran
}

// Refused uploads (too large, not a PDF/PNG/JPEG, empty, no kind, no
// file, a viewer) answer with a clear message and store nothing.
func TestUpload_Refused(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	f.stop()
	f.start(t, func(c *web.Config) { c.UploadMaxBytes = 4096 })
	uw, viewer := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	for _, tc := range []struct {
		name     string
		c        *http.Client
		kind     string
		filename string
		data     []byte
		status   int
		message  string
	}{
		{"too large", uw, "pan", "big.png", append(png, make([]byte, 8192)...), http.StatusRequestEntityTooLarge, "larger than 4 KB"},
		{"too large for the request limit", uw, "pan", "huge.png", append(png, make([]byte, 200<<10)...), http.StatusRequestEntityTooLarge, "larger than 4 KB"},
		{"text, named .pdf", uw, "pan", "notes.pdf", []byte("just some text, not a PDF"), http.StatusUnsupportedMediaType, "Only PDF, PNG or JPEG"},
		{"a script", uw, "pan", "x.png", []byte("<script>alert(1)</script>"), http.StatusUnsupportedMediaType, "Only PDF, PNG or JPEG"},
		{"empty", uw, "pan", "empty.png", nil, http.StatusUnprocessableEntity, "The file is empty."},
		{"no kind", uw, "", "a.png", []byte("\x89PNG\r\n\x1a\n"), http.StatusUnprocessableEntity, "what kind of document"},
		{"unknown kind", uw, "passport<b>", "a.png", []byte("\x89PNG\r\n\x1a\n"), http.StatusUnprocessableEntity, "what kind of document"},
		{"no file", uw, "pan", "", nil, http.StatusUnprocessableEntity, "Choose a file"},
		{"viewer", viewer, "pan", "a.png", []byte("\x89PNG\r\n\x1a\n"), http.StatusForbidden, "not upload them"},
	} {
		res := upload(t, tc.c, f.url, f.loan.HumanID, tc.kind, tc.filename, tc.data)
		if res.status != tc.status || !strings.Contains(res.body, tc.message) {
			t.Errorf("%s: %d, want %d with %q in:\n%.400s", tc.name, res.status, tc.status, tc.message, res.body)
		}
	}
	ctx := context.Background()
	docs, _ := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	stats, _ := f.store.QueueStats(ctx, store.EventTypes)
	if len(docs) != 0 || stats.Totals[store.EventPending] != 0 {
		t.Fatalf("refused uploads stored %d documents and %d events", len(docs), stats.Totals[store.EventPending])
	}
	if res := get(t, uw, f.url+"/loans/LN-2026-999999/documents"); res.status != http.StatusNotFound {
		t.Fatalf("documents of an unknown loan: %d", res.status)
	}
}

// An uploaded PNG and text PDF are read by the job runner; the loan page
// shows them read, the scorecard and the jobs.
func TestUpload_ReadAndScored(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ran := runJobs(t, f.store)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	res := upload(t, uw, f.url, f.loan.HumanID, "pan", "pan-card.png", ocrtest.PNG([]string{"INCOME TAX DEPARTMENT", "Name", "ASHA VERMA", "ABCPV1234K"}))
	if res.status != http.StatusOK || !strings.Contains(res.body, "pan-card.png") {
		t.Fatalf("upload: %d %.300s", res.status, res.body)
	}
	res = upload(t, uw, f.url, f.loan.HumanID, "income", "slip.pdf", ocrtest.TextPDF([]string{"Name: Asha Verma", "PAN: ABCPV1234K", "Net pay Rs. 85,000"}))
	if res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	// The page changes when a job's handler has run: look at it again
	// after each.
	deadline := time.After(60 * time.Second)
	var page string
	for waiting := true; waiting; {
		page = get(t, uw, f.url+"/loans/"+f.loan.HumanID).body
		if strings.Count(page, `data-testid="document-read"`) == 2 && strings.Contains(page, `data-testid="score-recommendation"`) {
			break
		}
		select {
		case <-ran:
		case <-deadline:
			waiting = false // the checks below say what is missing
		}
	}
	for _, want := range []string{"Read from the image (OCR): PAN ABCPV1234K, name Asha Verma", "Read from the PDF&#39;s text: PAN ABCPV1234K", "₹85,000",
		"PAN ABCPV1234K on the application matches", "Refer to an underwriter", "Reading a document", "Scoring the application"} {
		if !strings.Contains(page, want) {
			t.Errorf("loan page lacks %q", want)
		}
	}
}

// GET /api/admin/queue-stats: the admin token or an admin session; 403
// for other roles, 401 without credentials.
func TestAPIQueueStats(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	if err := f.store.APITokenSet(ctx, "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	f.store.Publish(ctx, store.EventScoreApplication, store.ScoreEvent{LoanID: f.loan.ID}, store.PublishOptions{})
	c := newClient(t)
	status, body, _ := api(t, c, http.MethodGet, f.url+"/api/admin/queue-stats", apiToken, "")
	counts, _ := body["counts"].(map[string]any)
	score, _ := counts[store.EventScoreApplication].(map[string]any)
	if status != http.StatusOK || score["pending"] != float64(1) || body["oldestPendingSeconds"] == nil || body["workers"] == nil {
		raw, _ := json.Marshal(body)
		t.Fatalf("admin token: %d %s", status, raw)
	}
	if status, _, _ := api(t, c, http.MethodGet, f.url+"/api/admin/queue-stats", "", ""); status != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", status)
	}
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	if status, _, _ := api(t, uw, http.MethodGet, f.url+"/api/admin/queue-stats", "", ""); status != http.StatusForbidden {
		t.Fatalf("underwriter: %d, want 403", status)
	}
	admin := newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	if status, _, _ := api(t, admin, http.MethodGet, f.url+"/api/admin/queue-stats", "", ""); status != http.StatusOK {
		t.Fatalf("admin session: %d", status)
	}
	if res := get(t, uw, f.url+"/admin/queue"); res.status != http.StatusForbidden {
		t.Fatalf("queue page for an underwriter: %d", res.status)
	}
	if res := get(t, admin, f.url+"/admin/queue"); res.status != http.StatusOK || !strings.Contains(res.body, "application:score") {
		t.Fatalf("queue page: %d", res.status)
	}
}

// A scorecard's decline blocks approval: underwriters cannot, an admin
// can with a reason, which the history records as an override.
func TestApproveAgainstADecline(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	cur, _ := f.store.LoanGet(ctx, f.loan.HumanID)
	next := cur
	next.Status = model.StatusUnderReview
	if _, err := f.store.LoanUpdate(ctx, next,
		model.LoanChange{At: time.Now(), By: "seed", Fields: []model.FieldChange{{Field: "status", From: cur.Status, To: model.StatusUnderReview}}}); err != nil {
		t.Fatal(err)
	}
	cur, _ = f.store.LoanGet(ctx, f.loan.HumanID)
	if err := f.store.LoanSetScore(ctx, cur.ID, cur.Version, model.LoanScore{Points: 10, Recommendation: "decline"}); err != nil {
		t.Fatal(err)
	}
	uw, admin := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	approve := func(c *http.Client, reason string) response {
		return postForm(t, c, f.url, "/loans/"+f.loan.HumanID+"/status", map[string][]string{"to": {"approved"}, "reason": {reason}, "version": {"2"}})
	}
	if res := approve(uw, "looks fine"); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "only an admin can approve it") {
		t.Fatalf("underwriter: %d", res.status)
	}
	if res := approve(admin, ""); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "say why you approve it anyway") {
		t.Fatalf("admin without a reason: %d", res.status)
	}
	if res := approve(admin, "Salary credited by employer letter"); res.status >= 400 {
		t.Fatalf("admin with a reason: %d", res.status)
	}
	// The override is a proposal: it waits for a second admin.
	got, _ := f.store.LoanGet(ctx, f.loan.HumanID)
	last := got.History[len(got.History)-1]
	if got.Status != model.StatusApprovalPending || last.Reason != "Overrides the scorecard's decline: Salary credited by employer letter" || last.By != "admin@example.com" ||
		len(got.Approvals) != 1 || got.Approvals[0].By != "admin@example.com" {
		t.Fatalf("after the override: %s, last change %+v", got.Status, last)
	}
	confirm := func(c *http.Client) response {
		return postForm(t, c, f.url, "/loans/"+f.loan.HumanID+"/status", map[string][]string{"to": {"approved"}, "version": {"3"}})
	}
	if res := confirm(admin); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "You gave the first approval") {
		t.Fatalf("the proposer confirming: %d", res.status)
	}
	if res := confirm(uw); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "takes an admin") {
		t.Fatalf("an underwriter confirming: %d", res.status)
	}
	f.createUser(t, "admin2@example.com", auth.RoleAdmin)
	admin2 := newClient(t)
	mustLogin(t, admin2, f.url, "admin2@example.com")
	if res := confirm(admin2); res.status >= 400 {
		t.Fatalf("a second admin confirming: %d", res.status)
	}
	got, _ = f.store.LoanGet(ctx, f.loan.HumanID)
	last = got.History[len(got.History)-1]
	if got.Status != model.StatusApproved || last.By != "admin2@example.com" || last.FirstApprover != "admin@example.com" || last.Maker != "seed" || len(got.Approvals) != 0 {
		t.Fatalf("after the confirmation: %s, last change %+v", got.Status, last)
	}
}

// Dead jobs: retried or discarded from the queue page by an admin, retried
// from their application's page by staff; the queue page links them to
// their application.
func TestDeadJobs_RetryAndDiscard(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	dead := func() string {
		t.Helper()
		id, _ := f.store.Publish(ctx, store.EventScoreApplication, store.ScoreEvent{LoanID: f.loan.ID}, store.PublishOptions{MaxAttempts: 1, LoanID: f.loan.HumanID})
		ev, err := f.store.Claim(ctx, "test", []string{store.EventScoreApplication}, time.Minute)
		if err != nil || ev.ID != id {
			t.Fatalf("claim: %v", err)
		}
		if err := f.store.Fail(ctx, ev, "scorer crashed", time.Now()); err != nil {
			t.Fatal(err)
		}
		return id.Hex()
	}
	a, b, c := dead(), dead(), dead()
	admin, uw := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, uw, f.url, "uw@example.com")
	page := get(t, admin, f.url+"/admin/queue").body
	if strings.Count(page, `data-testid="job-retry"`) != 3 || !strings.Contains(page, "scorer crashed") || !strings.Contains(page, `href="/loans/`+f.loan.HumanID+`"`) {
		t.Fatalf("queue page does not list the dead jobs with their loans:\n%.2000s", page)
	}
	status := func(id string) string {
		oid, _ := primitive.ObjectIDFromHex(id)
		ev, _ := f.store.EventGet(ctx, oid)
		return ev.Status
	}
	if res := postForm(t, uw, f.url, "/admin/queue/"+a+"/retry", nil); res.status != http.StatusForbidden || status(a) != store.EventDead {
		t.Fatalf("underwriter on the queue page: %d, %s", res.status, status(a))
	}
	postForm(t, admin, f.url, "/admin/queue/"+a+"/retry", nil)
	postForm(t, admin, f.url, "/admin/queue/"+b+"/discard", nil)
	postForm(t, uw, f.url, "/loans/"+f.loan.HumanID+"/jobs/"+c+"/retry", nil)
	if status(a) != store.EventPending || status(b) != store.EventDiscarded || status(c) != store.EventPending {
		t.Fatalf("after retry, discard, retry: %s %s %s", status(a), status(b), status(c))
	}
	if res := postForm(t, admin, f.url, "/admin/queue/not-an-id/retry", nil); res.status != http.StatusNotFound {
		t.Fatalf("unknown job: %d", res.status)
	}
	if res := postForm(t, admin, f.url, "/loans/LN-2026-000001/jobs/"+a+"/retry", nil); res.status != http.StatusNotFound {
		t.Fatalf("a job under another loan's URL: %d", res.status)
	}
}

// An uploaded document is sent back as stored to anyone who may see its
// application, inline or as a download, with a policy that runs nothing;
// under another application's URL, or by an unknown id, it is not found.
func TestServeDocument(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw, viewer := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	const filename = `pan "card" ₹.png`
	if res := upload(t, uw, f.url, f.loan.HumanID, "pan", filename, png); res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	ctx := context.Background()
	docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %d, %v", len(docs), err)
	}
	docURL := "/loans/" + f.loan.HumanID + "/documents/" + docs[0].ID.Hex()
	if page := get(t, viewer, f.url+"/loans/"+f.loan.HumanID).body; !strings.Contains(page, `href="`+docURL+`"`) {
		t.Fatalf("the loan page does not link the document %s", docURL)
	}

	for _, tc := range []struct{ query, disposition string }{{"", "inline"}, {"?download=1", "attachment"}} {
		res := get(t, viewer, f.url+docURL+tc.query)
		if res.status != http.StatusOK || res.body != string(png) {
			t.Fatalf("%s: %d, %d bytes, want the %d uploaded", tc.disposition, res.status, len(res.body), len(png))
		}
		disposition, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
		if err != nil || disposition != tc.disposition || params["filename"] != filename {
			t.Errorf("Content-Disposition %q: %s %q %v", res.header.Get("Content-Disposition"), disposition, params["filename"], err)
		}
		for name, want := range map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"} {
			if got := res.header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none';") || strings.Contains(csp, "script-src") {
			t.Errorf("Content-Security-Policy %q lets something run", csp)
		}
	}

	other := f.loan
	other.ID, other.HumanID = primitive.NilObjectID, "LN-2026-000043"
	if err := f.store.LoanInsertMany(ctx, []model.Loan{other}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/loans/LN-2026-000043/documents/" + docs[0].ID.Hex(),
		"/loans/" + f.loan.HumanID + "/documents/" + primitive.NewObjectID().Hex(),
		"/loans/" + f.loan.HumanID + "/documents/not-an-id",
		"/loans/LN-2026-999999/documents/" + docs[0].ID.Hex(),
	} {
		if res := get(t, viewer, f.url+path); res.status != http.StatusNotFound || strings.Contains(res.body, "PNG") {
			t.Errorf("%s: %d, want 404", path, res.status)
		}
	}
	if res := get(t, newClient(t), f.url+docURL); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") || strings.Contains(res.body, "PNG") {
		t.Fatalf("signed out: %d to %q, want the sign-in redirect and no file", res.status, res.header.Get("Location"))
	}
}
