package ocr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads JPEG headers
	_ "image/png"  // and PNG headers
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Limits bound what reading one document may cost. A document past them
// is refused at upload (Inspect) and, should one be stored anyway (from
// before the limits), failed at once, never retried.
type Limits struct {
	// MaxPixels bounds an image, and a PDF page as rendered for OCR at
	// RenderDPI: 40 million pixels (a 6,300 px square; an A1 sheet at
	// 200 dpi). Read from the header, so a decompression bomb costs
	// nothing to refuse.
	MaxPixels int64
	// MaxPages bounds a PDF's pages.
	MaxPages int
	// MaxScanPages is how many pages without a text layer of one PDF are
	// OCRed; the rest are left out of the text.
	MaxScanPages int
	// MemoryBytes caps each external program's address space, so its
	// resident memory stays below it too.
	MemoryBytes int64
	// CPUSeconds caps each external program's processor time.
	CPUSeconds int
}

// DefaultLimits: 40 MP, 100 pages of which 10 are OCRed, 512 MiB and 90 s
// of CPU per program.
var DefaultLimits = Limits{MaxPixels: 40_000_000, MaxPages: 100, MaxScanPages: 10, MemoryBytes: 512 << 20, CPUSeconds: 90}

// RenderDPI is the resolution PDF pages without text are rendered at for
// OCR.
const RenderDPI = 200

// RefusedError is a document this reader will not read: too large,
// password-protected or not readable as its type. Its message is written
// for staff; retrying cannot help.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// IsRefused reports whether err is (or wraps) a RefusedError.
func IsRefused(err error) bool { return errors.As(err, new(*RefusedError)) }

// CheckImage reads only the header of a PNG or JPEG image from r and
// refuses it (RefusedError) above l.MaxPixels or when it has no readable
// header.
func CheckImage(r io.Reader, l Limits) error {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return refused("The image could not be read (%s). Save it again as PNG or JPEG and upload it.", shortErr(err))
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > l.MaxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return refused("The image is %d × %d pixels (%s megapixels); at most %s megapixels can be read. Scan or photograph it at a lower resolution.",
			cfg.Width, cfg.Height, megapixels(px), megapixels(l.MaxPixels))
	}
	return nil
}

var (
	pdfPagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)\s*$`)
	pdfSizeLine  = regexp.MustCompile(`(?m)^Page\s+(\d+)\s+size:\s+([0-9.]+)\s+x\s+([0-9.]+)\s+pts`)
)

// CheckPDF asks pdfinfo (poppler) about the PDF at path without rendering
// anything, and refuses it (RefusedError) when it is password-protected,
// has more than l.MaxPages pages or a page that would render above
// l.MaxPixels at RenderDPI. It returns the page count.
func CheckPDF(ctx context.Context, path string, l Limits) (int, error) {
	return (&proc{limits: l}).checkPDF(ctx, path)
}

func (pr *proc) checkPDF(ctx context.Context, path string) (int, error) {
	l := pr.limits
	out, err := pr.run(ctx, "pdfinfo", path)
	if err != nil {
		if IsRefused(err) || errors.Is(err, ErrMissingTool) || ctx.Err() != nil {
			return 0, err
		}
		return 0, refused("The PDF could not be opened (%s). Save or print it to a new PDF and upload that.", shortErr(err))
	}
	m := pdfPagesLine.FindStringSubmatch(out)
	if m == nil {
		return 0, refused("The PDF's pages could not be counted. Save or print it to a new PDF and upload that.")
	}
	pages, _ := strconv.Atoi(m[1])
	if pages > l.MaxPages {
		return pages, refused("The PDF has %d pages; at most %d can be read. Upload the pages that matter as a shorter PDF.", pages, l.MaxPages)
	}
	if pages == 0 {
		return 0, refused("The PDF has no pages.")
	}
	// Every page's size (one more run: -f/-l list them all).
	out, err = pr.run(ctx, "pdfinfo", "-f", "1", "-l", strconv.Itoa(pages), path)
	if err != nil {
		return pages, err
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := pdfSizeLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		w, _ := strconv.ParseFloat(m[2], 64)
		h, _ := strconv.ParseFloat(m[3], 64)
		px := int64(w/72*RenderDPI) * int64(h/72*RenderDPI)
		if px > l.MaxPixels || px < 0 {
			return pages, refused("Page %s of the PDF is %.0f × %.0f inches; pages up to %s megapixels at %d dpi (about A1) can be read.",
				m[1], w/72, h/72, megapixels(l.MaxPixels), RenderDPI)
		}
	}
	return pages, nil
}

// Inspect checks the file at path of contentType against l before it is
// stored or read: the image header or the PDF's pages.
func Inspect(ctx context.Context, r io.Reader, path, contentType string, l Limits) error {
	switch contentType {
	case PNG, JPEG:
		return CheckImage(r, l)
	case PDF:
		_, err := CheckPDF(ctx, path, l)
		return err
	}
	return refused("Only PDF, PNG or JPEG files can be read.")
}

func megapixels(px int64) string {
	return strconv.FormatFloat(float64(px)/1e6, 'f', 1, 64)
}

// shortErr is err's text in at most 200 characters (cut by characters).
func shortErr(err error) string {
	return cutRunes(strings.TrimSpace(err.Error()), 200)
}

// cutRunes returns s cut to at most n characters, never inside one.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// pdfPasswordProtected reports whether poppler's message says the PDF
// needs a password.
func pdfPasswordProtected(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("Incorrect password"))
}
