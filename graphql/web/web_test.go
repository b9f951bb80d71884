package web

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestAssetsServedWithTypes(t *testing.T) {
	h := Handler()
	cases := []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="app.js">`},
		{"/index.html", "text/html; charset=utf-8", `lang="zh-CN"`},
		{"/app.js", "text/javascript; charset=utf-8", "GqlError"},
		{"/i18n.js", "text/javascript; charset=utf-8", "首席技师"},
		{"/charts.js", "text/javascript; charset=utf-8", "stepChart"},
		{"/app.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/demo-tokens.json", "application/json", "[]"},
	}
	for _, c := range cases {
		resp := get(t, h, http.MethodGet, c.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", c.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", c.path)
		}
	}
}

func TestRefusesOtherPathsAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/nope.js", "/assets/app.js", "/../web.go", "/graphql"} {
		if resp := get(t, h, http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
	resp := get(t, h, http.MethodPost, "/")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// Every answer carries the security headers, refusals too.
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/"}, {http.MethodGet, "/nope.js"}} {
		resp := get(t, h, c.method, c.path)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
			resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: CSP %q, Referrer-Policy %q, X-Content-Type-Options %q", c.method, c.path, csp,
				resp.Header.Get("Referrer-Policy"), resp.Header.Get("X-Content-Type-Options"))
		}
	}
	if resp := get(t, h, http.MethodHead, "/app.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /app.css: status %d", resp.StatusCode)
	}
}

func TestDemoTokensListed(t *testing.T) {
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := get(t, New(Options{DemoTokens: toks}), http.MethodGet, "/demo-tokens.json")
	var got []demoToken
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(toks) {
		t.Fatalf("%d demo tokens listed, want %d", len(got), len(toks))
	}
	for i, g := range got {
		if g.Token != toks[i].Token || g.Role != string(toks[i].Claims.Role) {
			t.Errorf("token %d: got role %s, want %s", i, g.Role, toks[i].Claims.Role)
		}
		if c, err := auth.Verify(auth.DevKey(), g.Token); err != nil || c.Subject != toks[i].Claims.Subject {
			t.Errorf("token %d does not verify: %v", i, err)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("demo tokens cacheable: %q", resp.Header.Get("Cache-Control"))
	}
}

// The page must work offline: no asset may load anything from another
// host (no CDN, no web font, no analytics).
func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(\s*['"]?(https?:|//)`)
	n := 0
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		// The SVG namespace is a name, never fetched.
		text := strings.ReplaceAll(string(b), "'http://www.w3.org/2000/svg'", "")
		for _, m := range url.FindAllString(text, -1) {
			t.Errorf("%s refers to %q: assets must not load anything from elsewhere", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d assets embedded", n)
	}
}
