package application

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"loandesk/model"
	"loandesk/money"
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

// Field is one editable field of an application.
type Field struct {
	Key     string // form and API name
	Label   string
	Section Section
	Path    string // where the store keeps it
	kind    kind
	max     int // longest accepted text, in characters
}

// Choice is one option of a choice field.
type Choice struct{ Value, Label string }

// Fields are every editable field, in page order.
var Fields = []Field{
	{Key: "name", Label: "Applicant name", Section: SectionApplicant, Path: "applicant.name", kind: kindName, max: 100},
	{Key: "email", Label: "Email", Section: SectionApplicant, Path: "applicant.email", kind: kindEmail, max: 254},
	{Key: "phone", Label: "Phone", Section: SectionApplicant, Path: "applicant.phone", kind: kindPhone, max: 20},
	{Key: "pan", Label: "PAN", Section: SectionApplicant, Path: "applicant.pan", kind: kindPAN, max: 10},
	{Key: "dateOfBirth", Label: "Date of birth", Section: SectionApplicant, Path: "applicant.dateOfBirth", kind: kindDate, max: 10},
	{Key: "address", Label: "Address", Section: SectionApplicant, Path: "applicant.address", kind: kindText, max: 300},
	{Key: "city", Label: "City", Section: SectionApplicant, Path: "applicant.city", kind: kindName, max: 60},
	{Key: "employment", Label: "Employment", Section: SectionApplicant, Path: "applicant.employment", kind: kindChoice},
	{Key: "monthlyIncome", Label: "Monthly income (₹)", Section: SectionApplicant, Path: "applicant.monthlyIncome", kind: kindRupees, max: 20},
	{Key: "product", Label: "Product", Section: SectionTerms, Path: "terms.product", kind: kindChoice},
	{Key: "amount", Label: "Amount (₹)", Section: SectionTerms, Path: "terms.amount", kind: kindRupees, max: 20},
	{Key: "tenureMonths", Label: "Tenure (months)", Section: SectionTerms, Path: "terms.tenureMonths", kind: kindInt, max: 3},
	{Key: "annualRate", Label: "Annual rate (%)", Section: SectionTerms, Path: "terms.annualRateBps", kind: kindPercent, max: 6},
	{Key: "purpose", Label: "Purpose", Section: SectionTerms, Path: "terms.purpose", kind: kindText, max: 200},
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

// ValuesOf returns the canonical values of a stored loan.
func ValuesOf(l model.Loan) Values {
	a, t := l.Applicant, l.Terms
	dob := ""
	if !a.DateOfBirth.IsZero() {
		dob = a.DateOfBirth.UTC().Format(time.DateOnly)
	}
	return Values{
		"name": a.Name, "email": a.Email, "phone": a.Phone, "pan": a.PAN, "dateOfBirth": dob,
		"address": a.Address, "city": a.City, "employment": a.Employment,
		"monthlyIncome": money.FormatRupees(a.MonthlyIncome),
		"product":       t.Product, "amount": money.FormatRupees(t.Amount),
		"tenureMonths": strconv.Itoa(t.TenureMonths), "annualRate": formatPercent(t.AnnualRateBps),
		"purpose": t.Purpose,
	}
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

// Normalize checks one typed value and returns its canonical form, or
// what is wrong with it. now dates the age check.
func (f Field) Normalize(raw string, now time.Time) (string, *Problem) {
	bad := func(code, msg string) (string, *Problem) { return "", &Problem{Code: code, Message: msg} }
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return bad(CodeInvalidCharacters, "Contains characters that are not allowed.")
	}
	s := strings.Join(strings.Fields(raw), " ") // trim and collapse whitespace
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
		if strings.IndexFunc(s, func(r rune) bool { return !nameAllowed(r) }) >= 0 {
			return bad(CodeInvalidCharacters, "Use letters, spaces, dots, apostrophes and hyphens only.")
		}
	case kindText:
		if utf8.RuneCountInString(s) < 2 {
			return bad(CodeInvalidFormat, "Enter at least two characters.")
		}
		if strings.ContainsAny(s, textRejected) {
			return bad(CodeInvalidCharacters, "Angle brackets, braces, backslashes and backticks are not allowed.")
		}
	case kindEmail:
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
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
			if age := yearsBetween(d, now); age < 18 || age > 100 {
				return bad(CodeOutOfRange, "The applicant must be between 18 and 100 years old.")
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
		if !ok || bps <= 0 || bps > 6000 {
			return bad(CodeOutOfRange, "Enter a yearly rate between 0.01 and 60, like 11.5.")
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
// values: the amount, tenure and rate must suit the product.
func CheckTogether(v Values) Errors {
	errs := Errors{}
	p, ok := ProductByName(v["product"])
	if !ok {
		return errs // the product field itself reports this
	}
	if paise, err := money.ParseRupees(v["amount"]); err == nil && (paise < p.MinAmount*100 || paise > p.MaxAmount*100) {
		errs.Add("amount", CodeOutOfRange, fmt.Sprintf("A %s loan is between %s and %s.", strings.ToLower(p.Label), money.FormatINR(p.MinAmount*100), money.FormatINR(p.MaxAmount*100)))
	}
	if n, err := strconv.Atoi(v["tenureMonths"]); err == nil && (n < p.MinTenure || n > p.MaxTenure) {
		errs.Add("tenureMonths", CodeOutOfRange, fmt.Sprintf("A %s loan runs %d to %d months.", strings.ToLower(p.Label), p.MinTenure, p.MaxTenure))
	}
	if bps, ok := parsePercent(v["annualRate"]); ok && (bps < p.MinRateBps || bps > p.MaxRateBps) {
		errs.Add("annualRate", CodeOutOfRange, fmt.Sprintf("A %s loan's rate is %s%% to %s%%.", strings.ToLower(p.Label), formatPercent(p.MinRateBps), formatPercent(p.MaxRateBps)))
	}
	return errs
}

// StoreValue converts a canonical value to what the store keeps at the
// field's path.
func (f Field) StoreValue(canonical string) (any, error) {
	switch f.kind {
	case kindDate:
		return time.Parse(time.DateOnly, canonical)
	case kindRupees:
		return money.ParseRupees(canonical)
	case kindInt:
		return strconv.Atoi(canonical)
	case kindPercent:
		bps, ok := parsePercent(canonical)
		if !ok {
			return nil, fmt.Errorf("application: %s: not a rate: %q", f.Key, canonical)
		}
		return bps, nil
	}
	return canonical, nil
}

// Apply writes canonical values into a loan, as the store will hold it.
func Apply(l *model.Loan, v Values) error {
	for key, canonical := range v {
		f, ok := FieldByKey(key)
		if !ok {
			return fmt.Errorf("application: unknown field %q", key)
		}
		val, err := f.StoreValue(canonical)
		if err != nil {
			return err
		}
		a, t := &l.Applicant, &l.Terms
		switch key {
		case "name":
			a.Name = val.(string)
		case "email":
			a.Email = val.(string)
		case "phone":
			a.Phone = val.(string)
		case "pan":
			a.PAN = val.(string)
		case "dateOfBirth":
			a.DateOfBirth = val.(time.Time)
		case "address":
			a.Address = val.(string)
		case "city":
			a.City = val.(string)
		case "employment":
			a.Employment = val.(string)
		case "monthlyIncome":
			a.MonthlyIncome = val.(int64)
		case "product":
			t.Product = val.(string)
		case "amount":
			t.Amount = val.(int64)
		case "tenureMonths":
			t.TenureMonths = val.(int)
		case "annualRate":
			t.AnnualRateBps = val.(int)
		case "purpose":
			t.Purpose = val.(string)
		}
	}
	return nil
}

// parsePercent reads "11.5" or "11.50" as basis points (1150).
func parsePercent(s string) (int, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 2 || hasFrac && (frac == "" || len(frac) > 2) {
		return 0, false
	}
	w, err := strconv.Atoi(whole)
	if err != nil || w < 0 {
		return 0, false
	}
	f := 0
	if hasFrac {
		if f, err = strconv.Atoi(frac); err != nil || f < 0 {
			return 0, false
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, true
}

// formatPercent writes basis points as a percentage: 1150 → "11.50".
func formatPercent(bps int) string {
	return fmt.Sprintf("%d.%02d", bps/100, bps%100)
}

func yearsBetween(from, to time.Time) int {
	years := to.Year() - from.Year()
	if to.YearDay() < from.YearDay() {
		years--
	}
	return years
}
