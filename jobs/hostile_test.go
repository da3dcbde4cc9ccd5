package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

// A hostile document stored before the upload checks existed (or by
// another way in) fails on its first attempt for good, with a message
// staff can act on, within seconds: nothing is rendered or OCRed.
func TestReadDocument_HostileFailsPermanentlyAtOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	defer st.Close(context.Background())
	ctx := context.Background()
	l := insertLoan(t, st)
	read := ReadDocument(st, slog.New(slog.DiscardHandler))

	for _, tc := range []struct {
		name, contentType, want string
		data                    []byte
	}{
		{"huge.png", "image/png", "megapixels", ocrtest.HugePNGHeader(60_000, 60_000)},
		{"huge.jpg", "image/jpeg", "megapixels", ocrtest.HugeJPEGHeader(60_000, 60_000)},
		{"poster.pdf", "application/pdf", "200 × 200 inches", ocrtest.BigPagePDF(200)},
		{"blank400.pdf", "application/pdf", "400 pages", ocrtest.ManyPagesPDF(400)},
		{"locked.pdf", "application/pdf", "password-protected", ocrtest.EncryptedPDF()},
	} {
		d, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "income", Filename: tc.name, ContentType: tc.contentType},
			bytes.NewReader(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := st.Claim(ctx, "w1", []string{store.EventDocumentUploaded}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		err = read(ctx, ev)
		took := time.Since(began)
		if !errors.As(err, new(permanentError)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a permanent failure saying %q", tc.name, err, tc.want)
		}
		got, _ := st.DocumentGet(ctx, d.ID)
		if got.Status != model.DocumentFailed || !strings.Contains(got.Error, tc.want) || strings.Contains(got.Error, "Command Line") {
			t.Errorf("%s: document %s %q, want failed with a staff-readable message", tc.name, got.Status, got.Error)
		}
		if took > 30*time.Second {
			t.Errorf("%s: failing took %s", tc.name, took)
		}
		t.Logf("%s: failed for good in %s: %s", tc.name, took.Round(time.Millisecond), got.Error)
		if err := st.Fail(ctx, ev, err.Error(), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCutText_ByCharacters(t *testing.T) {
	t.Parallel()
	name := "Name राहुल शर्मा" // three bytes a letter
	for n := range len(name) + 2 {
		got := cutText(name, n)
		if len(got) > n || !strings.HasPrefix(name, got) || strings.ContainsRune(got, '\uFFFD') || !utf8Valid(got) {
			t.Fatalf("cutText(%d) = %q", n, got)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
