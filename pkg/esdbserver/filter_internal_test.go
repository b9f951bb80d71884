package esdbserver

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/dlclark/regexp2"
)

// TestFilterRegexNoTimeoutClock: filterRegex sets no match timeout, as
// TestFilterRegexTimeout: a pattern that backtracks without end is given
// up after filterMatchTimeout with the handler's exception, where it would
// otherwise take hours on this name; a sane one decides as before.
func TestFilterRegexTimeout(t *testing.T) {
	defer func(d time.Duration) { filterMatchTimeout = d }(filterMatchTimeout)
	filterMatchTimeout = 50 * time.Millisecond
	match, err := filterRegex(`^craftsman-(?!0)\d+$`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := match("craftsman-12"); !ok || err != nil {
		t.Fatalf("lookahead filter on craftsman-12: %v, %v", ok, err)
	}
	if ok, err := match("craftsman-01"); ok || err != nil {
		t.Fatalf("lookahead filter on craftsman-01: %v, %v", ok, err)
	}
	match, err = filterRegex(`^(a|aa)+$`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if ok, err := match(strings.Repeat("a", 80) + "b"); ok || err != errHandler {
		t.Fatalf("backtracking pattern: %v, %v; want the handler's exception", ok, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v, want about %v", d, filterMatchTimeout)
	}
}

// TestPlainRegexAgrees: on every pattern of up to four tokens from the
// plain syntax (plainRegex) that both engines compile, Go's regexp and
// regexp2 (.NET's engine, given UTF-16 units as runeMatcher gives them)
// find a match in exactly the same texts, over every text of up to three
// characters from an alphabet with a newline, a non-ASCII letter, one
// beyond the Basic Multilingual Plane and the punctuation the patterns
// escape. filterRegex
// relies on this to match plain patterns with Go's regexp.
func TestPlainRegexAgrees(t *testing.T) {
	tokens := []string{"a", "b", ".", "^", "|", "(", ")", "*", "+", "?", `\.`, "-"}
	letters := []string{"a", "b", "\n", "é", "\U0001F600", "-", "."}
	texts := concatenations(letters, 3)
	checked := 0
	for _, p := range concatenations(tokens, 4)[1:] {
		if !plainRegex(p) { // "(?"
			continue
		}
		re, err := regexp2.Compile(p, regexp2.None)
		if err != nil {
			continue
		}
		match := runeMatcher(re)
		dotnet := func(s string) bool { ok, _ := match(s); return ok }
		re2, err := regexp.Compile(p)
		if err != nil {
			continue
		}
		checked++
		for _, s := range texts {
			want := dotnet(s)
			if got := re2.MatchString(s); got != want {
				t.Fatalf("pattern %q on %q: Go's regexp %v, regexp2 %v", p, s, got, want)
			}
		}
	}
	t.Logf("%d patterns, %d texts", checked, len(texts))
	if checked < 1000 {
		t.Fatalf("only %d patterns compiled in both engines", checked)
	}
}

// TestPlainRegex: what plainRegex leaves to regexp2.
func TestPlainRegex(t *testing.T) {
	for _, c := range []struct {
		pattern string
		plain   bool
	}{
		{`^craftsman-`, true},
		{`^(craftsman|academy)-`, true},
		{`^(Training|Honour)\.`, true},
		{`\(?x`, true},
		{`a.b`, false},
		{`^a$`, false},
		{`\d`, false},
		{`\w`, false},
		{`\b`, false},
		{`[a-z]`, false},
		{`a{2}`, false},
		{`(?i)a`, false},
		{`(?=a)`, false},
		{`(a)\1`, false},
		{`é`, false},
		{"a\n", false},
		{`a\`, false},
	} {
		if got := plainRegex(c.pattern); got != c.plain {
			t.Errorf("plainRegex(%q) = %v, want %v", c.pattern, got, c.plain)
		}
	}
}

// FuzzPlainRegex: TestPlainRegexAgrees beyond its small scope
// (go test -fuzz FuzzPlainRegex ./pkg/esdbserver/): a plain pattern both
// engines compile matches the same texts in both.
func FuzzPlainRegex(f *testing.F) {
	f.Add(`^(craftsman|academy)-`, "academy-1")
	f.Add(`^(Training|Honour)\.`, "Honour.v1\n")
	f.Add(`a+?b*|-`, "é-\U0001F600")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		if !plainRegex(pattern) {
			return
		}
		re, err := regexp2.Compile(pattern, regexp2.None)
		if err != nil {
			return
		}
		re2, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		want, _ := runeMatcher(re)(text)
		if got := re2.MatchString(text); got != want {
			t.Fatalf("pattern %q on %q: Go's regexp %v, regexp2 %v", pattern, text, got, want)
		}
	})
}

// TestLegacyRegexGroupAtStart: a persistent $all group stored before the
// tenth session with a filter regex only Go's RE2 accepts is left out at
// start (and logged) instead of keeping the server from starting; the
// other groups load.
func TestLegacyRegexGroupAtStart(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(Config{DataDir: dir, Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	for group, regex := range map[string]string{"legacy": `^(?P<family>craftsman)-`, "dotnet": `^(?<family>craftsman)-`} {
		cfg, err := json.Marshal(psConfig{Source: "$all", Group: group, StartFrom: "C:0/P:0", Strategy: "RoundRobin",
			Filter: &psFilter{Regex: regex}})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.store.db.Set(psKey("$all", group), cfg, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err = Start(Config{DataDir: dir, Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatalf("restart with a group whose regex .NET refuses: %v", err)
	}
	defer srv.Close()
	srv.psubs.mu.Lock()
	_, legacy := srv.psubs.groups[string(psKey("$all", "legacy"))]
	_, dotnet := srv.psubs.groups[string(psKey("$all", "dotnet"))]
	srv.psubs.mu.Unlock()
	if legacy || !dotnet {
		t.Errorf("groups loaded: legacy %v, dotnet %v; want false, true", legacy, dotnet)
	}
}

// TestDotnetRefuses: regexp2's extensions that .NET's Regex refuses, and
// look-alikes it accepts (a class, an escape or a comment around them);
// regexp2 accepts them all.
func TestDotnetRefuses(t *testing.T) {
	for _, c := range []struct {
		pattern string
		refused bool
	}{
		{`\x{41}`, true},
		{`[\x{41}]`, true},
		{`\x41`, false},
		{`\\x{41}`, false}, // a backslash, then x 41 times
		{`\pL`, true},
		{`[\PL]`, true},
		{`\p{L}`, false},
		{`[\p{Lu}\P{Nd}]`, false},
		{`\p{Greek}`, true},
		{`\p{Latin}`, true},
		{`(?u)a`, true},
		{`(?U)a`, true},
		{`(?i-d:a)`, true},
		{`(?i)a`, false},
		{`(?imnsx-imnsx:a)`, false},
		{`(?<u>a)`, false},
		{`(?'u'a)`, false},
		{`\(?u\)`, false},
		{`[(?u)]`, false},
		{`[](?u)]`, false},
		{`[a-z-[(?u)]]`, false},
		{`[a-z-[aeiou]](?u)`, true},
		{`[a\-[b](?u)`, true}, // an escaped "-": "[" is a member, the class ends at the first "]"
		{`\c\(?u)`, true},     // \c\ is a control character (0x1C), then an option group
		{`(?#u)a`, false},
		{`(?x)a # (?u)`, false},
	} {
		if _, err := regexp2.Compile(c.pattern, regexp2.None); err != nil {
			t.Errorf("regexp2 refuses %q: %v", c.pattern, err)
		}
		if got := dotnetRefuses(c.pattern); got != c.refused {
			t.Errorf("dotnetRefuses(%q) = %v, want %v", c.pattern, got, c.refused)
		}
	}
}

// TestUTF16Pattern: a character beyond the Basic Multilingual Plane is
// matched as .NET matches it, as two UTF-16 units, in the pattern as in
// the text.
func TestUTF16Pattern(t *testing.T) {
	const smile = "\U0001F600" // two units in .NET: \uD83D \uDE00
	for _, c := range []struct {
		pattern, text string
		match         bool
	}{
		{"^.$", smile, false},
		{"^..$", smile, true},
		{"^" + smile + "$", smile, true},
		{"^\\" + smile + "$", smile, true}, // escaped: a literal
		{`^\uD83D\uDE00$`, smile, true},
		{"^[" + smile + "]$", smile, false}, // a class of the two surrogates matches one
		{"^[" + smile + "]{2}$", smile, true},
		{"^" + smile + "+$", smile, true},
		{"^" + smile + "+$", smile + smile, false}, // + repeats the low surrogate only
		{"^(" + smile + ")+$", smile + smile, true},
		{`^\w$`, "é", true},
	} {
		match, err := filterRegex(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got, _ := match(c.text); got != c.match {
			t.Errorf("%q on %q: %v, want %v", c.pattern, c.text, got, c.match)
		}
	}
	// A reversed range (\uDE00-\uD83D); \c with a surrogate.
	for _, p := range []string{"[" + smile + "-\U0001F602]", `\c` + smile} {
		if _, err := filterRegex(p); err == nil {
			t.Errorf("%q compiles; .NET refuses it", p)
		}
	}
	if got, want := utf16Pattern(`a\`+smile+`\c\b`+smile), `a\uD83D\uDE00\c\b\uD83D\uDE00`; got != want {
		t.Errorf("utf16Pattern: %q, want %q", got, want)
	}
}

// concatenations is every string of at most n parts, "" first, then by
// length.
func concatenations(parts []string, n int) []string {
	out := []string{""}
	for k, from := 0, 0; k < n; k++ {
		to := len(out)
		for _, s := range out[from:to] {
			for _, p := range parts {
				out = append(out, s+p)
			}
		}
		from = to
	}
	return out
}
