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
	"math"
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
	// A page's size (its crop box, turned by its rotation) and its boxes,
	// as `pdfinfo -box -f 1 -l n` prints them. The numbers are taken as
	// printed and parsed after: sizes of 10^6 points and more are printed
	// in exponent form ("1e+06 x 1e+06 pts").
	pdfSizeLine = regexp.MustCompile(`^Page\s+(\d+)\s+size:\s+(\S+)\s+x\s+(\S+)`)
	pdfBoxLine  = regexp.MustCompile(`^Page\s+(\d+)\s+CropBox:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)`)
)

// pageSize is a PDF page's width and height in points as pdftoppm
// -cropbox renders it.
type pageSize struct{ w, h float64 }

// pixels is how many pixels the page renders to at RenderDPI (+Inf when
// that cannot be said).
func (p pageSize) pixels() float64 {
	px := p.w / 72 * RenderDPI * p.h / 72 * RenderDPI
	if math.IsNaN(px) || px < 0 {
		return math.Inf(1)
	}
	return px
}

// CheckPDF asks pdfinfo (poppler) about the PDF at path without rendering
// anything, and refuses it (RefusedError) when it is password-protected,
// has more than l.MaxPages pages, a page that would render above
// l.MaxPixels at RenderDPI, or a page whose size cannot be read. It
// returns the page count.
func CheckPDF(ctx context.Context, path string, l Limits) (int, error) {
	sizes, err := (&proc{limits: l}).checkPDF(ctx, path)
	return len(sizes), err
}

// checkPDF is CheckPDF, returning every page's size. A page is measured
// by its crop box, which is what pdftoppm -cropbox renders (without
// -cropbox it renders the media box, which may be 70 times larger than
// the crop box pdfinfo reports: issue 19). The larger of pdfinfo's page
// size and the crop box it prints counts.
func (pr *proc) checkPDF(ctx context.Context, path string) ([]pageSize, error) {
	l := pr.limits
	out, err := pr.run(ctx, "pdfinfo", path)
	if err != nil {
		if IsRefused(err) || errors.Is(err, ErrMissingTool) || ctx.Err() != nil {
			return nil, err
		}
		return nil, refused("The PDF could not be opened (%s). Save or print it to a new PDF and upload that.", shortErr(err))
	}
	m := pdfPagesLine.FindStringSubmatch(out)
	if m == nil {
		return nil, refused("The PDF's pages could not be counted. Save or print it to a new PDF and upload that.")
	}
	pages, err := strconv.Atoi(m[1])
	if err != nil || pages > l.MaxPages {
		return nil, refused("The PDF has %s pages; at most %d can be read. Upload the pages that matter as a shorter PDF.", m[1], l.MaxPages)
	}
	if pages == 0 {
		return nil, refused("The PDF has no pages.")
	}
	// Every page's size and boxes (one more run: -f/-l list them all).
	out, err = pr.run(ctx, "pdfinfo", "-box", "-f", "1", "-l", strconv.Itoa(pages), path)
	if err != nil {
		return nil, err
	}
	unreadable := func(page string) error {
		return refused("Page %s of the PDF has a size that cannot be read. Save or print it to a new PDF and upload that.", page)
	}
	sizes := make([]pageSize, pages)
	seen := make([]int, pages) // size lines and crop boxes read, per page
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		var page string
		var size pageSize
		if m := pdfSizeLine.FindStringSubmatch(line); m != nil {
			page = m[1]
			w, werr := parsePoints(m[2])
			h, herr := parsePoints(m[3])
			if werr != nil || herr != nil {
				return nil, unreadable(page)
			}
			size = pageSize{w, h}
		} else if m := pdfBoxLine.FindStringSubmatch(line); m != nil {
			page = m[1]
			var c [4]float64
			for i := range c {
				if c[i], err = parsePoints(m[2+i]); err != nil {
					return nil, unreadable(page)
				}
			}
			size = pageSize{math.Abs(c[2] - c[0]), math.Abs(c[3] - c[1])}
		} else if strings.HasPrefix(line, "Page ") && (strings.Contains(line, " size:") || strings.Contains(line, " CropBox:")) {
			return nil, unreadable(strings.Fields(line)[1])
		} else {
			continue
		}
		n, err := strconv.Atoi(page)
		if err != nil || n < 1 || n > pages {
			return nil, unreadable(page)
		}
		s := &sizes[n-1]
		s.w, s.h = max(s.w, size.w), max(s.h, size.h)
		seen[n-1]++
		if px := s.pixels(); px > float64(l.MaxPixels) {
			return nil, refused("Page %d of the PDF is %s × %s inches; pages up to %s megapixels at %d dpi (about A1) can be read.",
				n, inches(s.w), inches(s.h), megapixels(l.MaxPixels), RenderDPI)
		}
	}
	for i, n := range seen {
		if n < 2 { // a size line and a crop box, or the page is not measured
			return nil, unreadable(strconv.Itoa(i + 1))
		}
	}
	return sizes, nil
}

// parsePoints parses a length in points as pdfinfo prints it ("595.28",
// "1e+06"): finite and not negative, or an error.
func parsePoints(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("ocr: %q is not a length", s)
	}
	return math.Abs(f), nil
}

// inches is a length in points in inches: whole from 10, else to a
// tenth.
func inches(pt float64) string {
	if pt/72 >= 10 {
		return strconv.FormatFloat(pt/72, 'f', 0, 64)
	}
	return strconv.FormatFloat(pt/72, 'f', 1, 64)
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
