// Package web serves craftledger's single-page web app: the growth
// timeline for workers, the population view for HR and the event history
// for auditors. The page is plain modern JavaScript and CSS embedded in the
// binary (no build step, nothing loaded from other hosts) and reads only
// through the GraphQL API at /graphql of the same origin.
//
// Mount it at "/" beside the GraphQL routes:
//
//	server.New(server.Config{..., Web: web.Handler()})
//
// or, in demo mode, with the demo tokens offered on the sign-in page:
//
//	web.New(web.Options{DemoTokens: tokens})
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
)

//go:embed assets
var assets embed.FS

// Options configure the handler.
type Options struct {
	// DemoTokens, when set, are offered on the sign-in page (served at
	// /demo-tokens.json). Only for demo and development servers: anyone who
	// can load the page can sign in with them.
	DemoTokens []auth.DevToken
}

// demoToken is one entry of /demo-tokens.json.
type demoToken struct {
	Role         string    `json:"role"`
	Subject      string    `json:"subject"`
	CraftsmanID  string    `json:"craftsmanId,omitempty"`
	Organisation string    `json:"organisationId,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"`
	Token        string    `json:"token"`
}

// Handler serves the page without demo tokens (the sign-in box takes a
// pasted token).
func Handler() http.Handler { return New(Options{}) }

// New serves the page with opts.
func New(opts Options) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		// The directory is embedded at compile time; this cannot happen.
		sub = assets
	}
	demo := make([]demoToken, 0, len(opts.DemoTokens))
	for _, t := range opts.DemoTokens {
		demo = append(demo, demoToken{Role: string(t.Claims.Role), Subject: t.Claims.Subject, CraftsmanID: t.Claims.CraftsmanID,
			Organisation: t.Claims.OrgID, ExpiresAt: t.Claims.ExpiresAt.UTC(), Token: t.Token})
	}
	demoJSON, err := json.Marshal(demo)
	if err != nil {
		demoJSON = []byte("[]")
	}
	return &handler{files: sub, demo: demoJSON}
}

type handler struct {
	files fs.FS
	demo  []byte
}

// csp allows only this origin: scripts, styles and fetches; charts are
// inline SVG elements, downloads blob: URLs.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every answer, refusals included, carries the security headers.
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", csp)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	switch name {
	case "", "index.html":
		name = "index.html"
	case "demo-tokens.json":
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Cache-Control", "no-store")
		_, _ = w.Write(h.demo)
		return
	}
	b, err := fs.ReadFile(h.files, name)
	if err != nil || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // do not depend on the machine's MIME table
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	// The assets change only with the binary; revalidate so a new build
	// is picked up at once.
	hdr.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
