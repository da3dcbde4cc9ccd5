package ocr

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fields are what a lender checks on a document.
type Fields struct {
	PAN     string
	Name    string
	Amounts []int64 // paise, largest first, at most maxAmounts
}

const maxAmounts = 10

var (
	// A PAN: five letters, four digits, a letter. OCR reads O for 0 and
	// I for 1 in the digits now and then; those are mended.
	panPattern = regexp.MustCompile(`\b([A-Z]{5})([0-9OIl]{4})([A-Z])\b`)
	// "Name: Asha Iyer", "Name of the employee : ASHA IYER".
	nameLine = regexp.MustCompile(`(?i)^\s*(?:employee\s+|applicant\s+|account\s+holder\s+|customer\s+)?name(?:\s+of\s+the\s+\w+)?\s*[:\-]?\s*([A-Za-z][A-Za-z .']{1,60})$`)
	// Amounts with a currency mark: ₹ 1,23,456.00, Rs. 50000, INR 5,00,000.
	amountPattern = regexp.MustCompile(`(?i)(?:₹|rs\.?|inr)\s*([0-9][0-9,]*(?:\.[0-9]{1,2})?)`)
)

// Parse picks the fields out of text.
func Parse(text string) Fields {
	var f Fields
	if m := panPattern.FindStringSubmatch(strings.ToUpper(text)); m != nil {
		digits := strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(m[2])
		f.PAN = m[1] + digits + m[3]
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if m := nameLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			f.Name = cleanName(m[1])
			break
		}
		// PAN cards print "Name" alone, the name on the next line (OCR
		// may put blank lines between).
		if strings.EqualFold(strings.Trim(strings.TrimSpace(line), ":/"), "name") {
			for _, next := range lines[i+1:] {
				if strings.TrimSpace(next) != "" {
					f.Name = cleanName(next)
					break
				}
			}
			break
		}
	}
	seen := map[int64]bool{}
	for _, m := range amountPattern.FindAllStringSubmatch(text, -1) {
		if p, ok := paise(m[1]); ok && p > 0 && !seen[p] {
			seen[p] = true
			f.Amounts = append(f.Amounts, p)
		}
	}
	slices.SortFunc(f.Amounts, func(a, b int64) int { return cmp.Compare(b, a) }) // largest first
	if len(f.Amounts) > maxAmounts {
		f.Amounts = f.Amounts[:maxAmounts]
	}
	return f
}

func cleanName(s string) string {
	fields := strings.Fields(strings.Trim(s, " .:-"))
	for i, w := range fields {
		// By characters, not bytes: a Devanagari name's first letter is
		// three bytes.
		first, size := utf8.DecodeRuneInString(w)
		fields[i] = strings.ToUpper(string(first)) + strings.ToLower(w[size:])
	}
	return strings.Join(slices.Clip(fields), " ")
}

// paise converts "1,23,456.50" to 12345650.
func paise(s string) (int64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	rupees, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || rupees > 1e12 {
		return 0, false
	}
	p := rupees * 100
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		f, err := strconv.Atoi(frac)
		if err != nil {
			return 0, false
		}
		p += int64(f)
	}
	return p, true
}
