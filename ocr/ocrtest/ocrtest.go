// Package ocrtest makes documents with known text for tests: a PNG of
// rendered text, a PDF with a text layer, and a PDF holding only an
// image of text (a scan).
package ocrtest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Gray renders lines of black text on white at a size tesseract reads
// well (about 300 dpi for 11 pt text).
func Gray(lines []string) *image.Gray {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 36, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	defer face.Close()
	const margin, lineHeight = 60, 56
	width := 0
	for _, l := range lines {
		width = max(width, font.MeasureString(face, l).Ceil())
	}
	img := image.NewGray(image.Rect(0, 0, width+2*margin, len(lines)*lineHeight+2*margin))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(margin, margin+(i+1)*lineHeight-14)
		d.DrawString(l)
	}
	return img
}

// PNG is Gray encoded as a PNG file.
func PNG(lines []string) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, Gray(lines)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TextPDF is a one-page PDF whose text layer holds lines.
func TextPDF(lines []string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 12 Tf 72 720 Td 16 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj T*\n", pdfEscape(l))
	}
	content.WriteString("ET")
	return pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		stream("", []byte(content.String())),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	})
}

// ScanPDF is a one-page PDF holding only an image of lines: no text
// layer, as a scanner makes.
func ScanPDF(lines []string) []byte {
	return scanPDF(lines, "/MediaBox [0 0 612 792]")
}

// CroppedScanPDF is ScanPDF on a letter-size crop box of a 200-inch media
// box: viewers show the crop box; a renderer that draws the media box
// needs 1.6 gigapixels.
func CroppedScanPDF(lines []string) []byte {
	return scanPDF(lines, "/MediaBox [0 0 14400 14400] /CropBox [0 0 612 792]")
}

func scanPDF(lines []string, boxes string) []byte {
	img := Gray(lines)
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(img.Pix)
	_ = w.Close()
	b := img.Bounds()
	// The image drawn at 72 pixels per inch... scaled to 1/4: ~288 dpi.
	pw, ph := b.Dx()/4, b.Dy()/4
	drawImg := fmt.Sprintf("q %d 0 0 %d 36 %d cm /Im1 Do Q", pw, ph, 792-36-ph)
	return pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R " + boxes + " /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>",
		stream("", []byte(drawImg)),
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", b.Dx(), b.Dy()), z.Bytes()),
	})
}

func stream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// pdf assembles objects 1..n with a cross-reference table.
func pdf(objects []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}
