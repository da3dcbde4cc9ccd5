package application

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"loandesk/model"
	"loandesk/money"
	"loandesk/reqcheck"
)

// Section groups fields that are edited together.
type Section string

// The editable sections of an application.
const (
	SectionApplicant Section = "applicant"
	SectionTerms     Section = "terms"
)

// Sections lists the sections in page order.
var Sections = []Section{SectionApplicant, SectionTerms}

// kind is how a field's text is checked and normalised.
type kind int

const (
	kindName kind = iota
	kindText
	kindEmail
	kindPhone
	kindPAN
	kindDate
	kindRupees
	kindInt
	kindPercent
	kindChoice
)

// Field is one editable field of an application: its one definition.
// ref points at where the loan record keeps it; its Go type follows the
// kind (string; int64 paise for rupees; int for months and basis points;
// time.Time for dates), checked by TestFields_RefMatchesKind. The store
// decides the document paths from model.Loan itself, so adding a field
// is one line here and one field in model.
type Field struct {
	Key     string // form and API name
	Label   string
	Section Section
	kind    kind
	max     int // longest accepted text, in characters
	ref     func(l *model.Loan) any
}

// Choice is one option of a choice field.
type Choice struct{ Value, Label string }

// Fields are every editable field, in page order.
var Fields = []Field{
	{Key: "name", Label: "Applicant name", Section: SectionApplicant, kind: kindName, max: 100, ref: func(l *model.Loan) any { return &l.Applicant.Name }},
	{Key: "email", Label: "Email", Section: SectionApplicant, kind: kindEmail, max: 254, ref: func(l *model.Loan) any { return &l.Applicant.Email }},
	{Key: "phone", Label: "Phone", Section: SectionApplicant, kind: kindPhone, max: 20, ref: func(l *model.Loan) any { return &l.Applicant.Phone }},
	{Key: "pan", Label: "PAN", Section: SectionApplicant, kind: kindPAN, max: 10, ref: func(l *model.Loan) any { return &l.Applicant.PAN }},
	{Key: "dateOfBirth", Label: "Date of birth", Section: SectionApplicant, kind: kindDate, max: 10, ref: func(l *model.Loan) any { return &l.Applicant.DateOfBirth }},
	{Key: "address", Label: "Address", Section: SectionApplicant, kind: kindText, max: 300, ref: func(l *model.Loan) any { return &l.Applicant.Address }},
	{Key: "city", Label: "City", Section: SectionApplicant, kind: kindName, max: 60, ref: func(l *model.Loan) any { return &l.Applicant.City }},
	{Key: "employment", Label: "Employment", Section: SectionApplicant, kind: kindChoice, ref: func(l *model.Loan) any { return &l.Applicant.Employment }},
	{Key: "monthlyIncome", Label: "Monthly income (₹)", Section: SectionApplicant, kind: kindRupees, max: 20, ref: func(l *model.Loan) any { return &l.Applicant.MonthlyIncome }},
	{Key: "existingEmis", Label: "Existing EMIs (₹ a month)", Section: SectionApplicant, kind: kindRupees, max: 20, ref: func(l *model.Loan) any { return &l.Applicant.ExistingEMIs }},
	{Key: "product", Label: "Product", Section: SectionTerms, kind: kindChoice, ref: func(l *model.Loan) any { return &l.Terms.Product }},
	{Key: "amount", Label: "Amount (₹)", Section: SectionTerms, kind: kindRupees, max: 20, ref: func(l *model.Loan) any { return &l.Terms.Amount }},
	{Key: "tenureMonths", Label: "Tenure (months)", Section: SectionTerms, kind: kindInt, max: 3, ref: func(l *model.Loan) any { return &l.Terms.TenureMonths }},
	{Key: "annualRate", Label: "Annual rate (%)", Section: SectionTerms, kind: kindPercent, max: 6, ref: func(l *model.Loan) any { return &l.Terms.AnnualRateBps }},
	{Key: "purpose", Label: "Purpose", Section: SectionTerms, kind: kindText, max: 200, ref: func(l *model.Loan) any { return &l.Terms.Purpose }},
	{Key: "propertyValue", Label: "Property value (₹, home loans)", Section: SectionTerms, kind: kindRupees, max: 20, ref: func(l *model.Loan) any { return &l.Terms.PropertyValue }},
}

// Employments are the employment types an applicant can have.
var Employments = []Choice{{"salaried", "Salaried"}, {"self_employed", "Self-employed"}, {"business", "Business owner"}}

// FieldByKey returns the field named key.
func FieldByKey(key string) (Field, bool) {
	for _, f := range Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// SectionFields returns the fields of s in page order.
func SectionFields(s Section) []Field {
	var out []Field
	for _, f := range Fields {
		if f.Section == s {
			out = append(out, f)
		}
	}
	return out
}

// IsChoice reports whether the field is picked from a list.
func (f Field) IsChoice() bool { return f.kind == kindChoice }

// IsDate reports whether the field is a calendar date.
func (f Field) IsDate() bool { return f.kind == kindDate }

// MaxLen is the longest text the field accepts.
func (f Field) MaxLen() int { return f.max }

// Choices lists the options of a choice field.
func (f Field) Choices() []Choice {
	switch f.Key {
	case "employment":
		return Employments
	case "product":
		out := make([]Choice, len(Products))
		for i, p := range Products {
			out[i] = Choice{p.Name, p.Label}
		}
		return out
	}
	return nil
}

// Values are an application's editable fields as canonical text: what
// forms show, what the history records and what edits are compared by.
type Values map[string]string

// ValuesOf returns the canonical values of a stored loan (text in NFC,
// so a value stored in another normal form compares equal to the same
// text typed now).
func ValuesOf(l model.Loan) Values {
	v := make(Values, len(Fields))
	for _, f := range Fields {
		switch p := f.ref(&l).(type) {
		case *string:
			v[f.Key] = norm.NFC.String(*p)
		case *int64:
			v[f.Key] = money.FormatRupees(*p)
		case *int:
			if f.kind == kindPercent {
				v[f.Key] = formatPercent(*p)
			} else {
				v[f.Key] = strconv.Itoa(*p)
			}
		case *time.Time:
			if !p.IsZero() {
				v[f.Key] = p.UTC().Format(time.DateOnly)
			} else {
				v[f.Key] = ""
			}
		}
	}
	return v
}

// Clone returns a copy of v.
func (v Values) Clone() Values {
	out := make(Values, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

// Problem is what is wrong with a field: a stable code for programs
// and a message for people.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem codes.
const (
	CodeRequired          = "required"
	CodeTooLong           = "too_long"
	CodeInvalidCharacters = "invalid_characters"
	CodeInvalidFormat     = "invalid_format"
	CodeOutOfRange        = "out_of_range"
	CodeInvalidChoice     = "invalid_choice"
	CodeUnknownField      = "unknown_field"
	CodeWrongType         = "wrong_type"
	CodeRepeated          = "repeated"
	CodeStale             = "stale_version"
)

// Errors maps a field's key to its problem.
type Errors map[string]Problem

// Add records a problem with key.
func (e Errors) Add(key, code, message string) { e[key] = Problem{Code: code, Message: message} }

var (
	panPattern   = regexp.MustCompile(`^[A-Z]{5}[0-9]{4}[A-Z]$`)
	phoneDigits  = regexp.MustCompile(`^[6-9][0-9]{9}$`)
	nameAllowed  = func(r rune) bool { return unicode.IsLetter(r) || unicode.IsMark(r) || strings.ContainsRune(" .'-", r) }
	textRejected = "<>{}\\`"
)

// Applicants' ages accepted at application, in whole years.
const (
	minAge = 18
	maxAge = 100
)

// nameText reports whether s is made of letters, marks, spaces, dots,
// apostrophes and hyphens — and zero-width joiners and non-joiners
// (U+200D, U+200C) right after a letter or mark, where Indic scripts
// need them (the Marathi eyelash ra, a conjunct shown half-formed).
func nameText(s string) bool {
	prev := ' '
	for _, r := range s {
		switch {
		case nameAllowed(r):
		case (r == '\u200c' || r == '\u200d') && (unicode.IsLetter(prev) || unicode.IsMark(prev)):
		default:
			return false
		}
		prev = r
	}
	return true
}

// Normalize checks one typed value and returns its canonical form, or
// what is wrong with it. Text is put in Unicode Normalization Form C
// first (UAX #15), so the same name typed precomposed or decomposed is
// one value. now dates the age check: its calendar date in its own
// location, which must be the lender's zone.
func (f Field) Normalize(raw string, now time.Time) (string, *Problem) {
	bad := func(code, msg string) (string, *Problem) { return "", &Problem{Code: code, Message: msg} }
	raw = reqcheck.PastedBreaks(raw) // white space like any line break: collapsed below
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return bad(CodeInvalidCharacters, "Contains characters that are not allowed.")
	}
	// Invisible and bidi characters (reqcheck.CleanText) are dropped from
	// free text, so stored text shows as it is, and refused in names.
	if clean := reqcheck.CleanText(raw); clean != raw {
		if f.kind == kindName {
			return bad(CodeInvalidCharacters, "Contains invisible or direction-changing characters.")
		}
		raw = clean
	}
	s := norm.NFC.String(strings.Join(strings.Fields(raw), " ")) // trim and collapse whitespace
	if f.max > 0 && utf8.RuneCountInString(s) > f.max {
		return bad(CodeTooLong, fmt.Sprintf("Use at most %d characters.", f.max))
	}
	if s == "" {
		return bad(CodeRequired, "Required.")
	}
	switch f.kind {
	case kindName:
		if utf8.RuneCountInString(s) < 2 || !strings.ContainsFunc(s, unicode.IsLetter) {
			return bad(CodeInvalidFormat, "Enter at least two letters.")
		}
		if !nameText(s) {
			return bad(CodeInvalidCharacters, "Use letters, spaces, dots, apostrophes and hyphens only.")
		}
		if reqcheck.MixedScript(s) {
			return bad(CodeInvalidCharacters, "A word mixes Latin, Greek or Cyrillic letters (look-alikes); type it in one script.")
		}
	case kindText:
		if utf8.RuneCountInString(s) < 2 {
			return bad(CodeInvalidFormat, "Enter at least two characters.")
		}
		if strings.ContainsAny(s, textRejected) {
			return bad(CodeInvalidCharacters, "Angle brackets, braces, backslashes and backticks are not allowed.")
		}
	case kindEmail:
		if !isASCII(s) {
			return bad(CodeInvalidCharacters, "Use an e-mail address in plain Latin letters, digits and punctuation.")
		}
		addr, err := mail.ParseAddress(s)
		// The domain, from the last "@" on, has a dot.
		if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
			return bad(CodeInvalidFormat, "Enter an email address like name@example.com.")
		}
		s = strings.ToLower(s)
	case kindPhone:
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			if strings.ContainsRune(" -()+", r) {
				return -1
			}
			return 'x'
		}, s)
		switch {
		case len(digits) == 12 && strings.HasPrefix(digits, "91"):
			digits = digits[2:]
		case len(digits) == 11 && strings.HasPrefix(digits, "0"):
			digits = digits[1:]
		}
		if !phoneDigits.MatchString(digits) {
			return bad(CodeInvalidFormat, "Enter a 10-digit Indian mobile number (it starts with 6, 7, 8 or 9).")
		}
		s = "+91 " + digits[:5] + " " + digits[5:]
	case kindPAN:
		if !isASCII(s) {
			return bad(CodeInvalidFormat, "A PAN is five letters, four digits and a letter, like ABCDE1234F.")
		}
		s = strings.ToUpper(s)
		if !panPattern.MatchString(s) {
			return bad(CodeInvalidFormat, "A PAN is five letters, four digits and a letter, like ABCDE1234F.")
		}
	case kindDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return bad(CodeInvalidFormat, "Enter a date as YYYY-MM-DD.")
		}
		if f.Key == "dateOfBirth" {
			if age := AgeOn(d, now); age < minAge || age > maxAge {
				return bad(CodeOutOfRange, fmt.Sprintf("The applicant must be between %d and %d years old.", minAge, maxAge))
			}
		}
	case kindRupees:
		p, err := money.ParseRupees(s)
		if err != nil {
			return bad(CodeInvalidFormat, "Enter an amount in rupees, like 250000 or 2,50,000.50.")
		}
		if f.Key == "amount" && p == 0 {
			return bad(CodeOutOfRange, "The amount must be more than zero.")
		}
		s = money.FormatRupees(p)
	case kindInt:
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return bad(CodeInvalidFormat, "Enter a whole number of months.")
		}
		s = strconv.Itoa(n)
	case kindPercent:
		bps, ok := parsePercent(s)
		if !ok || bps < 0 || bps > 6000 {
			return bad(CodeOutOfRange, "Enter a yearly rate between 0 and 60, like 11.5 (0 for a no-cost EMI product).")
		}
		s = formatPercent(bps)
	case kindChoice:
		found := false
		for _, c := range f.Choices() {
			found = found || c.Value == s
		}
		if !found {
			return bad(CodeInvalidChoice, "Choose one of the options.")
		}
	}
	return s, nil
}

// CheckTogether applies the rules that span fields to a complete set of
// values (merged: the stored values with the submitted ones on top);
// changed holds the submitted fields. The amount, tenure and rate must
// suit the product; a home loan needs the property's value; and for
// products lent to individuals the PAN must be an individual's (its
// fourth character is "P", per the Income Tax Department's PAN structure)
// — checked when the PAN or the product is among the changes, so an
// older application is not blocked on a field nobody touched.
func CheckTogether(merged, changed Values) Errors {
	errs := Errors{}
	p, ok := ProductByName(merged["product"])
	if !ok {
		return errs // the product field itself reports this
	}
	if paise, err := money.ParseRupees(merged["amount"]); err == nil && (paise < p.MinAmount*100 || paise > p.MaxAmount*100) {
		errs.Add("amount", CodeOutOfRange, fmt.Sprintf("A %s loan is between %s and %s.", strings.ToLower(p.Label), money.FormatINR(p.MinAmount*100), money.FormatINR(p.MaxAmount*100)))
	}
	if n, err := strconv.Atoi(merged["tenureMonths"]); err == nil && (n < p.MinTenure || n > p.MaxTenure) {
		errs.Add("tenureMonths", CodeOutOfRange, fmt.Sprintf("A %s loan runs %d to %d months.", strings.ToLower(p.Label), p.MinTenure, p.MaxTenure))
	}
	if bps, ok := parsePercent(merged["annualRate"]); ok && (bps < p.MinRateBps || bps > p.MaxRateBps) {
		errs.Add("annualRate", CodeOutOfRange, fmt.Sprintf("A %s loan's rate is %s%% to %s%%.", strings.ToLower(p.Label), formatPercent(p.MinRateBps), formatPercent(p.MaxRateBps)))
	}
	if v, err := money.ParseRupees(merged["propertyValue"]); p.NeedsProperty && (err != nil || v == 0) {
		errs.Add("propertyValue", CodeRequired, "A home loan needs the value of the property.")
	}
	_, panChanged := changed["pan"]
	_, productChanged := changed["product"]
	if pan := merged["pan"]; p.IndividualsOnly && (panChanged || productChanged) && len(pan) == 10 && pan[3] != 'P' {
		errs.Add("pan", CodeInvalidFormat, fmt.Sprintf("A %s loan is lent to a person: the PAN's fourth letter must be P (%s is not an individual's PAN).", strings.ToLower(p.Label), pan))
	}
	return errs
}

// Apply writes canonical values (from Normalize) into a loan record.
// It fails only on a key that is no field or a value that is not
// canonical: both are programming errors, never a user's input.
func Apply(l *model.Loan, v Values) error {
	for key, canonical := range v {
		f, ok := FieldByKey(key)
		if !ok {
			return fmt.Errorf("application: unknown field %q", key)
		}
		if err := f.set(l, canonical); err != nil {
			return err
		}
	}
	return nil
}

// set stores one canonical value at the field's place in l.
func (f Field) set(l *model.Loan, canonical string) error {
	var err error
	switch p := f.ref(l).(type) {
	case *string:
		*p = canonical
	case *int64:
		*p, err = money.ParseRupees(canonical)
	case *int:
		if f.kind == kindPercent {
			bps, ok := parsePercent(canonical)
			if !ok {
				err = errors.New("not a rate")
			}
			*p = bps
		} else {
			*p, err = strconv.Atoi(canonical)
		}
	case *time.Time:
		*p, err = time.Parse(time.DateOnly, canonical)
	default:
		err = fmt.Errorf("unsupported field type %T", p)
	}
	if err != nil {
		return fmt.Errorf("application: field %s: %q: %w", f.Key, canonical, err)
	}
	return nil
}

// parsePercent reads "11.5" or "11.50" as basis points (1150).
func parsePercent(s string) (int, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 2 || hasFrac && (frac == "" || len(frac) > 2) {
		return 0, false
	}
	if !asciiDigits(whole) || hasFrac && !asciiDigits(frac) { // no signs, spaces or other digits
		return 0, false
	}
	w, err := strconv.Atoi(whole)
	if err != nil {
		return 0, false
	}
	f := 0
	if hasFrac {
		if f, err = strconv.Atoi(frac); err != nil {
			return 0, false
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, true
}

func asciiDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isASCII reports whether s is plain ASCII: PANs and e-mail addresses
// are, and checking first keeps case mapping from turning another
// script's letters into ASCII ones ("ı" → "I", the Kelvin sign → "k").
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// formatPercent writes basis points as a percentage: 1150 → "11.50".
func formatPercent(bps int) string {
	return fmt.Sprintf("%d.%02d", bps/100, bps%100)
}

// AgeOn is a person's age in whole years on a calendar day: born on
// dateOfBirth (a calendar date, stored as UTC midnight), it is the number
// of birthdays passed by the calendar date of today, taken in today's own
// location (the lender's zone). Someone born on 29 February turns a year
// older on 1 March in common years.
func AgeOn(dateOfBirth, today time.Time) int {
	by, bm, bd := dateOfBirth.UTC().Date()
	ty, tm, td := today.Date()
	age := ty - by
	if tm < bm || tm == bm && td < bd {
		age--
	}
	return age
}
