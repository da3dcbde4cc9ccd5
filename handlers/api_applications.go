package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// apiApplication is an application in the JSON API. Fields holds the
// editable fields as canonical text: exactly what PATCH accepts.
type apiApplication struct {
	ID        string             `json:"id"`
	Version   int64              `json:"version"`
	Status    string             `json:"status"`
	Assignee  string             `json:"assignee"`
	Fields    application.Values `json:"fields"`
	Applicant apiApplicant       `json:"applicant"`
	Terms     apiTerms           `json:"terms"`
	EMIPaise  int64              `json:"emiPaise"`
	CreatedAt time.Time          `json:"createdAt"`
	CreatedBy string             `json:"createdBy"`
	UpdatedAt time.Time          `json:"updatedAt"`
	UpdatedBy string             `json:"updatedBy"`
	History   []apiChange        `json:"history,omitempty"`
	Flags     []apiFlag          `json:"flags,omitempty"`
	// Disbursement is the payout, once disbursed (money in paise).
	Disbursement *apiPayout `json:"disbursement,omitempty"`
}

// apiPayout is a disbursement in the API (see model.Disbursement).
type apiPayout struct {
	GrossPaise                int64  `json:"grossPaise"`
	FeePaise                  int64  `json:"feePaise"`
	GSTPaise                  int64  `json:"gstPaise"`
	NetPaise                  int64  `json:"netPaise"`
	UTR                       string `json:"utr"`
	DisbursedOn               string `json:"disbursedOn"`
	FirstEMIDate              string `json:"firstEmiDate"`
	BrokenPeriodDays          int    `json:"brokenPeriodDays"`
	BrokenPeriodInterestPaise int64  `json:"brokenPeriodInterestPaise"`
	TxnID                     string `json:"txnId"`
}

// apiFlag is a warning on an application (see model.Flag).
type apiFlag struct {
	Code         string `json:"code"`
	OtherLoan    string `json:"otherLoan,omitempty"`
	Acknowledged bool   `json:"acknowledged"`
}

type apiApplicant struct {
	Name               string `json:"name"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	PAN                string `json:"pan"`
	DateOfBirth        string `json:"dateOfBirth"`
	City               string `json:"city"`
	Employment         string `json:"employment"`
	MonthlyIncomePaise int64  `json:"monthlyIncomePaise"`
}

type apiTerms struct {
	Product       string `json:"product"`
	AmountPaise   int64  `json:"amountPaise"`
	TenureMonths  int    `json:"tenureMonths"`
	AnnualRateBps int    `json:"annualRateBps"`
	Purpose       string `json:"purpose"`
}

type apiChange struct {
	Version int64               `json:"version"`
	At      time.Time           `json:"at"`
	By      string              `json:"by"`
	Fields  []model.FieldChange `json:"fields"`
	Reason  string              `json:"reason,omitempty"`
}

func toAPI(l model.Loan) apiApplication {
	v := application.ValuesOf(l)
	out := apiApplication{
		ID: l.HumanID, Version: l.Version, Status: l.Status, Assignee: l.Assignee, Fields: v,
		Applicant: apiApplicant{Name: l.Applicant.Name, Email: l.Applicant.Email, Phone: l.Applicant.Phone, PAN: l.Applicant.PAN,
			DateOfBirth: v["dateOfBirth"], City: l.Applicant.City, Employment: l.Applicant.Employment, MonthlyIncomePaise: l.Applicant.MonthlyIncome},
		Terms:     apiTerms{Product: l.Terms.Product, AmountPaise: l.Terms.Amount, TenureMonths: l.Terms.TenureMonths, AnnualRateBps: l.Terms.AnnualRateBps, Purpose: l.Terms.Purpose},
		EMIPaise:  application.EMI(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps),
		CreatedAt: l.CreatedAt, CreatedBy: l.CreatedBy, UpdatedAt: l.UpdatedAt, UpdatedBy: l.UpdatedBy,
	}
	for _, h := range l.History {
		out.History = append(out.History, apiChange{Version: h.Version, At: h.At, By: h.By, Fields: h.Fields, Reason: h.Reason})
	}
	if d := l.Disbursement; d != nil {
		out.Disbursement = &apiPayout{GrossPaise: d.Gross, FeePaise: d.Fee, GSTPaise: d.GST, NetPaise: d.Net, UTR: d.UTR,
			DisbursedOn: d.DisbursedOn.Format(time.DateOnly), FirstEMIDate: d.FirstEMIDate.Format(time.DateOnly),
			BrokenPeriodDays: d.BrokenPeriodDays, BrokenPeriodInterestPaise: d.BrokenPeriodInterest, TxnID: d.TxnID}
	}
	open := l.OpenFlags()
	for _, f := range l.Flags {
		acked := true
		for _, o := range open {
			acked = acked && (o.Code != f.Code || o.OtherLoan != f.OtherLoan)
		}
		out.Flags = append(out.Flags, apiFlag{Code: f.Code, OtherLoan: f.OtherLoan, Acknowledged: acked})
	}
	return out
}

// apiListItem is an application in a list.
type apiListItem struct {
	ID            string    `json:"id"`
	Version       int64     `json:"version"`
	Status        string    `json:"status"`
	ApplicantName string    `json:"applicantName"`
	City          string    `json:"city"`
	Product       string    `json:"product"`
	AmountPaise   int64     `json:"amountPaise"`
	Assignee      string    `json:"assignee"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// MarshalJSONTo writes the item as reflection would (the same members,
// order and bytes under the encoder's options; TestAPIListItemJSON
// compares them), without reflection: the list's 25 items were a
// quarter of a list request's CPU.
func (it apiListItem) MarshalJSONTo(enc *jsontext.Encoder) error {
	w := jsonMembers{enc: enc}
	w.token(jsontext.BeginObject)
	w.str("id", it.ID)
	w.int("version", it.Version)
	w.str("status", it.Status)
	w.str("applicantName", it.ApplicantName)
	w.str("city", it.City)
	w.str("product", it.Product)
	w.int("amountPaise", it.AmountPaise)
	w.str("assignee", it.Assignee)
	w.time("createdAt", it.CreatedAt)
	w.time("updatedAt", it.UpdatedAt)
	w.token(jsontext.EndObject)
	return w.err
}

// jsonMembers writes an object's members, keeping the first error.
type jsonMembers struct {
	enc *jsontext.Encoder
	err error
}

func (w *jsonMembers) token(t jsontext.Token) {
	if w.err == nil {
		w.err = w.enc.WriteToken(t)
	}
}

func (w *jsonMembers) str(name, v string) {
	w.token(jsontext.String(name))
	w.token(jsontext.String(v))
}

func (w *jsonMembers) int(name string, v int64) {
	w.token(jsontext.String(name))
	w.token(jsontext.Int(v))
}

// time writes t as encoding/json does: RFC 3339 with nanoseconds.
func (w *jsonMembers) time(name string, t time.Time) {
	w.token(jsontext.String(name))
	if w.err != nil {
		return
	}
	b, err := t.MarshalJSON()
	if err != nil {
		w.err = err
		return
	}
	w.err = w.enc.WriteValue(b)
}

// jsonAppender is a response that writes its own JSON, byte for byte
// what jsonv2.MarshalWrite with jsonv1.DefaultOptionsV1 writes for it (its
// test compares them), failing where it fails.
type jsonAppender interface {
	appendJSON(dst []byte) ([]byte, error)
}

// appendJSON appends the list as reflection with encoding/json's options
// writes it. The list API is the most requested answer (the design's
// own load test asks nothing else), and its 25 items through the
// encoder's tokens were a fifth of its CPU.
func (l apiList) appendJSON(b []byte) ([]byte, error) {
	var err error
	if l.Items == nil {
		b = append(b, `{"items":null`...)
	} else {
		b = append(b, `{"items":[`...)
	}
	for i, it := range l.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(append(b, `{"id":`...), it.ID)
		b = strconv.AppendInt(append(b, `,"version":`...), it.Version, 10)
		b = appendJSONString(append(b, `,"status":`...), it.Status)
		b = appendJSONString(append(b, `,"applicantName":`...), it.ApplicantName)
		b = appendJSONString(append(b, `,"city":`...), it.City)
		b = appendJSONString(append(b, `,"product":`...), it.Product)
		b = strconv.AppendInt(append(b, `,"amountPaise":`...), it.AmountPaise, 10)
		b = appendJSONString(append(b, `,"assignee":`...), it.Assignee)
		if b, err = appendJSONTime(append(b, `,"createdAt":`...), it.CreatedAt); err != nil {
			return nil, err
		}
		if b, err = appendJSONTime(append(b, `,"updatedAt":`...), it.UpdatedAt); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	if l.Items != nil {
		b = append(b, ']')
	}
	b = strconv.AppendInt(append(b, `,"page":`...), int64(l.Page), 10)
	b = strconv.AppendInt(append(b, `,"pages":`...), int64(l.Pages), 10)
	b = strconv.AppendInt(append(b, `,"pageSize":`...), int64(l.PageSize), 10)
	b = strconv.AppendInt(append(b, `,"total":`...), l.Total, 10)
	return append(b, '}'), nil
}

// appendJSONString appends s quoted as encoding/json quotes it: the
// shortest escaping (jsontext.AppendQuote), invalid UTF-8 replaced by
// U+FFFD, and <, >, &, U+2028 and U+2029 escaped for HTML and JavaScript.
func appendJSONString(b []byte, s string) []byte {
	start := len(b)
	b, _ = jsontext.AppendQuote(b, s) // its only error reports the replaced invalid UTF-8
	if !mayNeedHTMLEscape(s) {
		return b
	}
	quoted := string(b[start:])
	b = b[:start]
	for i := 0; i < len(quoted); i++ {
		switch c := quoted[i]; {
		case c == '<' || c == '>' || c == '&':
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		case c == 0xe2 && i+2 < len(quoted) && quoted[i+1] == 0x80 && (quoted[i+2] == 0xa8 || quoted[i+2] == 0xa9):
			b = append(b, `\u202`...)
			b = append(b, "89"[quoted[i+2]-0xa8])
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

// mayNeedHTMLEscape reports whether s holds <, > or & or a byte that
// starts U+2028 or U+2029 (strings.ContainsAny with those two runes takes
// its slow path: a fifth of the writer's time).
func mayNeedHTMLEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&', 0xe2:
			return true
		}
	}
	return false
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339
// with nanoseconds, trailing zeros of the fraction dropped), with its
// error for a year outside 0–9999. A UTC time (every stored one: BSON
// dates decode to UTC) is written digit by digit, the same bytes in about
// a third of AppendText's time (50 of them on every list page); any other
// zone goes to AppendText.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	year := t.Year()
	if t.Location() != time.UTC || year < 0 || year > 9999 {
		b, err := t.AppendText(append(b, '"'))
		if err != nil {
			return nil, err
		}
		return append(b, '"'), nil
	}
	month, day := t.Month(), t.Day()
	hour, minute, second := t.Clock()
	b = append(b, '"')
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	if ns := t.Nanosecond(); ns != 0 {
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = appendDigits(append(b, '.'), ns, digits)
	}
	return append(b, 'Z', '"'), nil
}

// appendDigits appends n (≥ 0) in exactly width decimal digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

type apiList struct {
	Items    []apiListItem `json:"items"`
	Page     int           `json:"page"`
	Pages    int           `json:"pages"`
	PageSize int           `json:"pageSize"`
	Total    int64         `json:"total"`
}

// APIListApplications is GET /api/applications: the list page's filters
// (status, q, assignee, sort, page) as JSON.
func (a *App) APIListApplications(w http.ResponseWriter, r *http.Request) {
	q, msg := parseListQuery(r.URL.Query(), a.zone())
	for _, field := range []string{"min", "max", "from", "to"} {
		if m := q.Errors[field]; msg == "" && m != "" {
			msg = field + ": " + m
		}
	}
	if msg != "" {
		a.APIError(w, r, http.StatusBadRequest, "invalid_parameter", msg)
		return
	}
	user, _ := auth.UserFrom(r.Context())
	page, err := a.loanPage(r.Context(), q, user, false)
	if err != nil {
		a.APIServerError(w, r, err)
		return
	}
	out := apiList{Items: make([]apiListItem, 0, len(page.Loans)), Page: page.Page, Pages: page.Pages, PageSize: q.Size, Total: page.Matching}
	for _, l := range page.Loans {
		out.Items = append(out.Items, apiListItem{
			ID: l.HumanID, Version: l.Version, Status: l.Status, ApplicantName: l.Applicant.Name, City: l.Applicant.City,
			Product: l.Terms.Product, AmountPaise: l.Terms.Amount, Assignee: l.Assignee, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
		})
	}
	a.writeJSON(w, r, http.StatusOK, out)
}

// APIGetApplication is GET /api/applications/{id}.
func (a *App) APIGetApplication(w http.ResponseWriter, r *http.Request) {
	l, err := a.Loans.LoanGet(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.apiLoanError(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, toAPI(l))
}

// apiLoanError answers a failed read of the application in the URL: 404
// for an unknown id, else 500.
func (a *App) apiLoanError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, model.ErrNotFound) {
		a.APIError(w, r, http.StatusNotFound, "not_found", "There is no application with that id.")
		return
	}
	a.APIServerError(w, r, err)
}

// apiCreate is POST's body: every field by key, as text (see
// apiApplication.Fields).
type apiCreate struct {
	Fields map[string]jsontext.Value `json:"fields"`
}

// APICreateApplication is POST /api/applications: files a new application
// through the loan service. 201 with the document and its Location; 422
// with per-field codes (nothing stored). With an Idempotency-Key header
// (at most 255 printable ASCII characters), a retry answers 201 with the
// application the first request filed (Idempotent-Replayed: true); the
// key reused for a different body is 422 idempotency_key_reused.
func (a *App) APICreateApplication(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Values("Idempotency-Key")) > 1 {
		a.APIError(w, r, http.StatusBadRequest, "repeated_field", "Send the Idempotency-Key header once.")
		return
	}
	var body apiCreate
	if !a.decodeJSON(w, r, &body, `{"fields": {"name": "Asha Iyer", "amount": "500000", …}}`) {
		return
	}
	errs := application.Errors{}
	raw := jsonTexts(body.Fields, errs)
	if len(errs) > 0 {
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: "Some fields are not valid.", Fields: errs})
		return
	}
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.Create(r.Context(), application.CreateRequest{Actor: user, Fields: raw, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	var (
		invalid   *application.Invalid
		forbidden *application.Forbidden
	)
	switch {
	case errors.As(err, &forbidden):
		a.APIError(w, r, http.StatusForbidden, "forbidden", forbidden.Reason)
	case errors.As(err, &invalid):
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: "Some fields are not valid.", Fields: invalid.Fields})
	case err != nil:
		a.APIServerError(w, r, err)
	default:
		w.Header().Set("Location", "/api/applications/"+res.Loan.HumanID)
		if !res.Saved {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		a.writeJSON(w, r, http.StatusCreated, toAPI(res.Loan))
	}
}

// apiPatch is PATCH's body: the version the changes were made against
// and the changed fields by key (see apiApplication.Fields).
type apiPatch struct {
	Version *int64                    `json:"version"`
	Changes map[string]jsontext.Value `json:"changes"`
}

// apiConflict is PATCH's 409: the application as it is now, what others
// changed since the caller's version, and which of the caller's fields
// they changed differently.
type apiConflict struct {
	Error   string                  `json:"error"`
	Message string                  `json:"message"`
	Current apiApplication          `json:"current"`
	Theirs  []application.FieldDiff `json:"theirs"`
	Clashes []string                `json:"clashes"`
}

// APIPatchApplication is PATCH /api/applications/{id}: a versioned edit
// through the loan service. 200 with the new document; 409 with the
// current one; 422 with per-field codes; 400 for a body that is not one
// unambiguous JSON object (a repeated key, invalid UTF-8, an unknown
// member). Nothing is stored unless every field is valid.
func (a *App) APIPatchApplication(w http.ResponseWriter, r *http.Request) {
	var body apiPatch
	if !a.decodeJSON(w, r, &body, `{"version": 3, "changes": {"city": "Pune"}}`) {
		return
	}
	errs := application.Errors{}
	if body.Version == nil {
		errs.Add("version", application.CodeRequired, "Send the version the changes were made against.")
	}
	raw := jsonTexts(body.Changes, errs)
	if len(errs) > 0 {
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: "Some fields are not valid.", Fields: errs})
		return
	}

	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.Edit(r.Context(), application.EditRequest{Actor: user, LoanID: chi.URLParam(r, "id"), Version: *body.Version, Fields: raw})
	var (
		invalid   *application.Invalid
		conflict  *application.Conflict
		forbidden *application.Forbidden
	)
	switch {
	case errors.Is(err, model.ErrNotFound):
		a.APIError(w, r, http.StatusNotFound, "not_found", "There is no application with that id.")
	case errors.As(err, &forbidden):
		a.APIError(w, r, http.StatusForbidden, "forbidden", forbidden.Reason)
	case errors.As(err, &invalid):
		a.writeJSON(w, r, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: "Some fields are not valid.", Fields: invalid.Fields})
	case errors.As(err, &conflict):
		c := apiConflict{Error: "conflict", Message: conflict.Message(), Current: toAPI(conflict.Loan), Theirs: conflict.Theirs, Clashes: []string{}}
		for _, m := range conflict.Mine {
			if m.Clash {
				c.Clashes = append(c.Clashes, m.Key)
			}
		}
		a.writeJSON(w, r, http.StatusConflict, c)
	case err != nil:
		a.APIServerError(w, r, err)
	default:
		a.rescoreEdited(r, res)
		a.writeJSON(w, r, http.StatusOK, toAPI(res.Loan))
	}
}

// jsonTexts reads fields as text (see jsonText), adding a wrong_type
// problem to errs for each that is neither a string nor a number.
func jsonTexts(fields map[string]jsontext.Value, errs application.Errors) map[string]string {
	raw := make(map[string]string, len(fields))
	for key, val := range fields {
		s, ok := jsonText(val)
		if !ok {
			errs.Add(key, application.CodeWrongType, "Send a string (or a number).")
			continue
		}
		raw[key] = s
	}
	return raw
}

// jsonText accepts a JSON string, or a number as its literal text.
func jsonText(v jsontext.Value) (string, bool) {
	switch v.Kind() {
	case '"':
		var s string
		if err := jsonv2.Unmarshal(v, &s); err == nil {
			return s, true
		}
	case '0':
		return string(v), true
	}
	return "", false
}
