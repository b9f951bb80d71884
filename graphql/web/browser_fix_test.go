package web_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/kit"
)

// TestBrowserUsability drives the page through what reviewers found
// wrong in a real browser: each subtest is one defect, fixed.
func TestBrowserUsability(t *testing.T) {
	chrome := needChromium(t)
	s := startSite(t)
	b, _, _ := startBrowser(t, s, chrome)
	w := s.pop.worker

	// signedIn opens the page at hash signed in as role (a token kept in
	// sessionStorage, as after a sign-in).
	signedIn := func(role, hash string) {
		b.t.Helper()
		b.open("")
		b.eval(`sessionStorage.setItem('craftledger.token', `+jsString(s.toks[role])+`); true`, nil)
		b.open(hash)
	}
	setLang := func(lang string) { b.eval(`localStorage.setItem('craftledger.lang', '`+lang+`'); true`, nil) }

	t.Run("a rate-limited answer says retry later and keeps the sign-in", func(t *testing.T) {
		b.t = t
		signedIn("worker", "#/worker")
		// One request every 30 s, the burst already spent by this token.
		lim := kit.NewRateLimiter(1.0/30, 1)
		req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", nil)
		req.Header.Set("Authorization", "Bearer "+s.toks["worker"])
		lim.Allow(kit.CallerKey(context.Background(), req))
		s.limit.Store(lim)
		for _, c := range []struct{ lang, want string }{{"zh", `请求过于频繁：请 (\d+) 秒后重试`}, {"en", `Too many requests: retry in (\d+) s`}} {
			setLang(c.lang)
			b.open("")
			if v := b.attr("body", "data-view"); v == "signin" || b.num(`document.querySelectorAll('#signin-form').length`) != 0 {
				t.Errorf("%s: a rate-limited viewer query lands a signed-in worker on the sign-in page (view %q)", c.lang, v)
			}
			got := b.refusal()
			n := 0
			if m := regexp.MustCompile(c.want).FindStringSubmatch(got); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			if !strings.HasSuffix(got, "|RESOURCE_EXHAUSTED") || n < 1 || n > 30 ||
				strings.Contains(got, "craftsman") || strings.Contains(got, "缩小") || strings.Contains(got, "narrow") {
				t.Errorf("%s: a 429 shows %q, want %q with Retry-After's seconds (≤ 30)", c.lang, got, c.want)
			}
		}
		setLang("zh")
		// Signed in, the record's own query refused: the same refusal, not
		// a script error about the missing answer.
		s.limit.Store(kit.NewRateLimiter(1.0/30, 3)) // the catalogue, viewer and one of the record's two queries pass
		b.open("#/worker/" + w)
		if got := b.refusal(); !strings.HasSuffix(got, "|RESOURCE_EXHAUSTED") || !strings.Contains(got, "请求过于频繁") || strings.Contains(got, "craftsman") {
			t.Errorf("a 429 on the record's query shows %q", got)
		}
		s.limit.Store(nil)
		b.open("#/worker")
		if got := b.text("#profile-h"); !strings.Contains(got, "李建国") {
			t.Errorf("after the limit the worker is not signed in any more: %q", got)
		}
	})

	t.Run("dates and years are China's", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+s.pop.newYear)
		if got := b.text("#levels"); !strings.Contains(got, "2020年1月1日") {
			t.Errorf("a level reached 2020-01-01 00:30 China time reads %q", got)
		}
		years := b.strings(`[...document.querySelectorAll('#timeline section.year')].map(e => e.dataset.year)`)
		if !slices.Equal(years, []string{"2025", "2020", "2019"}) {
			t.Errorf("timeline years %v, want 2025 2020 2019", years)
		}
		dates := b.strings(`[...document.querySelectorAll('#timeline .entry[data-kind=certificate] time, #timeline .entry[data-kind=training] time')].map(e => e.textContent)`)
		if !slices.Equal(dates, []string{"2025年1月1日", "2020年1月1日"}) {
			t.Errorf("training and certificate dated %v, want 2025年1月1日 and 2020年1月1日", dates)
		}
		if got := b.text("#chart-hours"); !strings.Contains(got, "2025") || strings.Contains(got, "2024") {
			t.Errorf("the training of 2025-01-01 07:00 China time is charted as %q", got)
		}
		// The audit view's occurred dates too (it shows the event's instant).
		b.goTo("#/audit?stream=craftsman-" + s.pop.newYear)
		occ := b.strings(`[...document.querySelectorAll('#audit-table tbody tr[data-type^=SkillLevelCertified] td:nth-child(3)')].map(e => e.textContent)`)
		if !slices.Equal(occ, []string{"2020年1月1日"}) {
			t.Errorf("the audit view dates the certificate %v", occ)
		}
	})

	t.Run("the skip link focuses the content and keeps the view", func(t *testing.T) {
		b.t = t
		hash := "#/hr?trade=6-18-02-04&eligibleFor=senior&sort=id"
		signedIn("hr", hash)
		ready := b.attr("body", "data-ready")
		var got struct {
			Hash, Focused, Ready string
		}
		check := func(what string) {
			t.Helper()
			b.eval(`new Promise(r => setTimeout(() => r({hash: location.hash, focused: document.activeElement.id, ready: document.body.dataset.ready}), 400))`, &got)
			if got.Hash != hash || got.Focused != "main" || got.Ready != ready {
				t.Errorf("%s: hash %q (want %q), focus on %q (want main), rendered again: %v", what, got.Hash, hash, got.Focused, got.Ready != ready)
			}
		}
		b.eval(`document.getElementById('skip').click(); true`, nil)
		check("the skip link")
		b.eval(`document.body.focus(); location.hash = '#main'; true`, nil)
		check("a typed #main")
		if got := b.strings(`[...document.querySelectorAll('#hr-form select')].map(e => e.value)`); !slices.Contains(got, "senior") {
			t.Errorf("the HR filters after the skip link: %v", got)
		}
	})

	t.Run("a filter change keeps the focus on its control", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+w)
		focused := func() string {
			var s string
			b.eval(`(() => { const e = document.activeElement; return e.id || (e.dataset && (e.dataset.kind !== undefined ? 'kind:' + e.dataset.kind : e.dataset.col ? 'col:' + e.dataset.col : '')) || e.tagName; })()`, &s)
			return s
		}
		b.step(`document.querySelector('#kind-filter [data-kind=certificate]').focus(); document.activeElement.click()`)
		if f := focused(); f != "kind:certificate" {
			t.Errorf("after a kind chip the focus is on %q", f)
		}
		b.step(`(() => { const s = document.getElementById('trade-filter'); s.focus(); s.value = '6-18-02-04'; s.dispatchEvent(new Event('change')); })()`)
		if f := focused(); f != "trade-filter" {
			t.Errorf("after the trade selector the focus is on %q", f)
		}
		b.step(`(() => { const i = document.getElementById('asof'); i.focus(); i.value = '2024-01-01'; i.dispatchEvent(new Event('change')); })()`)
		if f := focused(); f != "asof" {
			t.Errorf("after the as-of date the focus is on %q", f)
		}
		b.step(`document.getElementById('asof-clear').click()`)
		if f := focused(); f != "asof" {
			t.Errorf("after clearing the as-of date the focus is on %q", f)
		}
		b.goTo("#/hr?sort=id")
		b.step(`document.querySelector('#hr-table thead button[data-sort^=level]').focus(); document.activeElement.click()`)
		if f := focused(); f != "col:level" {
			t.Errorf("after a sort button the focus is on %q", f)
		}
		// Navigation still focuses the content.
		b.step(`document.getElementById('nav-worker').click()`)
		if f := focused(); f != "main" {
			t.Errorf("after the navigation the focus is on %q", f)
		}
	})

	t.Run("a malformed escape in the address is refused", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/%E0%A4%A")
		if got := b.refusal(); !strings.HasSuffix(got, "|INVALID_ARGUMENT") || !strings.Contains(got, "%E0%A4%A") {
			t.Errorf("#/worker/%%E0%%A4%%A shows %q, want an INVALID_ARGUMENT refusal naming the bad part", got)
		}
		if n := b.num(`document.querySelectorAll('#nav-worker').length`); n != 1 {
			t.Error("no navigation on the refusal")
		}
	})

	t.Run("a correction link under a filter leads to the entry off the page", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+w+"?trade=6-18-02-04")
		link := "#ev-" + s.pop.correctedID + " .corr-link"
		if href := b.attr(link, "href"); !strings.Contains(href, "focus="+s.pop.correctionID) || strings.Contains(href, "trade=") {
			t.Errorf("under a trade filter the corrected entry links to %q, want the unfiltered record focusing the correction", href)
		}
		var got struct{ Hash, Focused string }
		b.step(`document.querySelector('` + link + `').click()`)
		b.eval(`({hash: location.hash, focused: document.activeElement.id})`, &got)
		if got.Focused != "ev-"+s.pop.correctionID || strings.Contains(got.Hash, "trade=") {
			t.Errorf("following it: hash %q, focus on %q, want ev-%s", got.Hash, got.Focused, s.pop.correctionID)
		}
		// The other way: only corrections shown, the corrected entry is not.
		b.goTo("#/worker/" + w + "?kinds=correction")
		link = "#ev-" + s.pop.correctionID + " .corr-link"
		b.step(`document.querySelector('` + link + `').click()`)
		b.eval(`({hash: location.hash, focused: document.activeElement.id})`, &got)
		if got.Focused != "ev-"+s.pop.correctedID || strings.Contains(got.Hash, "kinds=") {
			t.Errorf("from the correction under a kind filter: hash %q, focus on %q, want ev-%s", got.Hash, got.Focused, s.pop.correctedID)
		}
	})

	t.Run("a withdrawn honour's conferral is marked and linked to its withdrawal", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+s.pop.honoured+"?kinds=honour")
		conferral := `#timeline .entry[data-kind=honour]:not(#ev-` + s.pop.withdrawal + `)`
		if c := b.attr(conferral, "class"); !strings.Contains(c, "superseded") {
			t.Errorf("the withdrawn honour's conferral has class %q, want it struck through like a superseded entry", c)
		}
		if got := b.attr(conferral+" .corr-link", "data-target"); got != "ev-"+s.pop.withdrawal {
			t.Errorf("the conferral links to %q, want its withdrawal", got)
		}
		if got := b.text(conferral + " .corr-link"); !strings.Contains(got, "已撤销") {
			t.Errorf("the conferral's mark reads %q", got)
		}
	})

	t.Run("an erased craftsman's heading names the id once", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+s.pop.erased)
		got := b.text("#profile-h")
		if strings.Count(got, s.pop.erased) != 1 || strings.Count(got, "个人信息已删除") != 1 || strings.Contains(got, "职工") {
			t.Errorf("the erased craftsman's heading reads %q, want the id and 个人信息已删除 once each", got)
		}
	})

	t.Run("an as-of time with a + offset in the address", func(t *testing.T) {
		b.t = t
		at := time.Now().Add(time.Second).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339) // 2026-11-27T18:00:00+08:00
		signedIn("auditor", "#/worker/"+w+"?asOf="+at)
		if got := b.refusal(); got != "|" {
			t.Fatalf("asOf=%s shows %q", at, got)
		}
		if got := b.text("#profile-h"); !strings.Contains(got, "李建国") {
			t.Errorf("asOf=%s: heading %q", at, got)
		}
		banner := b.text("#asof-banner")
		if utc, _ := time.Parse(time.RFC3339, at); !strings.Contains(banner, utc.UTC().Format("15:04:05")) || strings.Contains(banner, "当日") {
			t.Errorf("the banner for a moment reads %q, want its time and no 当日 (that day)", banner)
		}
		// A date keeps the day's wording.
		b.goTo("#/worker/" + w + "?asOf=" + time.Now().Format(time.DateOnly))
		if banner := b.text("#asof-banner"); !strings.Contains(banner, "当日") {
			t.Errorf("the banner for a date reads %q", banner)
		}
	})

	t.Run("trade names are the catalogue's", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+s.pop.oddTrades)
		want := "焊工 (6-18-02-04)"
		if got := b.text(`#levels li[data-trade="6-18-02-04"] .trade`); got != want {
			t.Errorf("current level's trade reads %q, want %q", got, want)
		}
		for _, got := range b.strings(`[...document.querySelectorAll('#timeline .entry .trade, #trade-filter option[value="6-18-02-04"]')].map(e => e.textContent)`) {
			if got != want {
				t.Errorf("a trade reads %q, want %q", got, want)
			}
		}
		// A code the catalogue names not: the event's name.
		b.goTo("#/worker/" + w)
		if got := b.text(`#levels li[data-trade="6-20-01-01"] .trade`); got != "钳工 (6-20-01-01)" {
			t.Errorf("fitting reads %q", got)
		}
	})

	t.Run("audit paging from a linked event can go back to the start", func(t *testing.T) {
		b.t = t
		stream := "craftsman-" + w
		edges := s.gql("auditor", `query($s: String) { audit(stream: $s, first: 6) { edges { cursor } } }`, map[string]any{"s": stream})["audit"].(map[string]any)["edges"].([]any)
		at := edges[5].(map[string]any)["cursor"].(string) // after revision 5
		signedIn("auditor", "#/audit?stream="+stream+"&at="+at)
		first := b.text(`#audit-table tbody tr[data-type] td:nth-child(4)`)
		if first != stream+"@6" {
			t.Fatalf("starting at the cursor the first row is %q", first)
		}
		if got := b.text("#ares-h"); strings.Contains(got, "第 1 页") && !strings.Contains(got, "起") {
			t.Errorf("the page from a linked event is labelled %q, as if it were the first", got)
		}
		if href := b.attr("#afirst", "href"); href == "" || strings.Contains(href, "at=") || !strings.Contains(href, "stream="+stream) {
			t.Fatalf("no link to the start of the stream (href %q)", href)
		}
		b.step(`document.getElementById('afirst').click()`)
		if got := b.text(`#audit-table tbody tr[data-type] td:nth-child(4)`); got != stream+"@0" {
			t.Errorf("from the start the first row is %q", got)
		}
		if n := b.num(`document.querySelectorAll('#afirst').length`); n != 0 {
			t.Error("the start of the stream still offers to go to the start")
		}
	})

	t.Run("counts, empty results, refusals and page size read right", func(t *testing.T) {
		b.t = t
		setLang("en")
		signedIn("auditor", "#/worker/"+s.pop.newYear)
		if got := b.text(`#timeline section.year[data-year="2025"] h3 small`); got != "1 entry" {
			t.Errorf("a year with one entry says %q", got)
		}
		setLang("zh")
		b.open("#/worker/" + s.pop.newYear + "?kinds=honour")
		if got := b.text("#tl-empty"); !strings.Contains(got, "没有") {
			t.Errorf("a filtered timeline without entries says %q", got)
		}
		signedIn("worker", "#/audit")
		if got, h1 := b.refusal(), b.text("main h1"); !strings.HasSuffix(got, "|PERMISSION_DENIED") || h1 != "审计" {
			t.Errorf("a refused view has heading %q (refusal %q), want 审计", h1, got)
		}
		signedIn("hr", "#/hr?size=5&sort=id")
		if n, size := b.num(`document.querySelectorAll('#hr-table tbody tr').length`), b.strings(`[document.getElementById('f-size').value]`); n != 5 || size[0] != "5" {
			t.Errorf("size=5 lists %d rows and the page-size field shows %v", n, size)
		}
	})

	t.Run("criterion texts on the Chinese page show no codes", func(t *testing.T) {
		b.t = t
		signedIn("auditor", "#/worker/"+w)
		code := regexp.MustCompile(`[a-z]+_[a-z_]+|\d-\d\d-\d\d-\d\d|[a-z]{4,}`)
		number := regexp.MustCompile(`（证书 [^）]*）`) // a certificate's number is what it is
		for _, text := range b.strings(`[...document.querySelectorAll('#next .crit-body')].map(e => e.textContent)`) {
			if m := code.FindString(number.ReplaceAllString(text, "")); m != "" {
				t.Errorf("criterion %q shows %q", text, m)
			}
		}
		var got []string
		b.eval(`['master_apprentice m1 completed 2020-01-01', 'technician_college, 焊接, 2010-07-01', 'aged 39, in trade 6-18-02-04 since 2005-07-01']
			.map(window.craftledger.critText)`, &got)
		for i, want := range []string{"名师带徒", "技师学院", "焊工"} {
			if i >= len(got) || !strings.Contains(got[i], want) || code.MatchString(got[i]) {
				t.Errorf("critText: %q, want %s and no code", got, want)
			}
		}
	})
}
