package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// assets holds the page templates and the static files, compiled into the
// binary: nothing is read from disk at run time.
//
//go:embed templates static
var assets embed.FS

// staticFiles serves the files under static/ with a strong ETag (a hash of
// the content) and a cache lifetime. Pages link them with ?v=<etag>, so a
// new release is fetched at once.
type staticFiles struct {
	files map[string]staticFile // by name under static/
}

type staticFile struct {
	body  []byte
	etag  string // quoted
	ctype string
}

// loadStatic reads every file under static/ once, at construction.
func loadStatic(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		s.files[strings.TrimPrefix(p, "static/")] = staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	if _, ok := s.files["yihao.css"]; !ok {
		return nil, fmt.Errorf("web: static file yihao.css is missing")
	}
	return s, nil
}

// url is the link to a static file, versioned by its ETag.
func (s *staticFiles) url(name string) string {
	f := s.files[name]
	return "/static/" + name + "?v=" + strings.Trim(f.etag, `"`)
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == strings.Trim(f.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	// ServeContent answers If-None-Match with 304 because ETag is set.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
