package esdbserver

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// filterRegex compiles a filter's regex as KurrentDB does, and is the
// only place the server compiles one (readFilter for Reads and $all
// subscriptions, psFilter.compile for persistent $all groups). KurrentDB's
// EventFilter.cs (162, 174) compiles the pattern with .NET's
// new Regex(pattern, RegexOptions.Compiled) when a Read (Streams.Read.cs
// 281-290) or a persistent subscription to $all
// (PersistentSubscriptions.Create.cs 114-119, 156-167) builds its filter,
// and tests each event with Match(...).Success, a match anywhere in the
// name or type. regexp2 is a port of .NET's engine and, in its default syntax (not
// its RE2 option), accepts the patterns .NET accepts — lookarounds,
// backreferences, atomic groups — and matches as .NET does: $ also before a
// final newline, \d and \w over all of Unicode. A pattern it refuses, or
// one of its few extensions that .NET refuses (dotnetRefuses), is the
// handler's exception, as .NET's Regex constructor throwing is there.
// KurrentDB sets no match timeout (nothing in its source sets MatchTimeout or
// REGEX_DEFAULT_MATCH_TIMEOUT, so .NET's is infinite). Here a match that
// has not decided within filterMatchTimeout ends the Read or subscription
// with the handler's exception (what .NET's RegexMatchTimeoutException
// would be), and a persistent group's read with that error: a pattern that
// backtracks without end (say `^(a|aa)+$` on a long name) would otherwise
// hold a core for hours, ignore its caller's cancellation and keep Close
// waiting. A sane filter decides in well under a microsecond, so only such
// patterns see a difference. regexp2 then runs its timeout clock goroutine
// while matches happen and stops it about a second after the last.
//
// regexp2 costs about twice what Go's regexp does per event
// (BenchmarkFilterRegexDotNetEngine against BenchmarkFilterRegex's plain
// cases; docs/store.md), so a pattern on which the two engines provably
// agree (plainRegex) is matched by Go's regexp, once regexp2 has accepted
// it.
func filterRegex(pattern string) (func(string) (bool, error), error) {
	re, err := regexp2.Compile(utf16Pattern(pattern), regexp2.None)
	if err != nil || dotnetRefuses(pattern) {
		return nil, errHandler
	}
	if plainRegex(pattern) {
		if fast, err := regexp.Compile(pattern); err == nil {
			return func(s string) (bool, error) { return fast.MatchString(s), nil }, nil
		}
	}
	re.MatchTimeout = filterMatchTimeout
	return runeMatcher(re), nil
}

// filterMatchTimeout bounds one match of a filter regex on regexp2's path
// (filterRegex); KurrentDB has no such bound. A variable for the tests.
var filterMatchTimeout = time.Second

// runeMatcher is re's match anywhere in a text, which it hands to regexp2
// as .NET's strings hold text: UTF-16 code units, a character outside the
// Basic Multilingual Plane as two surrogates (so that "." and a class match
// one of them, as in .NET; utf16Pattern writes the pattern's own such
// characters likewise). The text is decoded into one buffer kept across
// calls (regexp2's MatchString would allocate a []rune per event); the
// lock makes the matcher safe for concurrent use, though each Read and each
// group calls its own from one goroutine at a time.
func runeMatcher(re *regexp2.Regexp) func(string) (bool, error) {
	var mu sync.Mutex
	var buf []rune
	return func(s string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		buf = buf[:0]
		for _, c := range s {
			if c > 0xFFFF {
				hi, lo := utf16.EncodeRune(c)
				buf = append(buf, hi, lo)
				continue
			}
			buf = append(buf, c)
		}
		ok, err := re.MatchRunes(buf)
		if err != nil { // out of time: the only error regexp2 reports
			return false, errHandler
		}
		return ok, nil
	}
}

// plainRegex reports whether pattern uses only what .NET's Regex and Go's
// RE2 read and match alike, so that whether it matches somewhere in a text
// is the same in both: ASCII literals, escaped ASCII punctuation (a
// literal in both), "^", "|", groups "(...)" that are not "(?" constructs,
// and the quantifiers "*", "+", "?" and their lazy forms. Out: "." (one
// UTF-16 unit in .NET, one code point in RE2), "$" (.NET's also matches
// before a final newline), character classes and \d \w \s \b (Unicode in
// .NET, ASCII in RE2), "{" (bounds RE2 limits), inline options,
// lookarounds, backreferences, anything not ASCII. The ASCII literals left
// never match part of a character beyond ASCII, however it is encoded. A
// pattern Go's regexp still refuses (a quantifier in a place .NET allows
// it) stays with regexp2.
func plainRegex(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\':
			i++
			if i == len(pattern) || !isASCIIPunct(pattern[i]) {
				return false
			}
		case c == '(':
			if i+1 < len(pattern) && pattern[i+1] == '?' {
				return false
			}
		case c == '.' || c == '$' || c == '[' || c == ']' || c == '{' || c == '}':
			return false
		case c < 0x20 || c >= 0x7f:
			return false
		}
	}
	return true
}

// isASCIIPunct: the characters that, after a backslash, are themselves in
// both .NET and RE2.
func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// dotnetRefuses reports the patterns regexp2 accepts in its default syntax
// although .NET's Regex refuses them — regexp2's extensions, from Perl,
// PCRE and Go: \x{…} (.NET's \x takes exactly two hex digits), \pL without
// braces, \p{…} names that are not .NET's general categories (Go's scripts,
// such as Greek; .NET has the categories and named blocks, IsGreek, which
// regexp2 refuses in turn), and the inline options u and d (.NET's are i,
// m, n, s and x). Escapes are read as both engines read them, in a
// character class too; a pattern with "#" (a comment, (?#…) or under
// option x, which either engine skips) is left to regexp2.
func dotnetRefuses(pattern string) bool {
	if strings.Contains(pattern, "#") {
		return false
	}
	class := 0      // depth of character classes, nested by subtraction -[…]
	hyphen := false // the last character was an unescaped "-"
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		prevHyphen := hyphen
		hyphen = c == '-'
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			switch pattern[i] {
			case 'x':
				if i+1 < len(pattern) && pattern[i+1] == '{' {
					return true
				}
			case 'p', 'P':
				if i+1 == len(pattern) || pattern[i+1] != '{' {
					return true
				}
				end := strings.IndexByte(pattern[i:], '}')
				if end < 0 {
					return true
				}
				if !dotnetCategory(pattern[i+2 : i+end]) {
					return true
				}
				i += end
			case 'c':
				i++ // \cX: X is the control letter, whatever it is
			}
		case class == 0 && c == '(' && strings.HasPrefix(pattern[i:], "(?"):
			j := i + 2
			for j < len(pattern) && (pattern[j] == '-' || 'a' <= pattern[j]|0x20 && pattern[j]|0x20 <= 'z') {
				j++
			}
			if j > i+2 && j < len(pattern) && (pattern[j] == ')' || pattern[j] == ':') &&
				strings.ContainsAny(pattern[i+2:j], "uUdD") {
				return true
			}
		case c == '[' && (class == 0 || prevHyphen):
			class++
			if i+1 < len(pattern) && pattern[i+1] == '^' {
				i++
			}
			if i+1 < len(pattern) && pattern[i+1] == ']' {
				i++ // a class's first ] is a member
			}
		case c == ']' && class > 0:
			class--
		}
	}
	return false
}

// dotnetCategory: the names .NET's \p{…} takes besides its named blocks
// (RegexCharClass's general categories).
func dotnetCategory(name string) bool {
	switch name {
	case "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
		"Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn",
		"P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So":
		return true
	}
	return false
}

// utf16Pattern writes each character of pattern outside the Basic
// Multilingual Plane as the two \u escapes of its UTF-16 surrogates, which
// is what .NET's parser reads there (its strings are UTF-16), so that it
// matches the text as runeMatcher hands it over. Escaped ("\" before it),
// the character is a literal in .NET, as the escapes are; after "\c" it is
// left as it is, refused by both.
func utf16Pattern(pattern string) string {
	if !strings.ContainsFunc(pattern, func(r rune) bool { return r > 0xFFFF }) {
		return pattern
	}
	out := make([]byte, 0, len(pattern)+16)
	escaped, control := false, false
	for _, r := range pattern {
		switch {
		case control: // r is \c's letter
			out = utf8.AppendRune(out, r)
			control, escaped = false, false
			continue
		case r > 0xFFFF:
			if escaped {
				out = out[:len(out)-1] // \uHHHH is a literal already
			}
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04X\u%04X`, hi, lo)
		default:
			out = utf8.AppendRune(out, r)
		}
		control = escaped && r == 'c'
		escaped = !escaped && r == '\\'
	}
	return string(out)
}
