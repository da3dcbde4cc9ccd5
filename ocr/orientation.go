package ocr

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
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

// uprightOps are jpegtran's arguments that turn a picture of EXIF
// orientation o upright (2 to 8; 1 is upright already).
var uprightOps = map[int][]string{
	2: {"-flip", "horizontal"},
	3: {"-rotate", "180"},
	4: {"-flip", "vertical"},
	5: {"-transpose"},
	6: {"-rotate", "90"},
	7: {"-transverse"},
	8: {"-rotate", "270"},
}

// uprightJPEG writes the JPEG at path turned upright by its EXIF
// orientation, in gray, as a JPEG in dir, and returns that file's path;
// an upright JPEG's own path is returned as it is. The turning is done
// by jpegtran (libjpeg-turbo) as a program, under the same limits as the
// others: decoding a 40-megapixel picture in this process took its heap
// from 50 MB to 680 MB, outside every limit (issue 19). jpegtran turns
// the compressed blocks without decoding the pixels; -trim drops the
// edge blocks that cannot be turned (under 8 or 16 pixels at one edge),
// -copy none the EXIF tag that would turn it again.
func (pr *proc) uprightJPEG(ctx context.Context, path, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("ocr: %w", err)
	}
	o := jpegOrientation(f)
	f.Close()
	ops, ok := uprightOps[o]
	if !ok {
		return path, nil
	}
	name := filepath.Join(dir, "upright.jpg")
	args := append([]string{"-copy", "none", "-grayscale"}, ops...)
	args = append(args, "-trim", "-outfile", name, path)
	if _, err := pr.run(ctx, "jpegtran", args...); err != nil {
		return "", err
	}
	return name, nil
}
