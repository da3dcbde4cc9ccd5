package application

import (
	"strconv"
	"time"

	"loandesk/money"
)

// otherLabels name what histories record besides the form fields.
var otherLabels = map[string]string{"status": "Status", "assignee": "Assignee", "flag": "Warning"}

// Label is the people-facing name of a field a history records.
func Label(key string) string {
	if f, ok := FieldByKey(key); ok {
		return f.Label
	}
	if l, ok := otherLabels[key]; ok {
		return l
	}
	return key
}

// Display renders a field's canonical value for people: rupees grouped,
// rates with a percent sign, choices by label, dates day-month-year.
func Display(key, canonical string) string {
	f, ok := FieldByKey(key)
	if !ok {
		if key == "status" {
			if l, ok := StatusLabels[canonical]; ok {
				return l
			}
		}
		return canonical
	}
	switch f.kind {
	case kindRupees:
		if p, err := money.ParseRupees(canonical); err == nil {
			return money.FormatINR(p)
		}
	case kindPercent:
		return canonical + "%"
	case kindInt:
		if n, err := strconv.Atoi(canonical); err == nil && f.Key == "tenureMonths" {
			return strconv.Itoa(n) + " months"
		}
	case kindDate:
		if d, err := time.Parse(time.DateOnly, canonical); err == nil {
			return d.Format("02 Jan 2006")
		}
	case kindChoice:
		for _, c := range f.Choices() {
			if c.Value == canonical {
				return c.Label
			}
		}
	}
	return canonical
}
