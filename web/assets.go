package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"loandesk/static"
)

// assetServer serves the embedded static files. URLs carry the file's
// content hash (/static/app.css?v=ab12…): a request with the current hash
// may be cached for a year, anything else must revalidate (ETag).
type assetServer struct {
	hashes map[string]string
	fsrv   http.Handler
}

func newAssetServer(files fs.FS) (*assetServer, error) {
	hashes, err := static.Hashes()
	if err != nil {
		return nil, err
	}
	return &assetServer{hashes: hashes, fsrv: http.FileServerFS(files)}, nil
}

// URL is the versioned URL of a static file.
func (a *assetServer) URL(name string) string {
	return fmt.Sprintf("/static/%s?v=%s", name, a.hashes[name])
}

func (a *assetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, ok := a.hashes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", `"`+hash+`"`)
	if r.URL.Query().Get("v") == hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	u := *r.URL
	u.Path = "/" + name
	r2 := r.Clone(r.Context())
	r2.URL = &u
	a.fsrv.ServeHTTP(w, r2)
}
