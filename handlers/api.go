package handlers

import (
	"encoding/json"
	"net/http"
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
	body, err := json.Marshal(v)
	if err != nil {
		a.Logger.Error("encoding a JSON response failed", "uri", r.URL.RequestURI(), "err", err)
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal","message":"The response could not be produced."}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
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
