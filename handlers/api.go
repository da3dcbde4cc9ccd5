package handlers

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// apiError is every JSON API error: a stable code, a message for people,
// and per-field problems for validation errors.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
	Fields  any    `json:"fields,omitempty"`
}

// writeJSON writes v with status. Encoding is done first so a failure is
// a clean 500, never half a document.
func (a *App) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	// go-json-experiment (encoding/json/v2) with v1's options gives
	// encoding/json's bytes a third faster (measured on the list's 25
	// items); the request side already decodes with it.
	// Into a pooled buffer (the page buffers, handlers.go): a list's JSON
	// is a few kilobytes, encoded a thousand times a second.
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	buf.Reset()
	var err error
	if fast, ok := v.(jsonAppender); ok {
		var b []byte
		if b, err = fast.appendJSON(buf.AvailableBuffer()); err == nil {
			buf.Write(b)
		}
	} else {
		err = jsonv2.MarshalWrite(buf, v, jsonv1.DefaultOptionsV1())
	}
	if err != nil {
		a.Logger.Error("encoding a JSON response failed", "uri", r.URL.RequestURI(), "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal","message":"The response could not be produced."}`)
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// The length up front: without it net/http chunks a body past its
	// 2 KB buffer, one more write a response.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// APIError answers a JSON error.
func (a *App) APIError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	a.writeJSON(w, r, status, apiError{Error: code, Message: message})
}

// APIServerError logs err and answers a generic JSON 500.
func (a *App) APIServerError(w http.ResponseWriter, r *http.Request, err error) {
	attrs := []any{"method", r.Method, "uri", r.URL.RequestURI(), "err", err}
	if a.RequestID != nil {
		attrs = append(attrs, "request_id", a.RequestID(r.Context()))
	}
	a.Logger.Error("API request failed", attrs...)
	a.APIError(w, r, http.StatusInternalServerError, "internal", "The request could not be completed.")
}

// decodeJSON reads a request body of at most 64 KB that must be one JSON
// object into v, answering the error itself: 415 unless it is
// application/json, 413 past the limit, 400 for anything ambiguous or
// malformed. Decoding is strict (github.com/go-json-experiment/json, the
// future encoding/json/v2, chosen because it refuses these by default):
// a repeated member name, invalid UTF-8 or an unpaired surrogate escape,
// a member v does not have, member names matched case-sensitively, and
// trailing data are all refused, so no part of a request is guessed.
// example is the body's shape, for the error message.
func (a *App) decodeJSON(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		a.APIError(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as application/json.")
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		a.APIError(w, r, http.StatusUnsupportedMediaType, "unsupported_charset", "Send JSON in UTF-8 (RFC 8259): charset=utf-8, or no charset.")
		return false
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			a.APIError(w, r, http.StatusRequestEntityTooLarge, "too_large", "The body is larger than 64 KB.")
			return false
		}
		a.APIError(w, r, http.StatusBadRequest, "bad_json", "The body could not be read.")
		return false
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		a.APIError(w, r, http.StatusBadRequest, "bad_json", "The body must be one JSON object like "+example+".")
		return false
	}
	if err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		var syn *jsontext.SyntacticError
		var sem *jsonv2.SemanticError
		msg := "The body must be one JSON object like " + example + "."
		switch {
		case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
			a.APIError(w, r, http.StatusBadRequest, "repeated_field", "A member is sent twice at "+displayPointer(syn.JSONPointer)+": send each once.")
		case errors.As(err, &syn) && (strings.Contains(syn.Err.Error(), "UTF-8") || strings.Contains(syn.Err.Error(), "surrogate")):
			// The library exports no sentinel for these; TestAPIPatch_RefusesAmbiguousBodies pins the text.
			a.APIError(w, r, http.StatusBadRequest, "invalid_encoding", "The text at "+displayPointer(syn.JSONPointer)+" is not valid UTF-8.")
		case errors.As(err, &sem) && errors.Is(sem.Err, jsonv2.ErrUnknownName):
			a.APIError(w, r, http.StatusBadRequest, "unknown_member", "There is no member "+displayPointer(sem.JSONPointer)+". "+msg)
		default:
			a.APIError(w, r, http.StatusBadRequest, "bad_json", msg)
		}
		return false
	}
	return true
}

// displayPointer shows a JSON pointer for people ("/" for the root).
func displayPointer(p jsontext.Pointer) string {
	if p == "" {
		return "the top level"
	}
	return strconv.Quote(string(p))
}
