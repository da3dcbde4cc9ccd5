package handlers

import (
	"strings"

	"loandesk/store"
)

// What staff see of background work: what a job does and what went
// wrong, in their terms. The raw type and error (a tool's own message,
// such as "libpng error: …") stay for admins on the queue page.

// jobLabels name the jobs for staff.
var jobLabels = map[string]string{
	store.EventDocumentUploaded: "Reading a document",
	store.EventScoreApplication: "Scoring the application",
}

// jobStatusLabels name a job's state for staff.
var jobStatusLabels = map[string]string{
	store.EventPending: "Waiting", store.EventProcessing: "Running", store.EventDone: "Done",
	store.EventDead: "Failed", store.EventDiscarded: "Given up",
}

func jobLabel(typ string) string {
	if l, ok := jobLabels[typ]; ok {
		return l
	}
	return "Background work"
}

// The reader's final refusals (ocr.RefusedError) that carry the tool's
// own words in brackets, and those that are in staff terms whole (too
// large, password-protected, not a PDF, PNG or JPEG).
const (
	imageRefused = "The image could not be read ("
	pdfRefused   = "The PDF could not be opened ("
)

var staffWorded = []string{"The image is ", "The PDF is password-protected", "The PDF has ", "The PDF's pages could not be counted",
	"Page ", "Only PDF, PNG or JPEG", "Reading the document "}

// adminDetail is, for an admin, where staffError's text points at the
// queue page: the panel links there itself ("The raw error is on the
// queue page."), so the sentence does not say it twice.
func adminDetail(staff string) string {
	staff = strings.Replace(staff, "; if it keeps failing, an admin can see the details on the queue page.", ".", 1)
	return strings.Replace(staff, " An admin can see the details on the queue page.", "", 1)
}

// staffError says what a failed read or job means for staff and what to
// do, from the raw error a tool or job left ("" for none).
func staffError(raw string) string {
	switch {
	case raw == "":
		return ""
	case strings.HasPrefix(raw, imageRefused):
		// The reader's final refusal of an image's bytes (ocr: "The image
		// could not be read (<the decoder's words>). …").
		return "The file could not be read as an image — upload a clearer copy."
	case strings.HasPrefix(raw, pdfRefused):
		return "The PDF could not be read (it may be damaged or password-protected) — upload another copy."
	case strings.Contains(raw, "required program is not installed"):
		return "Documents cannot be read on this server yet: a program it needs is missing. An admin can see the details on the queue page."
	case strings.Contains(raw, "cannot read"):
		return "This kind of file cannot be read: upload a PDF, PNG or JPEG."
	case strings.Contains(raw, "tesseract failed"), strings.Contains(raw, "libpng error"):
		return "The file could not be read as an image — upload a clearer copy."
	case strings.Contains(raw, "pdftotext failed"), strings.Contains(raw, "pdftoppm failed"):
		return "The PDF could not be read (it may be damaged or password-protected) — upload another copy."
	case strings.Contains(raw, "deadline exceeded"), strings.Contains(raw, "lease"):
		return "It took too long and was stopped; it is tried again automatically."
	}
	for _, p := range staffWorded {
		if strings.HasPrefix(raw, p) {
			return raw // the reader's own refusal, already in staff terms
		}
	}
	return "Something went wrong with it. Try again; if it keeps failing, an admin can see the details on the queue page."
}
