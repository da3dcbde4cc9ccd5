package ocr

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// jpegOrientation returns the EXIF orientation (1 to 8) of the JPEG read
// from r, or 1 when it has none: how the camera held the picture. Only
// the markers before the image data are read.
func jpegOrientation(r io.Reader) int {
	br := bufio.NewReader(r)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return 1
	}
	for {
		var m [4]byte
		if _, err := io.ReadFull(br, m[:]); err != nil || m[0] != 0xFF {
			return 1
		}
		size := int(binary.BigEndian.Uint16(m[2:])) - 2
		if m[1] == 0xDA || size < 0 { // start of scan: no EXIF before the data
			return 1
		}
		seg := make([]byte, size)
		if _, err := io.ReadFull(br, seg); err != nil {
			return 1
		}
		if m[1] == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
	}
}

// exifOrientation reads tag 0x0112 of IFD0 of a TIFF structure.
func exifOrientation(t []byte) int {
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:8]))
	if off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// uprightJPEG writes the JPEG at path turned upright by its EXIF
// orientation, in gray, as a PNG in dir, and returns that file's path;
// an upright JPEG's own path is returned as it is. The pixel budget was
// checked first (CheckImage), so decoding is bounded.
func uprightJPEG(path, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("ocr: %w", err)
	}
	defer f.Close()
	o := jpegOrientation(f)
	if o == 1 {
		return path, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("ocr: %w", err)
	}
	src, err := jpeg.Decode(f)
	if err != nil {
		return "", refused("The image could not be read (%s). Save it again as PNG or JPEG and upload it.", shortErr(err))
	}
	gray := image.NewGray(src.Bounds())
	draw.Draw(gray, gray.Bounds(), src, src.Bounds().Min, draw.Src)
	out := orient(gray, o)
	name := filepath.Join(dir, "upright.png")
	w, err := os.Create(name)
	if err != nil {
		return "", fmt.Errorf("ocr: %w", err)
	}
	if err := png.Encode(w, out); err != nil {
		w.Close()
		return "", fmt.Errorf("ocr: %w", err)
	}
	return name, w.Close()
}

// orient turns img as EXIF orientation o says the picture is shown.
func orient(img *image.Gray, o int) *image.Gray {
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
			out.Pix[dy*out.Stride+dx] = img.Pix[(y)*img.Stride+x]
		}
	}
	return out
}
