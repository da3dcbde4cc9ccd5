package durable

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkFile refuses a file that bbolt would crash on. bbolt maps the file
// into memory and trusts its meta page: a truncated file makes it read past
// the end of the mapping (SIGBUS) instead of returning an error. So before
// opening, read both meta pages and check that the newest valid one does
// not reference pages beyond the end of the file. Only a missing file is
// a new database: an existing empty file (a failed copy, a full disk) is
// refused with its name, never taken as an empty database that would hide
// the loss.
func checkFile(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("durable: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("durable: stat %s: %w", path, err)
	}
	size := info.Size()
	if size == 0 {
		return fmt.Errorf("durable: %s is empty (0 bytes): it is not a database — restore it from a backup, or remove it to start a new one", path)
	}

	// bbolt keeps two meta pages, at page 0 and page 1, and uses the valid
	// one with the newer transaction. Page 1's offset is the page size,
	// which page 0 records (or, if page 0 is damaged, the OS page size).
	m0, ok0 := readMeta(f, 0)
	pageSize := int64(os.Getpagesize())
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, pageSize)
	var best meta
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		best = m1
	case ok0:
		best = m0
	default:
		return fmt.Errorf("durable: %s is not a Loan Desk database (no valid bbolt header)", path)
	}
	if need := int64(best.highWater) * int64(best.pageSize); need > size {
		return fmt.Errorf("durable: %s is truncated: %d bytes, but its last commit needs %d", path, size, need)
	}
	return nil
}

type meta struct {
	pageSize  uint32
	highWater uint64
	txid      uint64
}

// readMeta decodes a bbolt meta page at off (16-byte page header, then the
// meta fields, checksummed with FNV-64a).
func readMeta(r io.ReaderAt, off int64) (meta, bool) {
	const header, metaLen = 16, 64
	buf := make([]byte, header+metaLen)
	if _, err := r.ReadAt(buf, off); err != nil {
		return meta{}, false
	}
	m := buf[header:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != 0xED0CDAED || le.Uint32(m[4:]) != 2 {
		return meta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return meta{}, false
	}
	ps := le.Uint32(m[8:])
	if ps < 512 || ps > 1<<20 {
		return meta{}, false
	}
	return meta{pageSize: ps, highWater: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}
