package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/graphql/web"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/kit"
)

// findChromium returns the browser the test drives: $CHROMIUM, Debian's
// /usr/bin/chromium, or chromium on the PATH.
func findChromium() string {
	for _, c := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if c != "" {
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				return c
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// site is the system under test: the embedded store with a population,
// the GraphQL server with the web page, over real HTTP on loopback.
type site struct {
	t    *testing.T
	url  string
	pop  population
	toks map[string]string // worker, hr, auditor
	// limit, when set, rate-limits POST /graphql as the all-in-one's
	// --rate does (kit.RateLimiter in front of the API).
	limit atomic.Pointer[kit.RateLimiter]
}

func startSite(t *testing.T) *site {
	t.Helper()
	l := startStore(t)
	pop := seedPopulation(l)
	claims := []auth.Claims{
		{Subject: "test-worker", Role: auth.RoleWorker, CraftsmanID: pop.worker},
		{Subject: "test-hr", Role: auth.RoleHR, OrgID: pop.hrOrg},
		{Subject: "test-auditor", Role: auth.RoleAuditor},
	}
	dev, err := auth.DevTokens(auth.DevKey(), time.Hour, claims)
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]string{}
	for _, d := range dev {
		toks[string(d.Claims.Role)] = d.Token
	}
	srv, err := server.New(server.Config{Store: l.store, Key: auth.DevKey(), Web: web.New(web.Options{DemoTokens: dev})})
	if err != nil {
		t.Fatalf("graphql server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	st := &site{t: t, pop: pop, toks: toks}
	api := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := st.limit.Load(); l != nil && r.URL.Path == "/graphql" {
			l.HTTP(api).ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	st.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("projector: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := srv.Projector().WaitFor(wctx, l.last); err != nil {
		t.Fatalf("projection did not catch up: %v", err)
	}
	return st
}

// gql asks the API directly: what the page shows is compared with it.
func (s *site) gql(role, query string, vars map[string]any) map[string]any {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.toks[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("graphql: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any
		Errors []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatalf("graphql answer: %v", err)
	}
	if len(out.Errors) > 0 {
		s.t.Fatalf("graphql %s: %v", query, out.Errors)
	}
	return out.Data
}

func (s *site) count(role, query string, vars map[string]any, path ...string) int {
	s.t.Helper()
	var v any = s.gql(role, query, vars)
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return int(v.(float64))
}

// tab drives one browser tab.
type tab struct {
	t     *testing.T
	ctx   context.Context
	site  *site
	shots string // "" = no screenshots
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

func (b *tab) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) eval(js string, out any) {
	b.t.Helper()
	b.run("evaluate "+js, chromedp.Evaluate(js, out, awaitPromise))
}

// step runs a user action in the page and waits until the page has
// rendered the view it leads to; it returns the view's name.
func (b *tab) step(action string) string {
	b.t.Helper()
	var view string
	js := `(async () => {
		const prev = document.body.dataset.ready || '';
		` + action + `;
		const t0 = Date.now();
		while ((document.body.dataset.ready || '') === prev) {
			if (Date.now() - t0 > 20000) throw new Error('the page did not render');
			await new Promise(r => setTimeout(r, 15));
		}
		return document.body.dataset.view;
	})()`
	b.eval(js, &view)
	return view
}

// open loads the page afresh at hash (a new document, not a fragment
// navigation) and waits for its first render.
func (b *tab) open(hash string) {
	b.t.Helper()
	b.run("open "+hash, chromedp.Navigate("about:blank"), chromedp.Navigate(b.site.url+"/"+hash),
		chromedp.WaitReady(`body[data-ready]`, chromedp.ByQuery))
}

func (b *tab) goTo(hash string) string {
	return b.step(`location.hash = ` + jsString(hash))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	var s string
	b.eval(`(document.querySelector(`+jsString(sel)+`) || {textContent: ''}).textContent`, &s)
	return s
}

func (b *tab) num(js string) int {
	b.t.Helper()
	var n float64
	b.eval(js, &n)
	return int(n)
}

func (b *tab) strings(js string) []string {
	b.t.Helper()
	var s []string
	b.eval(js, &s)
	return s
}

func (b *tab) refusal() string {
	return b.text(`.refusal[data-code]`) + "|" + b.attr(`.refusal`, "data-code")
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	var s string
	b.eval(`(() => { const e = document.querySelector(`+jsString(sel)+`); return e ? (e.getAttribute(`+jsString(name)+`) || '') : ''; })()`, &s)
	return s
}

// screenshot saves the viewport as docs/screenshots/name.png when
// UPDATE_SCREENSHOTS is set.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	var png []byte
	b.run("screenshot", chromedp.Evaluate(`document.fonts ? document.fonts.ready.then(() => true) : true`, nil, awaitPromise), chromedp.CaptureScreenshot(&png))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// needChromium returns the browser to drive, skipping (or, under CI,
// failing) the test when there is none.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	chrome := findChromium()
	if chrome == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: CI must run scripts/ensure-chromium.sh (make test does) before the browser tests")
		}
		t.Skip("chromium is not installed: run `make deps` (scripts/ensure-chromium.sh) to run the browser test; set CHROMIUM=/path to use another Chrome")
	}
	return chrome
}

// startBrowser starts a headless Chromium with a fresh profile, stopped
// when t ends, and returns a tab on s, the download directory and a
// channel of completed downloads (their GUIDs).
func startBrowser(t *testing.T, s *site, chrome string) (*tab, string, chan string) {
	t.Helper()
	downloads := t.TempDir()
	// Chromium's helper processes may still write to its profile for a
	// moment after the browser is stopped; t.TempDir's cleanup would fail
	// the test on that, so the profile is removed here, with retries
	// (registered first: it runs after the browser is stopped).
	profile, err := os.MkdirTemp("", "craftledger-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	ctx, cancel := context.WithTimeout(bctx, 120*time.Second)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, site: s}
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		b.shots = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan string, 4)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			done <- e.GUID
		}
	})
	b.run("start chromium", browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(downloads).WithEventsEnabled(true))
	return b, downloads, done
}

// TestBrowserE2E drives the page in a real headless Chromium against the
// real GraphQL server over the embedded store.
func TestBrowserE2E(t *testing.T) {
	chrome := needChromium(t)
	started := time.Now()
	s := startSite(t)
	t.Logf("store, population (%s) and GraphQL server ready in %s", s.url, time.Since(started).Round(time.Millisecond))
	b, downloads, done := startBrowser(t, s, chrome)
	t.Logf("chromium %s started in %s", chrome, time.Since(started).Round(time.Millisecond))

	w := s.pop.worker
	timelineQ := `query($id: ID!, $kinds: [String!], $trade: String, $asOf: String) { craftsman(id: $id, asOf: $asOf) { timeline(first: 1, kinds: $kinds, trade: $trade) { totalCount } } }`

	t.Run("sign-in offers the demo identities", func(t *testing.T) {
		b.t = t
		b.open("")
		if v := b.attr("body", "data-view"); v != "signin" {
			t.Fatalf("without a token the page shows %q, want the sign-in", v)
		}
		roles := b.strings(`[...document.querySelectorAll('.demo-role')].map(e => e.dataset.role)`)
		if !slices.Equal(roles, []string{"worker", "hr", "auditor"}) {
			t.Errorf("demo identities %v", roles)
		}
		if !strings.Contains(b.text("h1"), "登录") {
			t.Errorf("sign-in heading %q is not Chinese", b.text("h1"))
		}
		b.screenshot("signin")
	})

	t.Run("worker sees their growth record", func(t *testing.T) {
		b.t = t
		if v := b.step(`document.querySelector('.demo-role[data-role=worker]').click()`); v != "worker" {
			t.Fatalf("demo worker lands on %q", v)
		}
		if got := b.text("#profile-h"); !strings.Contains(got, "李建国") {
			t.Errorf("profile heading %q", got)
		}
		levels := b.text("#levels")
		if !strings.Contains(levels, "技师（二级）") || !strings.Contains(levels, "初级工（五级）") || !strings.Contains(levels, "焊工") {
			t.Errorf("current levels %q: want technician in welding and junior in fitting, in Chinese", levels)
		}
		if n := b.num(`document.querySelectorAll('#next .next').length`); n != 2 {
			t.Errorf("%d next-level boxes, want one per trade (2)", n)
		}
		if n := b.num(`document.querySelectorAll('#next .projection').length`); n != 2 {
			t.Errorf("%d eligibility verdicts, want 2", n)
		}
		if n := b.num(`document.querySelectorAll('#next .criteria progress').length`); n == 0 {
			t.Error("no criterion with progress")
		}
		if got := b.text(`#next .crit-body`); !strings.Contains(got, "本职业") || !strings.Contains(got, "证书") {
			t.Errorf("criterion reads %q, want Chinese", got)
		}
		if n := b.num(`document.querySelectorAll('#chart-hours svg rect.bar').length`); n != 12 {
			t.Errorf("training chart has %d bars, want one per year 2013–2024", n)
		}
		if n := b.num(`document.querySelectorAll('#chart-levels svg path.series').length`); n != 2 {
			t.Errorf("level chart has %d lines, want one per trade", n)
		}
		want := s.count("worker", timelineQ, map[string]any{"id": w}, "craftsman", "timeline", "totalCount")
		if n := b.num(`document.querySelectorAll('#timeline .entry').length`); n != want || want < 30 {
			t.Errorf("timeline shows %d entries, the API has %d", n, want)
		}
		years := b.strings(`[...document.querySelectorAll('#timeline section.year')].map(e => e.dataset.year)`)
		if len(years) < 10 || years[0] != "2024" || !slices.IsSortedFunc(years, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("timeline years %v: want grouped by year, newest first", years)
		}
		// The correction is linked both ways.
		if c := b.attr("#ev-"+s.pop.correctedID, "class"); !strings.Contains(c, "superseded") {
			t.Errorf("corrected entry has class %q", c)
		}
		if got := b.attr("#ev-"+s.pop.correctionID+" .corr-link", "data-target"); got != "ev-"+s.pop.correctedID {
			t.Errorf("correction links to %q", got)
		}
		if got := b.text("#ev-" + s.pop.correctionID + " .title"); !strings.Contains(got, "更正事件") {
			t.Errorf("the correction reads %q in Chinese", got)
		}
		b.screenshot("worker")
		b.eval(`document.getElementById('next').scrollIntoView()`, nil)
		b.screenshot("worker-next-level")
		b.eval(`document.getElementById('timeline').scrollIntoView()`, nil)
		b.screenshot("worker-timeline")
		var focused string
		b.eval(`document.querySelector('#ev-`+s.pop.correctedID+` .corr-link').click(); document.activeElement.id`, &focused)
		if focused != "ev-"+s.pop.correctionID {
			t.Errorf("following the correction link focuses %q", focused)
		}
	})

	t.Run("timeline filters by kind and trade", func(t *testing.T) {
		b.t = t
		b.step(`document.querySelector('#kind-filter [data-kind=certificate]').click()`)
		kinds := b.strings(`[...document.querySelectorAll('#timeline .entry')].map(e => e.dataset.kind)`)
		want := s.count("worker", timelineQ, map[string]any{"id": w, "kinds": []string{"certificate"}}, "craftsman", "timeline", "totalCount")
		if len(kinds) != want || want != 5 {
			t.Errorf("certificate filter shows %d entries, the API %d (want 5)", len(kinds), want)
		}
		for _, k := range kinds {
			if k != "certificate" {
				t.Errorf("certificate filter shows a %s entry", k)
			}
		}
		if p := b.attr(`#kind-filter [data-kind=certificate]`, "aria-pressed"); p != "true" {
			t.Errorf("certificate chip aria-pressed=%q", p)
		}
		b.step(`document.querySelector('#kind-filter [data-kind=""]').click()`)
		b.step(`(() => { const s = document.getElementById('trade-filter'); s.value = '6-20-01-01'; s.dispatchEvent(new Event('change')); })()`)
		trades := b.strings(`[...document.querySelectorAll('#timeline .entry')].map(e => (e.querySelector('.trade') || {textContent: ''}).textContent)`)
		want = s.count("worker", timelineQ, map[string]any{"id": w, "trade": fitter.Code}, "craftsman", "timeline", "totalCount")
		if len(trades) != want || want < 4 {
			t.Errorf("trade filter shows %d entries, the API %d", len(trades), want)
		}
		for _, tr := range trades {
			if !strings.Contains(tr, fitter.Code) {
				t.Errorf("trade filter shows an entry of %q", tr)
			}
		}
	})

	t.Run("language switch is remembered", func(t *testing.T) {
		b.t = t
		b.goTo("#/worker")
		b.step(`document.getElementById('lang').click()`)
		if l := b.attr("html", "lang"); l != "en" {
			t.Errorf("html lang %q after the switch", l)
		}
		if got := b.text("#nav-worker"); got != "Growth record" {
			t.Errorf("navigation %q after the switch", got)
		}
		if levels := b.text("#levels"); !strings.Contains(levels, "Technician (level 2)") || !strings.Contains(levels, "2021") {
			t.Errorf("levels in English %q", levels)
		}
		// Timeline sentences come from the server in the page's language.
		if got := b.text("#ev-" + s.pop.correctionID + " .title"); !strings.HasPrefix(got, "Correction of event ") {
			t.Errorf("the correction reads %q in English", got)
		}
		b.open("#/worker")
		if got := b.text("#nav-worker"); got != "Growth record" {
			t.Errorf("after a reload the language is back to %q", got)
		}
		b.screenshot("worker-en")
		b.step(`document.getElementById('lang').click()`)
		if got := b.text("#nav-worker"); got != "成长档案" {
			t.Errorf("switching back shows %q", got)
		}
	})

	t.Run("a worker is refused other views", func(t *testing.T) {
		b.t = t
		for _, c := range []struct{ hash, code string }{
			{"#/audit", "PERMISSION_DENIED"}, {"#/hr", "PERMISSION_DENIED"}, {"#/worker/c001", "PERMISSION_DENIED"},
		} {
			b.goTo(c.hash)
			if got := b.refusal(); !strings.HasSuffix(got, "|"+c.code) || !strings.Contains(got, "无权查看") {
				t.Errorf("%s as a worker: refusal %q, want %s", c.hash, got, c.code)
			}
		}
		b.goTo("#/audit")
		b.screenshot("refused")
		b.step(`document.getElementById('signout').click()`)
		b.goTo("#/hr")
		if got := b.refusal(); !strings.HasSuffix(got, "|UNAUTHENTICATED") {
			t.Errorf("signed out, the HR view shows %q", got)
		}
	})

	// signIn pastes a token into the sign-in form.
	signIn := func(role string) {
		b.goTo("#/signin")
		b.run("paste token", chromedp.SetValue("#token", s.toks[role], chromedp.ByQuery))
		b.step(`document.querySelector('#signin-form button[type=submit]').click()`)
		var who string
		b.eval(`(document.getElementById('who') || {textContent: ''}).textContent`, &who)
		if !strings.Contains(who, map[string]string{"hr": "人力资源", "auditor": "审计员"}[role]) {
			b.t.Fatalf("signed in as %q, want %s", who, role)
		}
	}

	t.Run("HR pages, sorts, filters by eligibility and exports CSV", func(t *testing.T) {
		b.t = t
		signIn("hr")
		b.goTo("#/hr?size=10&sort=id")
		total := s.count("hr", `{ craftsmen(first: 1) { totalCount } }`, nil, "craftsmen", "totalCount")
		if got := b.text("#hr-total"); got != fmt.Sprintf("共 %d 人", total) || total < 15 {
			t.Errorf("HR total %q, the API has %d", got, total)
		}
		ids := func() []string {
			return b.strings(`[...document.querySelectorAll('#hr-table tbody tr')].map(r => r.dataset.id)`)
		}
		page1 := ids()
		if len(page1) != 10 || !slices.IsSorted(page1) {
			t.Fatalf("page 1: %v", page1)
		}
		b.step(`document.getElementById('next').click()`)
		page2 := ids()
		if len(page2) != 10 || page2[0] <= page1[9] || b.text("#hr-page") != "第 2 页" {
			t.Errorf("page 2 %v does not follow page 1 %v", page2, page1)
		}
		b.step(`document.getElementById('prev').click()`)
		if again := ids(); !slices.Equal(again, page1) {
			t.Errorf("back to page 1: %v, want %v", again, page1)
		}
		b.step(`document.querySelector('#hr-table thead [data-sort^=level]').click()`)
		ranks := b.strings(`[...document.querySelectorAll('#hr-table tbody td[data-rank]')].map(e => e.dataset.rank)`)
		if len(ranks) != 10 || !slices.IsSortedFunc(ranks, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("sorted by level, ranks %v", ranks)
		}
		// Eligible for senior (高级工) in welding, by the form.
		b.step(`(() => { const f = document.getElementById('hr-form');
			f.querySelector('#f-trade').value = '6-18-02-04'; f.querySelector('#f-eligibleFor').value = 'senior';
			f.querySelector('#f-size').value = '100'; f.querySelector('button[type=submit]').click(); })()`)
		eligible := s.count("hr", `{ craftsmen(trade: "6-18-02-04", eligibleFor: "senior", first: 1) { totalCount } }`, nil, "craftsmen", "totalCount")
		if got := b.text("#hr-total"); got != fmt.Sprintf("共 %d 人", eligible) || eligible == 0 || eligible >= total {
			t.Errorf("eligible for senior: page %q, API %d of %d", got, eligible, total)
		}
		for _, r := range b.strings(`[...document.querySelectorAll('#hr-table tbody td[data-rank]')].map(e => e.dataset.rank)`) {
			if r >= "3" {
				t.Errorf("a craftsman at rank %s is listed as eligible for senior (rank 3)", r)
			}
		}
		shown := ids()
		b.screenshot("hr")
		// By a date: two more become eligible in 2028.
		b.step(`(() => { const f = document.getElementById('hr-form'); f.querySelector('#f-eligibleBy').value = '2029-01-01';
			f.querySelector('button[type=submit]').click(); })()`)
		later := s.count("hr", `{ craftsmen(trade: "6-18-02-04", eligibleFor: "senior", eligibleBy: "2029-01-01", first: 1) { totalCount } }`, nil, "craftsmen", "totalCount")
		if got := b.text("#hr-total"); got != fmt.Sprintf("共 %d 人", later) || later != eligible+2 {
			t.Errorf("eligible for senior by 2029: page %q, API %d (now %d)", got, later, eligible)
		}
		if ids := ids(); !slices.Contains(ids, "late1") || !slices.Contains(ids, "late2") {
			t.Errorf("eligible by 2029 lists %v, want late1 and late2 among them", ids)
		}
		// Who is eligible now, and from when the others are.
		eligCells := b.strings(`[...document.querySelectorAll('#hr-table tbody tr')].map(r => r.dataset.id + '|' + r.querySelector('td.eligible-from').dataset.now + '|' + r.querySelector('td.eligible-from').textContent)`)
		for _, c := range eligCells {
			parts := strings.SplitN(c, "|", 3)
			late := strings.HasPrefix(parts[0], "late")
			if late && (parts[1] != "false" || !strings.Contains(parts[2], "2028") || !strings.Contains(parts[2], "起")) {
				t.Errorf("%s becomes eligible in 2028: its cell says %q (now %s)", parts[0], parts[2], parts[1])
			}
			if !late && (parts[1] != "true" || parts[2] != "✓ 现在") {
				t.Errorf("%s is eligible now: its cell says %q (now %s)", parts[0], parts[2], parts[1])
			}
		}
		if len(eligCells) != later {
			t.Errorf("%d rows, want %d", len(eligCells), later)
		}
		b.step(`history.back()`)
		if again := ids(); !slices.Equal(again, shown) {
			t.Errorf("back to eligible now: %v, want %v", again, shown)
		}
		// Names as the API gives them (recorded in clear in this seed).
		names := b.strings(`[...document.querySelectorAll('#hr-table tbody td.name')].map(e => e.textContent)`)
		api := s.gql("hr", `query($f: Int) { craftsmen(first: $f, trade: "6-18-02-04", eligibleFor: "senior") { edges { node { name } } } }`, map[string]any{"f": len(names)})
		for i, e := range api["craftsmen"].(map[string]any)["edges"].([]any) {
			if want, _ := e.(map[string]any)["node"].(map[string]any)["name"].(string); i >= len(names) || want == "" || names[i] != want {
				t.Errorf("HR row %d shows name %q, the API %q", i, names, want)
				break
			}
		}
		// CSV export: the file the browser downloads, and its rows.
		b.run("export", chromedp.Click("#export", chromedp.ByQuery))
		var guid string
		select {
		case guid = <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("no CSV download completed")
		}
		raw, err := os.ReadFile(filepath.Join(downloads, guid))
		if err != nil {
			t.Fatalf("downloaded CSV: %v", err)
		}
		var exp struct {
			Filename, Text string
			Rows           int
		}
		b.eval(`window.craftledger.lastExport`, &exp)
		if string(raw) != "\uFEFF"+exp.Text || exp.Rows != eligible || !strings.HasSuffix(exp.Filename, ".csv") {
			t.Errorf("CSV %q: %d rows (want %d), file matches page: %v", exp.Filename, exp.Rows, eligible, string(raw) == "\uFEFF"+exp.Text)
		}
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(raw), "\uFEFF")), "\r\n")
		if len(lines) != eligible+1 || !strings.HasPrefix(lines[0], "id,level,level_zh,region,employers,academies,eligible") {
			t.Fatalf("CSV has %d lines, header %q", len(lines), lines[0])
		}
		for i, id := range shown {
			if !strings.HasPrefix(lines[i+1], id+",") || !strings.Contains(lines[i+1], ",true,now,") {
				t.Errorf("CSV line %d %q, want %s eligible now (earliest_date now)", i+1, lines[i+1], id)
			}
		}
		// A cell a spreadsheet would take for a formula stays text.
		var cells []string
		b.eval(`['=1+2', '+1', '-2', '@SUM(A1)', '\t=x', '=HYPERLINK("http://x/?a="&A1,"y")', '焊工', 'a=b', ''].map(window.craftledger.csvCell)`, &cells)
		wantCells := []string{`'=1+2`, `'+1`, `'-2`, `'@SUM(A1)`, "'\t=x", `"'=HYPERLINK(""http://x/?a=""&A1,""y"")"`, `焊工`, `a=b`, ``}
		if !slices.Equal(cells, wantCells) {
			t.Errorf("CSV cells %q, want %q", cells, wantCells)
		}
		// A click on a row opens that craftsman's pathway.
		if v := b.step(`document.querySelector('#hr-table tbody tr td').click()`); v != "worker" {
			t.Fatalf("row click leads to %q", v)
		}
		if got := b.text("#profile-h"); !strings.Contains(got, shown[0]) {
			t.Errorf("row click shows %q, want %s", got, shown[0])
		}
		// A forgotten craftsman shows as erased, never by name.
		b.goTo("#/hr?sort=id")
		row := `#hr-table tbody tr[data-id="` + s.pop.erased + `"]`
		if got := b.text(row + ` td.name`); got != "个人信息已删除" || strings.Contains(b.text("#hr-table"), "职工"+s.pop.erased) {
			t.Errorf("the erased craftsman's row shows %q", got)
		}
		var scrolled bool
		b.run("scroll to the erased row", chromedp.Evaluate(`(document.querySelector('`+row+`').scrollIntoView({block: 'center'}), true)`, &scrolled))
		b.screenshot("hr-erased")
		b.goTo("#/worker/" + s.pop.erased)
		if got := b.text("#profile-h"); strings.Contains(got, "职工"+s.pop.erased) || !strings.Contains(got, "个人信息已删除") {
			t.Errorf("the erased craftsman's profile heading reads %q", got)
		}
	})

	t.Run("auditor sees raw history, chains, corrections and any date", func(t *testing.T) {
		b.t = t
		signIn("auditor")
		stream := "craftsman-" + w
		b.goTo("#/audit?stream=" + stream)
		auditQ := `query($s: String, $asOf: String) { audit(stream: $s, asOf: $asOf, first: 1) { totalCount } }`
		all := s.count("auditor", auditQ, map[string]any{"s": stream}, "audit", "totalCount")
		if got := b.text("#audit-total"); got != fmt.Sprintf("%d 个事件", all) {
			t.Errorf("audit total %q, the API has %d", got, all)
		}
		if st := b.attr(`#chains li[data-stream="`+stream+`"]`, "data-status"); st != "ok" {
			t.Errorf("hash chain of %s: %q", stream, st)
		}
		if n := b.num(`document.querySelectorAll('#audit-table tbody tr[data-type]').length`); n != all {
			t.Errorf("%d rows, want %d", n, all)
		}
		if c := b.attr("#ev-"+s.pop.correctedID, "class"); c != "superseded" {
			t.Errorf("the corrected event's row has class %q", c)
		}
		if got := b.attr("#ev-"+s.pop.correctionID+" .corr-link", "data-target"); got != "ev-"+s.pop.correctedID {
			t.Errorf("the correction's row links to %q", got)
		}
		b.screenshot("audit")

		// Everything, paged by position.
		b.goTo("#/audit")
		everything := s.count("auditor", auditQ, nil, "audit", "totalCount")
		if got := b.text("#audit-total"); got != fmt.Sprintf("%d 个事件", everything) || everything < 500 {
			t.Errorf("audit of everything: %q, the API has %d", got, everything)
		}
		positions := func() []string {
			return b.strings(`[...document.querySelectorAll('#audit-table tbody tr[data-type] td:first-child')].map(e => e.textContent)`)
		}
		first := positions()
		b.step(`document.getElementById('anext').click()`)
		second := positions()
		if len(first) != 50 || len(second) != 50 || first[49] == second[0] || slices.Contains(first, second[0]) {
			t.Errorf("audit pages do not follow: %d then %d rows (%s … %s, then %s …)", len(first), len(second), first[0], first[len(first)-1], second[0])
		}

		// A correction on another page than what it corrects links to that
		// page, which opens with the corrected event focused.
		for i := 0; i < 30 && b.num(`document.querySelectorAll('#ev-`+s.pop.correctionID+`').length`) == 0; i++ {
			b.step(`document.getElementById('anext').click()`)
		}
		link := `#ev-` + s.pop.correctionID + ` a.corr-link[data-ref]`
		if got := b.attr(link, "data-ref"); got != s.pop.correctedID {
			t.Fatalf("the correction's row does not link to the corrected event on another page (data-ref %q)", got)
		}
		b.step(`document.querySelector('` + link + `').click()`)
		var focused string
		b.eval(`document.activeElement.id`, &focused)
		if focused != "ev-"+s.pop.correctedID || !strings.Contains(b.attr("#ev-"+s.pop.correctedID, "class"), "superseded") {
			t.Errorf("following the link focuses %q, want the corrected event ev-%s marked superseded", focused, s.pop.correctedID)
		}

		// As of the cut (a past moment, RFC 3339): fewer events, no correction.
		cut := s.pop.cut.Format(time.RFC3339Nano)
		before := s.count("auditor", auditQ, map[string]any{"s": stream, "asOf": cut}, "audit", "totalCount")
		b.goTo("#/audit?stream=" + stream + "&asOf=" + cut)
		if got := b.text("#audit-total"); got != fmt.Sprintf("%d 个事件", before) || before != all-3 {
			t.Errorf("as of the cut: %q, API %d of %d", got, before, all)
		}
		// The hash-chain panel judges the stream as it was then.
		if got := b.attr(`#chains li[data-stream="`+stream+`"]`, "data-events"); got != fmt.Sprint(before) {
			t.Errorf("as of the cut the chain panel counts %q events of %s, want %d", got, stream, before)
		}
		if got := b.text("#asof-banner"); !strings.Contains(got, s.pop.cut.Format("2006/01/02 15:04:05")) {
			t.Errorf("as-of banner %q does not name the moment %s", got, s.pop.cut.Format(time.DateTime))
		}
		b.goTo("#/worker/" + w + "?asOf=" + cut)
		b.screenshot("worker-as-of")
		if levels := b.text("#levels"); !strings.Contains(levels, "高级工（三级）") || strings.Contains(levels, "技师（二级）") {
			t.Errorf("as of the cut the worker's levels are %q, want senior, not yet technician", levels)
		}
		want := s.count("auditor", timelineQ, map[string]any{"id": w, "asOf": cut}, "craftsman", "timeline", "totalCount")
		if n := b.num(`document.querySelectorAll('#timeline .entry').length`); n != want {
			t.Errorf("as of the cut the timeline shows %d entries, the API %d", n, want)
		}
		if n := b.num(`document.querySelectorAll('#timeline .entry.superseded').length`); n != 0 {
			t.Errorf("as of the cut %d entries are marked corrected; the correction came later", n)
		}
		// The header's date field: nothing had been recorded by 2015.
		b.goTo("#/audit?stream=" + stream)
		b.step(`(() => { const i = document.getElementById('asof'); i.value = '2015-01-01'; i.dispatchEvent(new Event('change')); })()`)
		if got := b.text("#audit-total"); got != "0 个事件" {
			t.Errorf("as of 2015-01-01 via the date field: %q", got)
		}
	})

	t.Run("500-event timeline and a phone screen", func(t *testing.T) {
		b.t = t
		b.goTo("#/worker/" + s.pop.big)
		if n := b.num(`document.querySelectorAll('#timeline .entry').length`); n != 500 {
			t.Fatalf("big timeline shows %d entries, want 500", n)
		}
		var ms, dom float64
		b.eval(`window.craftledger.renders[window.craftledger.renders.length - 1].ms`, &ms)
		b.eval(`window.craftledger.workerDomMs`, &dom)
		t.Logf("worker view with a 500-event timeline: %.0f ms from navigation to rendered (6 GraphQL requests), of which %.0f ms building and laying out the page", ms, dom)
		b.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.goTo("#/worker/" + w)
		var overflow float64
		b.eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
		if overflow > 1 {
			t.Errorf("on a 390 px phone the page is %v px wider than the screen", overflow)
		}
		b.screenshot("worker-phone")
		b.goTo("#/hr")
		b.eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
		if overflow > 1 {
			t.Errorf("on a 390 px phone the HR page is %v px wider than the screen", overflow)
		}
		b.run("desktop", chromedp.EmulateViewport(1280, 1000))
	})
	t.Logf("browser test done in %s", time.Since(started).Round(time.Millisecond))
}
