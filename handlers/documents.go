package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/ocr"
	"loandesk/reqcheck"
	"loandesk/store"
	"loandesk/views"
)

// WorkStore is the store's documents and job queue, as handlers use them.
type WorkStore interface {
	DocumentUpload(ctx context.Context, d model.Document, content io.Reader) (model.Document, error)
	DocumentsOfLoan(ctx context.Context, loanID primitive.ObjectID) ([]model.Document, error)
	DocumentGet(ctx context.Context, id primitive.ObjectID) (model.Document, error)
	DocumentContent(ctx context.Context, d model.Document, w io.Writer) (int64, error)
	DocumentDelete(ctx context.Context, id primitive.ObjectID, by, reason string) (model.Document, error)
	DocumentReplace(ctx context.Context, old, d model.Document, reason string, content io.Reader) (model.Document, error)
	ActivityOfLoan(ctx context.Context, loanID primitive.ObjectID, limit int) ([]model.Activity, error)
	EventList(ctx context.Context, p store.EventListParams) ([]store.Event, error)
	EventGet(ctx context.Context, id primitive.ObjectID) (store.Event, error)
	Requeue(ctx context.Context, id primitive.ObjectID) error
	Discard(ctx context.Context, id primitive.ObjectID) error
	PublishScoring(ctx context.Context, l model.Loan, reason, key string) (primitive.ObjectID, error)
	QueueStats(ctx context.Context, types []string) (store.QueueStats, error)
	NoteAdd(ctx context.Context, n model.Note) (model.Note, error)
	NotesOfLoan(ctx context.Context, loanID primitive.ObjectID, limit int) ([]model.Note, error)
}

// DefaultUploadMaxBytes bounds an uploaded document (UPLOAD_MAX_BYTES).
const DefaultUploadMaxBytes = 10 << 20

// uploadTypes are the document types accepted, by sniffed content type.
var uploadTypes = map[string]string{"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}

// typeExtensions are the name endings of each accepted type; the first
// is added to a name that ends otherwise.
var typeExtensions = map[string][]string{
	"application/pdf": {".pdf"}, "image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
}

// nameForType is a document's name as stored and sent: ending as its
// content's type (sniffed at upload), whatever name it came with. A PNG
// with HTML after its end uploaded as poly.html is poly.html.png, never
// saved by a browser as an .html that runs when opened; the name it came
// with stays readable in front.
func nameForType(name, contentType string) string {
	exts := typeExtensions[contentType]
	lower := strings.ToLower(name)
	for _, ext := range exts {
		if strings.HasSuffix(lower, ext) && len(lower) > len(ext) {
			return name
		}
	}
	if len(exts) == 0 {
		return name
	}
	return name + exts[0]
}

func (a *App) uploadMax() int64 {
	if a.UploadMaxBytes > 0 {
		return a.UploadMaxBytes
	}
	return DefaultUploadMaxBytes
}

// ShowDocuments is the documents panel (polled while documents are read).
func (a *App) ShowDocuments(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	a.respond(w, r, http.StatusOK, a.documentsFragment(l, user), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#documents-panel", http.StatusSeeOther)
	})
}

// documentsFragment is the documents panel, read when it is rendered,
// with the jobs, scorecard and history panels out of band: an upload or a
// read document starts jobs, and those panels then poll until they
// finish; the history lists the upload, the read and the score.
func (a *App) documentsFragment(l model.Loan, user auth.User) templ.Component {
	return a.documentsFragmentNotice(l, user, "")
}

// documentsFragmentNotice is documentsFragment saying notice (what was
// just done) in the documents panel.
func (a *App) documentsFragmentNotice(l model.Loan, user auth.User, notice string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		d, j, s, err := a.livePanels(ctx, l, user)
		if err != nil {
			return err
		}
		d.Notice = notice
		if err := views.DocumentsPanel(d).Render(ctx, w); err != nil {
			return err
		}
		if err := views.JobsPanel(j, true).Render(ctx, w); err != nil {
			return err
		}
		if err := views.ScorePanel(s, true).Render(ctx, w); err != nil {
			return err
		}
		return views.LoanHistory(a.loanHistory(ctx, l, user), true).Render(ctx, w)
	})
}

// UploadDocument stores an uploaded file and queues its OCR. The file is
// checked by its bytes (PDF, PNG or JPEG), its size and that it is not
// empty; a refused upload stores nothing.
func (a *App) UploadDocument(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	refuse := a.documentRefuser(w, r, l, user, nil)
	doc, file, ok := a.receiveUpload(w, r, l, user, refuse, true)
	if !ok {
		return
	}
	defer r.MultipartForm.RemoveAll()
	defer file.Close()
	d, err := a.Work.DocumentUpload(r.Context(), doc, file)
	if err != nil && d.ID.IsZero() {
		a.ServerError(w, r, err)
		return
	}
	if err != nil {
		a.Logger.Warn("document stored, OCR to be queued by the sweeper", "document", d.ID.Hex(), "err", err)
	}
	a.documentsAnswer(w, r, l, user, "")
}

// documentRefuser answers a refused document request with the documents
// panel and msg (htmx) or an error page. With retry (a row's Delete or
// Replace), that row's form is open again with what was typed.
func (a *App) documentRefuser(w http.ResponseWriter, r *http.Request, l model.Loan, user auth.User, retry *views.DocumentRetry) func(int, string) {
	return func(status int, msg string) {
		d, err := a.documentsPanel(r.Context(), l, user)
		if err != nil {
			a.ServerError(w, r, err)
			return
		}
		d.Error = msg
		if kind := r.PostForm.Get("kind"); retry == nil && application.DocumentKindLabel(kind) != kind {
			d.UploadKind = kind // a known kind: offered again
		}
		if retry != nil {
			for i := range d.Rows {
				if d.Rows[i].ID == retry.ID && d.Rows[i].CanChange {
					d.Rows[i].Retry = *retry
				}
			}
		}
		a.respond(w, r, status, views.DocumentsPanel(d), func() {
			a.ErrorPage(w, r, status, "Not done", msg)
		})
	}
}

// documentsAnswer answers a document change: the documents panel with the
// jobs, scorecard and history panels out of band (htmx), or back to the
// application's documents.
func (a *App) documentsAnswer(w http.ResponseWriter, r *http.Request, l model.Loan, user auth.User, notice string) {
	a.respond(w, r, http.StatusOK, a.documentsFragmentNotice(l, user, notice), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#documents-panel", http.StatusSeeOther)
	})
}

// receiveUpload reads and checks a multipart upload (who may, its size,
// its kind when withKind, its bytes, its name and what reading it would
// cost) and returns the document to store with its file, positioned at
// its start; the caller removes the form's files and closes file. A
// refusal is answered through refuse and ok is false.
func (a *App) receiveUpload(w http.ResponseWriter, r *http.Request, l model.Loan, user auth.User, refuse func(int, string), withKind bool) (d model.Document, file multipart.File, ok bool) {
	// The loan service decides, as for edits: staff who work
	// applications, before the decision.
	if msg := application.DocumentRefusal(user.Role, l.Status); msg != "" {
		refuse(http.StatusForbidden, msg)
		return d, nil, false
	}
	maxSize := a.uploadMax()
	r.Body = http.MaxBytesReader(w, r.Body, maxSize+64<<10) // the form's other parts fit in 64 KB
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %s.", formatBytes(maxSize)))
			return d, nil, false
		}
		refuse(http.StatusBadRequest, "The upload could not be read. Choose the file again.")
		return d, nil, false
	}
	keep := false
	defer func() {
		if !keep {
			_ = r.MultipartForm.RemoveAll()
		}
	}()
	// The router leaves multipart bodies to this handler (the size limit
	// above comes first): a part sent twice or a name that is not text is
	// refused whole, as every other form is.
	var bad *reqcheck.Error
	if err := reqcheck.Multipart(r.URL.Query(), r.MultipartForm); errors.As(err, &bad) {
		refuse(http.StatusBadRequest, bad.Message())
		return d, nil, false
	} else if err != nil {
		refuse(http.StatusBadRequest, "The upload could not be read. Choose the file again.")
		return d, nil, false
	}
	kind := r.PostForm.Get("kind")
	if withKind && application.DocumentKindLabel(kind) == kind {
		refuse(http.StatusUnprocessableEntity, "Choose what kind of document this is.")
		return d, nil, false
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		refuse(http.StatusUnprocessableEntity, "Choose a file to upload.")
		return d, nil, false
	}
	fail := func(status int, msg string) (model.Document, multipart.File, bool) {
		file.Close()
		refuse(status, msg)
		return model.Document{}, nil, false
	}
	if header.Size > maxSize {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %s.", formatBytes(maxSize)))
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(file, head)
	head = head[:n]
	if n == 0 {
		return fail(http.StatusUnprocessableEntity, "The file is empty.")
	}
	filename, err := reqcheck.FileName(header.Filename)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	contentType := http.DetectContentType(head)
	if _, ok := uploadTypes[contentType]; !ok {
		return fail(http.StatusUnsupportedMediaType, "Only PDF, PNG or JPEG files can be uploaded; this one is "+describeType(contentType)+".")
	}
	// What reading it would cost, from the headers only (image size, PDF
	// pages and page sizes, a password): refused now rather than failed
	// later, or worse, read.
	if err := inspectUpload(r.Context(), file, contentType); ocr.IsRefused(err) {
		// In staff terms: a tool's own words (pdfinfo's syntax errors, a
		// decoder's) go to the log, not to the panel.
		a.Logger.Info("upload refused", "loan", l.HumanID, "file", filename, "why", err.Error())
		return fail(http.StatusUnprocessableEntity, staffError(err.Error()))
	} else if err != nil && !errors.Is(err, ocr.ErrMissingTool) {
		file.Close()
		a.ServerError(w, r, err)
		return model.Document{}, nil, false
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		file.Close()
		a.ServerError(w, r, err)
		return model.Document{}, nil, false
	}
	keep = true
	return model.Document{
		LoanID: l.ID, LoanHumanID: l.HumanID, Kind: kind, Filename: nameForType(filename, contentType),
		ContentType: contentType, Size: header.Size, UploadedBy: user.Email,
	}, file, true
}

// loanDocument is the document named in the URL, of application l; a
// missing one (or another application's) is answered 404 and ok is false.
func (a *App) loanDocument(w http.ResponseWriter, r *http.Request, l model.Loan) (model.Document, bool) {
	id, err := primitive.ObjectIDFromHex(chi.URLParam(r, "doc"))
	if err != nil {
		a.NotFound(w, r)
		return model.Document{}, false
	}
	d, err := a.Work.DocumentGet(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && d.LoanID != l.ID {
		a.NotFound(w, r)
		return model.Document{}, false
	}
	if err != nil {
		a.ServerError(w, r, err)
		return model.Document{}, false
	}
	return d, true
}

// DeleteDocument removes a document from its application, with a
// reason (required): it is no longer read or scored, its record and file
// are kept for audit, and the deletion is in the history. Staff who may
// upload may delete. A document deleted meanwhile is a 409 saying by whom
// and why. The application is scored again without it.
func (a *App) DeleteDocument(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	retry := &views.DocumentRetry{ID: chi.URLParam(r, "doc"), Action: "delete", Reason: r.PostForm.Get("reason")}
	refuse := a.documentRefuser(w, r, l, user, retry)
	if msg := application.DocumentRefusal(user.Role, l.Status); msg != "" {
		refuse(http.StatusForbidden, strings.Replace(msg, "upload them", "delete them", 1))
		return
	}
	d, ok := a.loanDocument(w, r, l)
	if !ok {
		return
	}
	reason, problem := application.NormalizeReason(retry.Reason)
	switch {
	case problem != nil:
		refuse(http.StatusUnprocessableEntity, problem.Message)
		return
	case reason == "":
		refuse(http.StatusUnprocessableEntity, "Say why "+d.Filename+" is deleted.")
		return
	}
	if d.Deleted != nil {
		refuse(http.StatusConflict, a.goneMessage(r.Context(), d))
		return
	}
	cur, err := a.Work.DocumentDelete(r.Context(), d.ID, user.Email, reason)
	if errors.Is(err, store.ErrConflict) {
		refuse(http.StatusConflict, a.goneMessage(r.Context(), cur))
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.rescore(r, l, "deleted "+d.Filename, "del:"+d.ID.Hex())
	a.documentsAnswer(w, r, l, user, "Deleted "+d.Filename+". It is kept for audit.")
}

// ReplaceDocument uploads a file in place of a document, with a reason
// (required) and its kind (the old one's unless changed): the new one is
// read and scored like any upload, the old one is marked replaced and
// kept for audit, and the replacement, with its reason, is in the
// history. The file is checked as an upload is; a refusal (no reason, a
// bad file) stores nothing and opens the form again with the reason
// typed; a document deleted already is a 409.
func (a *App) ReplaceDocument(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	retry := &views.DocumentRetry{ID: chi.URLParam(r, "doc"), Action: "replace"}
	refuse := a.documentRefuser(w, r, l, user, retry)
	old, ok := a.loanDocument(w, r, l)
	if !ok {
		return
	}
	doc, file, ok := a.receiveUpload(w, r, l, user, func(status int, msg string) {
		retry.Reason, retry.Kind = r.PostForm.Get("reason"), r.PostForm.Get("kind")
		refuse(status, msg)
	}, true)
	if !ok {
		return
	}
	defer r.MultipartForm.RemoveAll()
	defer file.Close()
	retry.Reason, retry.Kind = r.PostForm.Get("reason"), doc.Kind
	reason, problem := application.NormalizeReason(retry.Reason)
	switch {
	case old.Deleted != nil:
		refuse(http.StatusConflict, a.goneMessage(r.Context(), old)+" Upload the new file as a new document if it is still needed.")
		return
	case problem != nil:
		refuse(http.StatusUnprocessableEntity, problem.Message)
		return
	case reason == "":
		refuse(http.StatusUnprocessableEntity, "Say why "+old.Filename+" is replaced.")
		return
	}
	d, err := a.Work.DocumentReplace(r.Context(), old, doc, reason, file)
	switch {
	case errors.Is(err, store.ErrConflict):
		// Someone replaced or deleted it meanwhile: nothing was stored.
		refuse(http.StatusConflict, a.goneMessage(r.Context(), d)+" Nothing was uploaded; upload the new file as a new document if it is still needed.")
		return
	case err != nil && d.ID.IsZero():
		a.ServerError(w, r, err)
		return
	case err != nil:
		a.Logger.Warn("document stored, OCR to be queued by the sweeper", "document", d.ID.Hex(), "err", err)
	}
	a.rescore(r, l, "replaced "+old.Filename, "del:"+old.ID.Hex())
	a.documentsAnswer(w, r, l, user, "Replaced "+old.Filename+" with "+d.Filename+". The old file is kept for audit.")
}

// rescore asks for l to be scored again after its documents changed
// (scoring skips decided applications); a failure is logged, as the
// change stands and Score now is there.
func (a *App) rescore(r *http.Request, l model.Loan, reason, key string) {
	if !application.Undecided(l.Status) {
		return
	}
	if _, err := a.Work.PublishScoring(r.Context(), l, reason, key); err != nil {
		a.Logger.Warn("could not ask for scoring after a document change", "loan", l.HumanID, "err", err)
	}
}

// inspectUpload checks an upload against ocr.DefaultLimits (see
// ocr.Inspect); a PDF is copied to a temporary file for pdfinfo. A missing
// pdfinfo is ocr.ErrMissingTool: the upload is then stored and the reader
// checks again before reading.
func inspectUpload(ctx context.Context, file multipart.File, contentType string) error {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if contentType != ocr.PDF {
		return ocr.Inspect(ctx, file, "", contentType, ocr.DefaultLimits)
	}
	tmp, err := os.CreateTemp("", "loandesk-upload-*.pdf")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, file)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return ocr.Inspect(ctx, nil, tmp.Name(), contentType, ocr.DefaultLimits)
}

// documentPolicy replaces the pages' policy on a served document: it
// allows nothing active, but Chromium's PDF and image viewers need their
// own inline styles, a plugin (object-src) and an inner frame.
const documentPolicy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; " +
	"frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// ServeDocument sends an uploaded document to anyone who may see its
// application: shown in the browser, or saved with ?download=1. Only the
// types accepted at upload are sent, as sniffed then, never sniffed again.
func (a *App) ServeDocument(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	d, ok := a.loanDocument(w, r, l)
	if !ok {
		return
	}
	if user, _ := auth.UserFrom(r.Context()); d.Deleted != nil {
		if msg := application.DeletedDocumentRefusal(user.Role); msg != "" {
			a.ErrorPage(w, r, http.StatusForbidden, "Kept for audit", msg)
			return
		}
	}
	if _, ok := uploadTypes[d.ContentType]; !ok {
		a.ServerError(w, r, fmt.Errorf("document %s has the unexpected type %q", d.ID.Hex(), d.ContentType))
		return
	}
	disposition := "inline"
	if r.URL.Query().Has("download") {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	// The name ends as the type sent (stored so since issue 19; older
	// documents are named so here).
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": nameForType(d.Filename, d.ContentType)}))
	h.Set("Content-Security-Policy", documentPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "private, no-store")
	n, err := a.Work.DocumentContent(r.Context(), d, w)
	switch {
	case err != nil && n == 0:
		// Nothing sent yet (the file could not be opened): an error page.
		h.Del("Content-Length")
		h.Del("Content-Disposition")
		a.ServerError(w, r, err)
	case err != nil:
		// Midway the status cannot change: the browser sees a short file.
		a.Logger.Error("sending a document failed", "document", d.ID.Hex(), "sent", n, "err", err)
	}
}

// ScoreNow queues scoring of an application.
func (a *App) ScoreNow(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	if msg := application.ScoreRefusal(user.Role, l.Status); msg != "" {
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", msg)
		return
	}
	if _, err := a.Work.PublishScoring(r.Context(), l, "asked by "+user.Email, ""); err != nil {
		a.ServerError(w, r, err)
		return
	}
	_, _, s, err := a.livePanels(r.Context(), l, user)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	s.Queued, s.Pending = true, true
	a.respond(w, r, http.StatusOK, views.ScorePanel(s, false), func() {
		http.Redirect(w, r, loanURL(l.HumanID), http.StatusSeeOther)
	})
}

// RetryLoanJob requeues a dead job of an application.
func (a *App) RetryLoanJob(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	if !application.CanWork(user.Role) {
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", "Your role cannot retry jobs.")
		return
	}
	ev, ok := a.loadEvent(w, r)
	if !ok {
		return
	}
	if ev.LoanID != l.HumanID {
		a.NotFound(w, r)
		return
	}
	if err := a.Work.Requeue(r.Context(), ev.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, loanURL(l.HumanID)+"#jobs-panel", http.StatusSeeOther)
}

func (a *App) documentsPanel(ctx context.Context, l model.Loan, user auth.User) (views.Documents, error) {
	docs, err := a.Work.DocumentsOfLoan(ctx, l.ID)
	if err != nil {
		return views.Documents{}, err
	}
	d := views.Documents{
		URL: loanURL(l.HumanID) + "/documents", Kinds: kindChoices(), MaxSize: formatBytes(a.uploadMax()),
		CanUpload: application.DocumentRefusal(user.Role, l.Status) == "",
	}
	var names staffNames // read once, if a document was deleted
	for _, doc := range docs {
		row := views.DocumentRow{
			URL: d.URL + "/" + doc.ID.Hex(), ID: doc.ID.Hex(),
			Filename: nameForType(doc.Filename, doc.ContentType), Type: uploadTypes[doc.ContentType],
			Kind: application.DocumentKindLabel(doc.Kind), Size: formatBytes(doc.Size),
			Status: doc.Status, StatusLabel: documentStatusLabels[doc.Status], Error: staffError(doc.Error),
			CanChange: d.CanUpload && doc.Deleted == nil,
			CanOpen:   doc.Deleted == nil || application.DeletedDocumentRefusal(user.Role) == "",
			KindValue: doc.Kind,
		}
		if del := doc.Deleted; del != nil {
			if names.dir == nil {
				names = a.staffNames(ctx)
			}
			by := names.name(del.By)
			row.Deleted = "Deleted by " + by + " on " + a.formatDateTime(del.At) + ". Reason: " + del.Reason
			if !del.ReplacedBy.IsZero() {
				row.Deleted = "Replaced " + replacedText(*del, by, a.formatDateTime(del.At))
			}
			row.Status, row.StatusLabel, row.Error, row.Read = "deleted", "Deleted", "", ""
			d.Rows = append(d.Rows, row)
			continue
		}
		switch {
		case doc.Status == model.DocumentDone:
			row.Error = "" // an earlier attempt's failure
		case row.Error != "" && doc.Status != model.DocumentFailed:
			row.Error += " Trying again."
		}
		if doc.Status == model.DocumentPending || doc.Status == model.DocumentProcessing {
			d.Busy = true
		}
		if doc.OCR != nil {
			row.Read = ocrSummary(*doc.OCR)
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// goneMessage says, for a 409, that d was replaced or deleted, by whom
// (by name), when and why.
func (a *App) goneMessage(ctx context.Context, d model.Document) string {
	del := d.Deleted
	if del == nil {
		return d.Filename + " was changed meanwhile."
	}
	by := a.staffNames(ctx).name(del.By)
	if !del.ReplacedBy.IsZero() {
		return d.Filename + " was replaced " + replacedText(*del, by, a.formatDateTime(del.At))
	}
	return d.Filename + " was deleted already by " + by + " (" + a.formatDateTime(del.At) + "). Reason: " + del.Reason
}

// replacedText says with what, by whom, when and why a document was
// replaced, to follow "Replaced" or "… was replaced" (a replacement
// recorded before its reason was asked has its new file's name in the
// reason: "Replaced by <name>").
func replacedText(del model.DocumentDeletion, by, when string) string {
	if del.ReplacedWith == "" {
		return "with " + strings.TrimPrefix(del.Reason, "Replaced by ") + " by " + by + " on " + when + "."
	}
	return "with " + del.ReplacedWith + " by " + by + " on " + when + ". Reason: " + del.Reason
}

// readHow says how a document was read, for staff: the tools' names
// (ocr.Result.Method) are for admins' logs.
func readHow(method string) string {
	switch method {
	case "pdftotext":
		return "Read from the PDF's text"
	case "tesseract":
		return "Read from the image (OCR)"
	case "pdftotext+tesseract":
		return "Read from the PDF's text and its scanned pages (OCR)"
	}
	return "Read"
}

var documentStatusLabels = map[string]string{
	model.DocumentPending: "Waiting", model.DocumentProcessing: "Reading", model.DocumentDone: "Read", model.DocumentFailed: "Failed",
}

func ocrSummary(o model.OCRResult) string {
	var parts []string
	if o.PAN != "" {
		parts = append(parts, "PAN "+o.PAN)
	}
	if o.Name != "" {
		parts = append(parts, "name "+o.Name)
	}
	for i, p := range o.Amounts {
		if i == 3 {
			break
		}
		parts = append(parts, money.FormatINR(p))
	}
	if len(parts) == 0 {
		return readHow(o.Method) + "; no PAN, name or amount found."
	}
	return readHow(o.Method) + ": " + strings.Join(parts, ", ")
}

func kindChoices() []views.Choice {
	out := make([]views.Choice, len(application.DocumentKinds))
	for i, k := range application.DocumentKinds {
		out[i] = views.Choice{Value: k.Value, Label: k.Label}
	}
	return out
}

func describeType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	switch {
	case strings.HasPrefix(ct, "text/"):
		return "text"
	case ct == "application/octet-stream":
		return "not a recognised document"
	}
	return ct
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
