package ocrtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"strings"
)

// HugePNGHeader is a PNG whose header claims width × height pixels (8-bit
// gray) and whose data is a few bytes: what a decompression bomb shows
// a reader that looks only at the header.
func HugePNGHeader(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(make([]byte, 1024))
	_ = w.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// HugeJPEGHeader is a small real JPEG whose frame header (SOF0) is made
// to claim width × height pixels (each at most 65,535): what a
// decompression bomb shows a reader that looks only at the header.
func HugeJPEGHeader(width, height uint16) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		panic(err)
	}
	data := b.Bytes()
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	if sof < 0 {
		panic("ocrtest: no SOF0 in an encoded JPEG")
	}
	// FF C0, length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(data[sof+5:], height)
	binary.BigEndian.PutUint16(data[sof+7:], width)
	return data
}

// BigPagePDF is a one-page PDF without text whose page is inches square.
func BigPagePDF(inches int) []byte {
	pts := inches * 72
	return pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R >>", pts, pts),
		stream("", []byte("0 0 m 10 10 l S")),
	})
}

// BoxPDF is a one-page PDF without text whose page has the media box
// mediaBox and, unless "", the crop box cropBox: PDF arrays as written in
// the file ("[0 0 612 792]").
func BoxPDF(mediaBox, cropBox string) []byte {
	if cropBox != "" {
		cropBox = " /CropBox " + cropBox
	}
	return pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox %s%s /Contents 4 0 R >>", mediaBox, cropBox),
		stream("", []byte("0 0 m 10 10 l S")),
	})
}

// ManyPagesPDF is a PDF of n letter-size pages without any text (each
// would be OCRed as a scan).
func ManyPagesPDF(n int) []byte {
	kids := make([]string, n)
	objects := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", stream("", []byte("0 0 m 100 100 l S"))}
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", i+4)
		objects = append(objects, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>")
	}
	objects[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	return pdf(objects)
}

// EncryptedPDF is a PDF protected by a user password (standard security
// handler, RC4 40-bit): no reader opens it without the password, which
// nobody here knows.
func EncryptedPDF() []byte {
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
		"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 " +
			"/O <" + strings.Repeat("a5", 32) + "> /U <" + strings.Repeat("5a", 32) + "> >>",
	}
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
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(objects)+1, strings.Repeat("01", 16), strings.Repeat("01", 16), xref)
	return b.Bytes()
}

// HeaderedScanPDF is a one-page PDF with a typed header line (a text
// layer) above an image of lines (a scan): what a PAN card scanned into
// a bank's letterhead looks like.
func HeaderedScanPDF(header string, lines []string) []byte {
	img := Gray(lines)
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(img.Pix)
	_ = w.Close()
	b := img.Bounds()
	pw, ph := b.Dx()/4, b.Dy()/4
	content := fmt.Sprintf("BT /F1 12 Tf 36 760 Td (%s) Tj ET\nq %d 0 0 %d 36 %d cm /Im1 Do Q", pdfEscape(header), pw, ph, 720-ph)
	return pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> /XObject << /Im1 5 0 R >> >> >>",
		stream("", []byte(content)),
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", b.Dx(), b.Dy()), z.Bytes()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	})
}

// SidewaysJPEG is lines photographed with the phone turned: the pixels
// stored a quarter-turn anticlockwise, with EXIF orientation 6 ("turn
// 90° clockwise to show") as phones write it.
func SidewaysJPEG(lines []string) []byte {
	return OrientedJPEG(Gray(lines), 6)
}

// OrientedJPEG is up stored as a camera held at EXIF orientation o (1 to
// 8) stores it: turned the other way, with o in an EXIF tag, so that a
// reader applying o sees up.
func OrientedJPEG(up *image.Gray, o int) []byte {
	undo := map[int]int{6: 8, 8: 6}[o] // the others undo themselves
	if undo == 0 {
		undo = o
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, Orient(up, undo), &jpeg.Options{Quality: 95}); err != nil {
		panic(err)
	}
	// APP1: Exif, a big-endian TIFF header, IFD0 with one entry:
	// Orientation (0x0112), SHORT, 1 value, o.
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, 0, 0, 0, 0, 0, 0}
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	var out bytes.Buffer
	out.Write(j.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)})
	out.Write(app1)
	out.Write(j.Bytes()[2:])
	return out.Bytes()
}

// Orient turns img as EXIF orientation o says the picture is shown.
func Orient(img *image.Gray, o int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := image.NewGray(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			out.Pix[dy*out.Stride+dx] = img.Pix[y*img.Stride+x]
		}
	}
	return out
}

// TwoIHDRPNG is a PNG whose first header says 10 × 10 pixels and a
// second, out of place, 100,000 × 100,000: a header check that reads the
// first passes it, and the decoder (libpng, in tesseract) refuses it.
func TwoIHDRPNG() []byte {
	small := HugePNGHeader(10, 10)
	huge := HugePNGHeader(100_000, 100_000)
	// small's signature and IHDR (8 + 25 bytes), huge's IHDR, then
	// small's IDAT and IEND.
	out := append([]byte{}, small[:33]...)
	out = append(out, huge[8:33]...)
	return append(out, small[33:]...)
}
