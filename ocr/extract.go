// Package ocr reads the text of uploaded documents: pdftotext (poppler)
// for PDFs with a text layer, tesseract for images and for PDF pages
// without one (scans), both run as programs; then it picks out the
// fields a lender checks (PAN, name, amounts). Debian: tesseract-ocr,
// poppler-utils.
package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"
)

// Content types the reader accepts (sniffed, not as declared).
const (
	PDF  = "application/pdf"
	PNG  = "image/png"
	JPEG = "image/jpeg"
)

// Result is a document's text and how it was read.
type Result struct {
	Text   string
	Method string // "pdftotext", "tesseract" or "pdftotext+tesseract"
	Pages  int
}

// ErrMissingTool means a program OCR needs is not installed.
var ErrMissingTool = errors.New("ocr: a required program is not installed")

// minPageLetters is the letters a PDF page's text layer needs to count as
// text; fewer means a scan, which is OCRed instead.
const minPageLetters = 20

// Read extracts the text of the file at path, of contentType.
func Read(ctx context.Context, path, contentType string) (Result, error) {
	switch contentType {
	case PNG, JPEG:
		text, err := tesseract(ctx, path)
		return Result{Text: text, Method: "tesseract", Pages: 1}, err
	case PDF:
		return readPDF(ctx, path)
	}
	return Result{}, fmt.Errorf("ocr: cannot read %s", contentType)
}

func readPDF(ctx context.Context, path string) (Result, error) {
	out, err := run(ctx, "pdftotext", "-layout", "-enc", "UTF-8", path, "-")
	if err != nil {
		return Result{}, err
	}
	pages := strings.Split(strings.TrimRight(out, "\f\n"), "\f")
	res := Result{Method: "pdftotext", Pages: len(pages)}
	var scans []int // pages without a text layer
	for i, p := range pages {
		if letters(p) < minPageLetters {
			scans = append(scans, i+1)
		}
	}
	if len(scans) > 0 {
		dir, err := os.MkdirTemp("", "loandesk-ocr-")
		if err != nil {
			return Result{}, fmt.Errorf("ocr: %w", err)
		}
		defer os.RemoveAll(dir)
		for _, n := range scans {
			prefix := filepath.Join(dir, fmt.Sprint("page-", n))
			if _, err := run(ctx, "pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", "-f", fmt.Sprint(n), "-l", fmt.Sprint(n), path, prefix); err != nil {
				return Result{}, err
			}
			text, err := tesseract(ctx, prefix+".png")
			if err != nil {
				return Result{}, err
			}
			pages[n-1] = text
		}
		res.Method = "pdftotext+tesseract"
	}
	res.Text = strings.Join(pages, "\n\f\n")
	return res, nil
}

func tesseract(ctx context.Context, image string) (string, error) {
	return run(ctx, "tesseract", image, "stdout", "-l", "eng", "--psm", "3")
}

// run runs a program and returns its standard output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	if _, err := exec.LookPath(name); err != nil {
		return "", fmt.Errorf("%w: %s (install tesseract-ocr and poppler-utils)", ErrMissingTool, name)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1") // one core per document: workers run side by side
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return "", fmt.Errorf("ocr: %s failed: %v: %s", name, err, msg)
	}
	return stdout.String(), nil
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
