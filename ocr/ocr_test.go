package ocr_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"loandesk/ocr"
	"loandesk/ocr/ocrtest"
)

var salarySlip = []string{
	"SALARY SLIP - OCTOBER 2026",
	"Name: Asha Iyer",
	"PAN: ABCPI1234K",
	"Gross salary Rs. 1,25,000.00",
	"Net pay INR 98,450",
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Real tesseract and pdftotext read generated documents of known text:
// an image, a PDF with a text layer, and a scanned PDF (OCR fallback).
func TestRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, contentType, method string
		data                            []byte
	}{
		{"image", "slip.png", ocr.PNG, "tesseract", ocrtest.PNG(salarySlip)},
		{"text PDF", "slip.pdf", ocr.PDF, "pdftotext", ocrtest.TextPDF(salarySlip)},
		{"scanned PDF", "scan.pdf", ocr.PDF, "pdftotext+tesseract", ocrtest.ScanPDF(salarySlip)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := ocr.Read(ctx, write(t, tc.file, tc.data), tc.contentType)
			if err != nil {
				t.Fatal(err)
			}
			f := ocr.Parse(res.Text)
			t.Logf("%s read by %s: PAN %q, name %q, amounts %v", tc.name, res.Method, f.PAN, f.Name, f.Amounts)
			if res.Method != tc.method {
				t.Errorf("method %q, want %q", res.Method, tc.method)
			}
			if f.PAN != "ABCPI1234K" || f.Name != "Asha Iyer" || !slices.Equal(f.Amounts, []int64{12500000, 9845000}) {
				t.Errorf("fields %+v from text:\n%s", f, res.Text)
			}
		})
	}
}

func TestReadRefusesOtherTypes(t *testing.T) {
	t.Parallel()
	if _, err := ocr.Read(context.Background(), write(t, "x.gif", []byte("GIF89a")), "image/gif"); err == nil {
		t.Fatal("a GIF was read")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]ocr.Fields{
		"INCOME TAX DEPARTMENT\nName\n\nRAVI KUMAR\nPermanent Account Number\nBNZPM2O01F": {PAN: "BNZPM2001F", Name: "Ravi Kumar"},
		"Employee Name : PRIYA SHARMA\nBasic ₹ 40,000\nHRA ₹20,000.5":                     {Name: "Priya Sharma", Amounts: []int64{4000000, 2000050}},
		"nothing here 12345": {},
	} {
		got := ocr.Parse(text)
		if got.PAN != want.PAN || got.Name != want.Name || !slices.Equal(got.Amounts, want.Amounts) {
			t.Errorf("Parse(%q) = %+v, want %+v", strings.ReplaceAll(text, "\n", " | "), got, want)
		}
	}
}
