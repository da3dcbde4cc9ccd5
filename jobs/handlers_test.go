package jobs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/clock"
	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

func TestMain(m *testing.M) {
	switch os.Getenv("LOANDESK_JOBS_CHILD") {
	case "store-then-die":
		childStoreThenDie(os.Getenv("LOANDESK_DATA_DIR"))
	case "publish-and-run":
		childPublishAndRun(os.Getenv("LOANDESK_DATA_DIR"), os.Getenv("LOANDESK_ACKS"))
	default:
		os.Exit(m.Run())
	}
}

func insertLoan(t testing.TB, st *store.Store) model.Loan {
	t.Helper()
	ctx := context.Background()
	l := model.Loan{
		HumanID: "LN-2026-000001", Status: model.StatusUnderReview, CreatedAt: time.Now(),
		Applicant: model.Applicant{Name: "Asha Iyer", PAN: "ABCPI1234K", Employment: "salaried", MonthlyIncome: 1_25_000 * 100},
		Terms:     model.LoanTerms{Product: "personal", Amount: 5_00_000 * 100, TenureMonths: 36, AnnualRateBps: 1200},
	}
	if err := st.LoanInsertMany(ctx, []model.Loan{l}); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var salarySlip = []string{"SALARY SLIP - OCTOBER 2026", "Name: Asha Iyer", "PAN: ABCPI1234K", "Net pay INR 98,450"}

// Upload → OCR (real tesseract and pdftotext) → scoring, through the
// runner: the documents end done with what they say, and the scorecard
// records its reasons on the loan.
func TestDocumentsAreReadAndScored(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	l := insertLoan(t, st)
	start(t, fast(st, 2, Handlers(st, &application.Service{Loans: st, Staff: st}, slog.New(slog.DiscardHandler))))

	card, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "pan.png", ContentType: "image/png"},
		bytes.NewReader(ocrtest.PNG([]string{"INCOME TAX DEPARTMENT", "Name", "ASHA IYER", "Permanent Account Number", "ABCPI1234K"})))
	if err != nil {
		t.Fatal(err)
	}
	slip, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: "slip.pdf", ContentType: "application/pdf"},
		bytes.NewReader(ocrtest.TextPDF(salarySlip)))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []model.Document{card, slip} {
		waitFor(t, d.Filename+" read", 60*time.Second, finished(st), func() bool {
			got, _ := st.DocumentGet(ctx, d.ID)
			return got.Status == model.DocumentDone
		})
		got, _ := st.DocumentGet(ctx, d.ID)
		if got.OCR == nil || got.OCR.PAN != "ABCPI1234K" || got.OCR.Name != "Asha Iyer" {
			t.Fatalf("%s read as %+v", d.Filename, got.OCR)
		}
	}
	waitFor(t, "both documents scored", 30*time.Second, finished(st), func() bool {
		s, _ := st.QueueStats(ctx, store.EventTypes)
		return s.Counts[store.EventScoreApplication][store.EventDone] == 2
	})
	scored, _ := st.LoanGet(ctx, l.HumanID)
	if scored.Score == nil || scored.Score.Version != scored.Version {
		t.Fatalf("score %+v", scored.Score)
	}
	var reasons []string
	for _, r := range scored.Score.Reasons {
		reasons = append(reasons, fmt.Sprintf("%s %+d: %s", r.Factor, r.Points, r.Detail))
	}
	t.Logf("%s with %d points:\n%s", scored.Score.Recommendation, scored.Score.Points, strings.Join(reasons, "\n"))
	joined := strings.Join(reasons, "\n")
	if scored.Score.Recommendation != "refer" || !strings.Contains(joined, "pan_match +20: PAN ABCPI1234K on the application matches") ||
		!strings.Contains(joined, "Missing or not yet read: bank statement") {
		t.Fatalf("unexpected scorecard")
	}
}

// A document whose PAN differs from the application's is declined.
func TestScoringDeclinesAPANMismatch(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	l := insertLoan(t, st)
	start(t, fast(st, 2, Handlers(st, &application.Service{Loans: st, Staff: st}, slog.New(slog.DiscardHandler))))
	d, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "other.pdf", ContentType: "application/pdf"},
		bytes.NewReader(ocrtest.TextPDF([]string{"Name: Someone Else", "PAN: ZZZPZ9999Z"})))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the scorecard", 60*time.Second, finished(st), func() bool {
		got, _ := st.LoanGet(ctx, l.HumanID)
		return got.Score != nil
	})
	got, _ := st.LoanGet(ctx, l.HumanID)
	if got.Score.Recommendation != "decline" {
		t.Fatalf("recommendation %q for %s showing another PAN", got.Score.Recommendation, d.Filename)
	}
}

// Scoring racing admins' edits never overwrites an edit: each edit lands
// (the history chains), and the score carries a version that existed.
func TestScoringNeverOverwritesAnEdit(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	l := insertLoan(t, st)
	svc := &application.Service{Loans: st, Staff: st}
	start(t, fast(st, 4, Handlers(st, svc, slog.New(slog.DiscardHandler))))
	const edits = 30
	for i := range edits {
		if _, err := st.PublishScoring(ctx, l, "race", ""); err != nil {
			t.Fatal(err)
		}
		// The edit goes through the loan service, as an admin's would: a
		// score landing between its read and write makes it read again.
		purpose := fmt.Sprint("edit ", i)
		if _, err := svc.Edit(ctx, application.EditRequest{Actor: auth.User{Email: "admin@example.com", Role: auth.RoleAdmin},
			LoanID: l.HumanID, Version: int64(1 + i), Fields: map[string]string{"purpose": purpose}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the scorings", 30*time.Second, finished(st), func() bool {
		s, _ := st.QueueStats(ctx, store.EventTypes)
		return s.Counts[store.EventScoreApplication][store.EventDone] == edits
	})
	final, _ := st.LoanGet(ctx, l.HumanID)
	if final.Terms.Purpose != fmt.Sprint("edit ", edits-1) || final.Version != int64(1+edits) || len(final.History) != edits {
		t.Fatalf("after %d edits: purpose %q, version %d, %d history entries", edits, final.Terms.Purpose, final.Version, len(final.History))
	}
	if final.Score == nil || final.Score.Version < 1 || final.Score.Version > final.Version {
		t.Fatalf("score %+v on version %d", final.Score, final.Version)
	}
}

// childStoreThenDie stores a document, as an upload does, and is killed
// before it can publish the OCR event.
func childStoreThenDie(dir string) {
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	l, err := st.LoanGet(context.Background(), "LN-2026-000001")
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	_, err = st.DocumentCreate(context.Background(), model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: "slip.pdf", ContentType: "application/pdf"},
		bytes.NewReader(ocrtest.TextPDF(salarySlip)))
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // between the change and its event
	select {}
}

// A process killed between storing a document and publishing its OCR
// loses no work: once the document is SweepAge old, the sweeper
// publishes it, and it is read.
func TestCrashBetweenDocumentAndEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	insertLoan(t, st)
	st.Close(context.Background())

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOANDESK_JOBS_CHILD=store-then-die", "LOANDESK_DATA_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v %s", err, out)
	}

	st = openStore(t, dir)
	defer st.Close(context.Background())
	ctx := context.Background()
	l, _ := st.LoanGet(ctx, "LN-2026-000001")
	docs, _ := st.DocumentsOfLoan(ctx, l.ID)
	if stats, _ := st.QueueStats(ctx, store.EventTypes); len(docs) != 1 || docs[0].Status != model.DocumentPending || stats.Totals[store.EventPending] != 0 {
		t.Fatalf("after the crash: %d documents, %+v; %v events pending (want one pending document and no event)", len(docs), docs, stats.Totals)
	}
	clk := clock.NewManual(time.Now()) // the sweeper's: it measures the document's age
	swept := make(chan struct{}, 1)
	sweeper := &Sweeper{Store: st, Interval: 20 * time.Millisecond, Age: SweepAge, Now: clk.Now, swept: swept}
	sweep, stopSweep := context.WithCancel(ctx)
	sweeping := make(chan struct{})
	go func() { defer close(sweeping); sweeper.Run(sweep) }()
	defer func() { stopSweep(); <-sweeping }()
	receive(t, "the first sweep", 10*time.Second, swept)
	if stats, _ := st.QueueStats(ctx, store.EventTypes); stats.Totals[store.EventPending] != 0 {
		t.Fatalf("a sweep published the OCR of a document younger than SweepAge: %v", stats.Totals)
	}
	clk.Advance(SweepAge)
	start(t, fast(st, 2, Handlers(st, &application.Service{Loans: st, Staff: st}, slog.New(slog.DiscardHandler))))
	// Read, and its event's completion recorded (the runner records it
	// after the handler returns).
	waitFor(t, "the swept document to be read", 60*time.Second, finished(st), func() bool {
		d, _ := st.DocumentGet(ctx, docs[0].ID)
		stats, _ := st.QueueStats(ctx, store.EventTypes)
		return d.Status == model.DocumentDone && stats.Counts[store.EventDocumentUploaded][store.EventDone] > 0
	})
	for range 3 { // more sweeps (the first may have begun before): still one event
		receive(t, "another sweep", 10*time.Second, swept)
	}
	stats, _ := st.QueueStats(ctx, store.EventTypes)
	var all int64
	for _, n := range stats.Counts[store.EventDocumentUploaded] {
		all += n
	}
	if stats.Counts[store.EventDocumentUploaded][store.EventDone] != 1 || all != 1 {
		t.Fatalf("OCR events: %v, want exactly one, done", stats.Counts[store.EventDocumentUploaded])
	}
}

// childPublishAndRun publishes events as fast as it can, appending each
// acknowledged id to acks, while a runner works them off; it runs until
// killed. It says "acked" on stdout after each.
func childPublishAndRun(dir, acks string) {
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	f, err := os.OpenFile(acks, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	r := fast(st, 4, map[string]Handler{"burst": func(context.Context, store.Event) error {
		// Work that takes a while, so that the kill finds events
		// running; not a wait for the queue.
		time.Sleep(time.Millisecond)
		return nil
	}})
	go r.Run(context.Background())
	for i := 0; ; i++ {
		id, err := st.Publish(context.Background(), "burst", map[string]int{"i": i}, store.PublishOptions{})
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		// Written after the publish returned: only acknowledged events.
		if _, err := f.WriteString(id.Hex() + "\n"); err != nil {
			os.Exit(2)
		}
		fmt.Println("acked")
	}
}

// A publish burst while runners are killed and restarted: every
// acknowledged event is there afterwards and is done exactly once.
func TestPublishBurstWhileRunnersRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	acks := filepath.Join(dir, "acks.txt")
	openStore(t, dir).Close(context.Background()) // indexes created
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOANDESK_JOBS_CHILD=publish-and-run", "LOANDESK_DATA_DIR="+dir, "LOANDESK_ACKS="+acks)
		// The kill comes when the child has acknowledged a number of
		// events (no timer): its runner is then working the burst off.
		out := &ackCounter{target: 40 + 20*round, reached: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-out.reached:
		case <-exited:
		case <-time.After(60 * time.Second):
		}
		_ = cmd.Process.Kill()
		<-exited
		if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || out.acked() < out.target {
			t.Fatalf("round %d: the child acknowledged %d events of %d before the kill, or ended by itself (%s): %.500s",
				round, out.acked(), out.target, cmd.ProcessState, out.other())
		}
	}
	ids := readAcks(t, acks)
	// The killed children's runners left events processing under leases
	// of testLease (wall time): this store's clock starts past them, so
	// they have run out and the events are claimed again at once.
	clk := clock.NewManual(time.Now().Add(testLease))
	st := openStoreClock(t, dir, clk.Now)
	defer st.Close(context.Background())
	ctx := context.Background()
	var handled atomic.Int64
	r := fast(st, 4, map[string]Handler{"burst": func(context.Context, store.Event) error { handled.Add(1); return nil }})
	r.Now = clk.Now
	start(t, r)
	waitFor(t, "every event done", 60*time.Second, finished(st), func() bool {
		s, _ := st.QueueStats(ctx, []string{"burst"})
		return s.Counts["burst"][store.EventPending]+s.Counts["burst"][store.EventProcessing] == 0
	})
	lost := 0
	for _, id := range ids {
		ev, err := st.EventGet(ctx, id)
		if err != nil || ev.Status != store.EventDone {
			lost++
		}
	}
	s, _ := st.QueueStats(ctx, []string{"burst"})
	t.Logf("4 kills: %d events acknowledged, %d done in the queue, %d lost; %d finished after the last restart",
		len(ids), s.Counts["burst"][store.EventDone], lost, handled.Load())
	if len(ids) < 100 || lost != 0 {
		t.Fatalf("%d acknowledged events, %d lost", len(ids), lost)
	}
}

// ackCounter reads a childPublishAndRun's output: it counts the "acked"
// lines, closing reached at the target'th, and keeps the other output.
type ackCounter struct {
	target  int
	reached chan struct{}

	mu   sync.Mutex
	n    int
	part []byte // a line not yet ended
	rest bytes.Buffer
}

func (c *ackCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part = append(c.part, p...)
	for {
		i := bytes.IndexByte(c.part, '\n')
		if i < 0 {
			break
		}
		if line := c.part[:i]; string(line) == "acked" {
			c.n++
			if c.n == c.target {
				close(c.reached)
			}
		} else {
			c.rest.Write(c.part[:i+1])
		}
		c.part = c.part[i+1:]
	}
	return len(p), nil
}

func (c *ackCounter) acked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *ackCounter) other() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rest.String() + string(c.part)
}

func readAcks(t *testing.T, path string) []primitive.ObjectID {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []primitive.ObjectID
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, err := primitive.ObjectIDFromHex(sc.Text())
		if err != nil {
			break // a line cut by the kill
		}
		ids = append(ids, id)
	}
	return ids
}
