// Package static holds the files served under /static/: vendored htmx,
// the built Tailwind CSS and the app's own script. Each file is addressed
// by a URL carrying its content hash, so browsers may cache it forever and
// a new build is fetched at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// HTMX is the vendored htmx build (version and sha256 in VERSIONS.md).
const HTMX = "htmx-2.0.11.min.js"

//go:embed htmx-2.0.11.min.js app.css app.js favicon.svg
var files embed.FS

// Files are the static files.
func Files() fs.FS { return files }

// Hashes returns, per file name, the first 12 hex digits of its SHA-256.
func Hashes() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return out, err
}
