package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
	"unicode/utf8"

	"loandesk/application"
	"loandesk/model"
	"loandesk/ocr"
	"loandesk/store"
)

// Handlers are the application's job handlers, by event type. Changes
// to loans go through the loan service svc, as from the browser.
func Handlers(st *store.Store, svc *application.Service, logger *slog.Logger) map[string]Handler {
	return map[string]Handler{
		store.EventDocumentUploaded: ReadDocument(st, logger),
		store.EventScoreApplication: ScoreApplication(svc),
	}
}

// ReadDocument OCRs an uploaded document, records what it read and asks
// for the application to be scored again. The document shows processing
// while it runs and failed once its event's attempts are spent.
func ReadDocument(st *store.Store, logger *slog.Logger) Handler {
	return func(ctx context.Context, ev store.Event) error {
		var p store.DocumentEvent
		if err := ev.DecodePayload(&p); err != nil {
			return Permanent(fmt.Errorf("payload: %w", err))
		}
		d, err := st.DocumentGet(ctx, p.DocumentID)
		if errors.Is(err, store.ErrNotFound) {
			return Permanent(err)
		}
		if err != nil {
			return err
		}
		if d.Status == model.DocumentDone {
			return nil // read already (this is a repeat after a crash)
		}
		if d.Deleted != nil {
			return nil // deleted or replaced before it was read: nothing to read for
		}
		if err := st.DocumentSetStatus(ctx, d.ID, model.DocumentProcessing, ""); err != nil {
			return err
		}
		res, err := readDocument(ctx, st, d)
		if err != nil {
			if ev.Attempts >= ev.MaxAttempts || errors.As(err, new(permanentError)) {
				_ = st.DocumentSetStatus(context.WithoutCancel(ctx), d.ID, model.DocumentFailed, err.Error())
			} else {
				_ = st.DocumentSetStatus(context.WithoutCancel(ctx), d.ID, model.DocumentPending, err.Error())
			}
			return err
		}
		if err := st.DocumentSetOCR(ctx, d.ID, res); err != nil {
			return err
		}
		l, err := st.LoanByID(ctx, d.LoanID)
		if err != nil {
			return err
		}
		// One scoring per document read, whoever publishes it.
		if _, err := st.PublishScoring(ctx, l, "read "+d.Filename, "doc:"+d.ID.Hex()); err != nil {
			logger.Warn("ocr: could not ask for scoring", "document", d.ID.Hex(), "err", err)
		}
		return nil
	}
}

// readDocument copies the file out of GridFS and reads it.
func readDocument(ctx context.Context, st *store.Store, d model.Document) (model.OCRResult, error) {
	f, err := os.CreateTemp("", "loandesk-doc-*")
	if err != nil {
		return model.OCRResult{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := st.DocumentContent(ctx, d, f); err != nil {
		return model.OCRResult{}, err
	}
	if err := f.Close(); err != nil {
		return model.OCRResult{}, err
	}
	kind := d.ContentType // sniffed from the bytes at upload
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := ocr.Read(ctx, f.Name(), kind)
	if ocr.IsRefused(err) {
		// Too large, password-protected or unreadable: no retry can help,
		// and the message is for staff.
		return model.OCRResult{}, Permanent(err)
	}
	if err != nil {
		return model.OCRResult{}, err // retried (a missing program may be installed meanwhile)
	}
	fields := ocr.Parse(res.Text)
	text := cutText(res.Text, model.MaxOCRText)
	return model.OCRResult{Method: res.Method, Text: text, PAN: fields.PAN, Name: fields.Name, Amounts: fields.Amounts, Pages: res.Pages}, nil
}

// cutText cuts s to at most max bytes without splitting a character
// (Devanagari letters are three bytes each).
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// ScoreApplication has the loan service score an application and record
// the verdict on the version it read (see application.Service.RecordScore:
// an admin's edit meanwhile is never overwritten). A loan that no longer
// exists fails the event for good.
func ScoreApplication(svc *application.Service) Handler {
	return func(ctx context.Context, ev store.Event) error {
		var p store.ScoreEvent
		if err := ev.DecodePayload(&p); err != nil {
			return Permanent(fmt.Errorf("payload: %w", err))
		}
		_, err := svc.RecordScore(ctx, p.LoanID)
		if errors.Is(err, model.ErrNotFound) {
			return Permanent(err)
		}
		return err
	}
}
