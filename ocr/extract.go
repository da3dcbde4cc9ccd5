// Package ocr reads the text of uploaded documents: pdftotext (poppler)
// for PDFs with a text layer, tesseract for images and for PDF pages
// without one (scans), both run as programs; then it picks out the
// fields a lender checks (PAN, name, amounts); a photo is turned upright
// by jpegtran first. Every program runs under prlimit. Debian:
// tesseract-ocr, poppler-utils, libjpeg-turbo-progs, util-linux.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strconv"
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
	// Skipped counts pages without a text layer beyond Limits.MaxScanPages
	// (not OCRed, so not in Text).
	Skipped int
	// PeakMemory is the largest resident memory of the programs run, in
	// bytes.
	PeakMemory int64
}

// ErrMissingTool means a program OCR needs is not installed.
var ErrMissingTool = errors.New("ocr: a required program is not installed")

// A PDF page is OCRed when its text layer has fewer than minPageLetters
// letters (a scan), or fewer than minImagePageLetters and an image (a
// scanned PAN card below a typed header line); its text layer is kept
// beside what OCR read.
const (
	minPageLetters      = 20
	minImagePageLetters = 400
)

// Read extracts the text of the file at path, of contentType, within
// DefaultLimits.
func Read(ctx context.Context, path, contentType string) (Result, error) {
	return ReadWithin(ctx, path, contentType, DefaultLimits)
}

// ReadWithin extracts the text of the file at path, of contentType,
// within l. The file is inspected first (Inspect): a document past the
// limits, or password-protected, is a *RefusedError at once, without
// rendering or OCR.
func ReadWithin(ctx context.Context, path, contentType string, l Limits) (Result, error) {
	pr := &proc{limits: l}
	var res Result
	var err error
	switch contentType {
	case PNG, JPEG:
		f, ferr := os.Open(path)
		if ferr != nil {
			return Result{}, fmt.Errorf("ocr: %w", ferr)
		}
		err = CheckImage(f, l)
		f.Close()
		// A phone photo is read upright: its EXIF orientation applied.
		img := path
		if err == nil && contentType == JPEG {
			dir, derr := os.MkdirTemp("", "loandesk-ocr-")
			if derr != nil {
				return Result{}, fmt.Errorf("ocr: %w", derr)
			}
			defer os.RemoveAll(dir)
			img, err = pr.uprightJPEG(ctx, path, dir)
		}
		if err == nil {
			var text string
			text, err = pr.tesseract(ctx, img)
			res = Result{Text: text, Method: "tesseract", Pages: 1}
		}
	case PDF:
		res, err = pr.readPDF(ctx, path)
	default:
		return Result{}, fmt.Errorf("ocr: cannot read %s", contentType)
	}
	res.PeakMemory = pr.peak
	if errors.Is(err, ErrNoLimits) {
		// Final: the job fails at once with what an admin must do,
		// rather than read the document unbounded or retry in vain.
		return res, refused("Reading the document was not started: this server cannot limit the memory and processor time of its OCR programs (prlimit, from the util-linux package, is not installed). An admin can install it, then retry the job from the queue page.")
	}
	return res, err
}

func (pr *proc) readPDF(ctx context.Context, path string) (Result, error) {
	sizes, err := pr.checkPDF(ctx, path)
	if err != nil {
		return Result{}, err
	}
	n := len(sizes)
	out, err := pr.run(ctx, "pdftotext", "-layout", "-enc", "UTF-8", "-l", strconv.Itoa(n), path, "-")
	if err != nil {
		return Result{}, err
	}
	// pdftotext ends every page with a form feed; blank pages are pages.
	pages := strings.Split(out, "\f")
	pages = append(pages, make([]string, max(0, n-len(pages)))...)[:n]
	res := Result{Method: "pdftotext", Pages: len(pages)}
	var scans []int // pages to OCR
	var images map[int]bool
	for i, p := range pages {
		n := letters(p)
		if n >= minPageLetters && n < minImagePageLetters && images == nil {
			if images, err = pr.pagesWithImages(ctx, path); err != nil {
				return Result{}, err
			}
		}
		if n < minPageLetters || n < minImagePageLetters && images[i+1] {
			scans = append(scans, i+1)
		}
	}
	if len(scans) > pr.limits.MaxScanPages {
		res.Skipped = len(scans) - pr.limits.MaxScanPages
		scans = scans[:pr.limits.MaxScanPages]
	}
	if len(scans) > 0 {
		dir, err := os.MkdirTemp("", "loandesk-ocr-")
		if err != nil {
			return Result{}, fmt.Errorf("ocr: %w", err)
		}
		defer os.RemoveAll(dir)
		for _, n := range scans {
			page, err := pr.renderPage(ctx, path, n, sizes[n-1], dir)
			if err != nil {
				return Result{}, err
			}
			text, err := pr.tesseract(ctx, page)
			if err != nil {
				return Result{}, err
			}
			if layer := strings.TrimSpace(pages[n-1]); layer != "" {
				text = layer + "\n" + text
			}
			pages[n-1] = text
		}
		res.Method = "pdftotext+tesseract"
	}
	res.Text = strings.Join(pages, "\n\f\n")
	return res, nil
}

// renderPage renders page n of the PDF at path, of size (checked against
// the pixel budget), into dir as a gray PNG at RenderDPI and returns its
// path. It renders the crop box, which checkPDF measured. pdftoppm that
// runs out of memory under its limit says "Out of memory" and exits 0
// with a 1 × 1 picture: that, or any picture much smaller than the page,
// is a refusal, not a page without text.
func (pr *proc) renderPage(ctx context.Context, path string, n int, size pageSize, dir string) (string, error) {
	prefix := filepath.Join(dir, fmt.Sprint("page-", n))
	_, stderr, err := pr.runErr(ctx, "pdftoppm", "-cropbox", "-r", strconv.Itoa(RenderDPI), "-gray", "-png", "-singlefile",
		"-f", strconv.Itoa(n), "-l", strconv.Itoa(n), path, prefix)
	if err != nil {
		return "", err
	}
	if outOfMemory(stderr) {
		return "", pr.tooMuchMemory()
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		return "", fmt.Errorf("ocr: pdftoppm wrote no page: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil || float64(cfg.Width)*float64(cfg.Height) < size.pixels()/2 {
		return "", refused("Page %d of the PDF could not be rendered whole (%d × %d pixels of about %.0f × %.0f). Save or print it to a new PDF and upload that.",
			n, cfg.Width, cfg.Height, size.w/72*RenderDPI, size.h/72*RenderDPI)
	}
	return prefix + ".png", nil
}

// pagesWithImages lists the pages of the PDF at path that show an image
// (pdfimages -list).
func (pr *proc) pagesWithImages(ctx context.Context, path string) (map[int]bool, error) {
	out, err := pr.run(ctx, "pdfimages", "-list", path)
	if err != nil {
		return nil, err
	}
	pages := map[int]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "image" {
			if n, err := strconv.Atoi(f[0]); err == nil {
				pages[n] = true
			}
		}
	}
	return pages, nil
}

func (pr *proc) tesseract(ctx context.Context, image string) (string, error) {
	return pr.run(ctx, "tesseract", image, "stdout", "-l", "eng", "--psm", "3")
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
