package kit

import (
	"bytes"
	"encoding/json"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/craftledger/craftledger/pkg/errs"
)

// CheckCharset refuses (errs.InvalidArgument) a Content-Type whose charset
// parameter names an encoding other than UTF-8 (or its subset US-ASCII):
// bodies are read as UTF-8 and never converted, so a GBK file would
// otherwise be stored with U+FFFD in place of its characters. No charset
// is UTF-8.
func CheckCharset(contentType string) error {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil // the media type's own check answers
	}
	cs, ok := params["charset"]
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(cs)) {
	case "utf-8", "utf8", "us-ascii":
		return nil
	}
	return errs.E(errs.InvalidArgument, "charset %q is not accepted: send the body in UTF-8 (charset=utf-8 or none); it is not converted", cs)
}

// CheckUTF8 refuses (errs.InvalidArgument) a JSON document holding bytes
// that are not UTF-8, or a \u escape of half a UTF-16 surrogate pair
// without its other half (\ud800 alone, a low half first), naming the
// field whose key or value holds them (dotted path, [i] for an array's
// element) where the document parses that far: encoding/json would
// silently replace either by U+FFFD, storing something the sender never
// wrote. Valid text without a backslash costs one pass of utf8.Valid and
// one of bytes.IndexByte.
func CheckUTF8(b []byte) error {
	valid := utf8.Valid(b)
	if valid && (bytes.IndexByte(b, '\\') < 0 || !loneSurrogate(b)) {
		return nil
	}
	field, surrogate := invalidUTF8Field(b)
	if field == "" {
		surrogate = valid
	}
	msg := "is not valid UTF-8: send the body in UTF-8 (a GBK or other encoding is not converted)"
	if surrogate {
		msg = "holds an unpaired UTF-16 surrogate escape (\\uD800 to \\uDFFF without its other half), which would be stored as U+FFFD: send the character itself or both halves of its pair"
	}
	if field != "" {
		return Invalid(field, "%s", msg)
	}
	return errs.E(errs.InvalidArgument, "request body %s", msg)
}

// loneSurrogate reports whether b holds a \u escape of a UTF-16 surrogate
// (U+D800 to U+DFFF) that is not half of a pair: a high half (D800-DBFF)
// followed at once by the escape of a low half (DC00-DFFF). Backslashes
// are only found in JSON strings, so b is walked from one to the next.
func loneSurrogate(b []byte) bool {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
		r, ok := escapedUnit(b[i:])
		switch {
		case !ok:
			i += 2 // \\, \" and the others: the escaped byte starts no escape
		case r < 0xd800 || r > 0xdfff:
			i += 6
		case r >= 0xdc00:
			return true
		default:
			if lo, ok := escapedUnit(b[i+6:]); !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 12
		}
	}
	return false
}

// escapedUnit is the UTF-16 code unit of a \uXXXX escape at the start of b.
func escapedUnit(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// invalidUTF8Field is the path of the first key or value of b that is not
// valid UTF-8 or holds an unpaired surrogate escape (surrogate: the
// latter), "" when the tokens before it do not parse.
func invalidUTF8Field(b []byte) (field string, surrogate bool) {
	type frame struct {
		object, wantKey bool
		key             string
		index           int
	}
	var stack []frame
	path := func(last string) string {
		var sb strings.Builder
		for i, f := range stack {
			name := f.key
			if i == len(stack)-1 && last != "" {
				name = last
			}
			switch {
			case f.object && sb.Len() > 0:
				sb.WriteString("." + name)
			case f.object:
				sb.WriteString(name)
			default:
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return sb.String()
	}
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		off := dec.InputOffset()
		surrogate = loneSurrogate(b[prev:off])
		bad := surrogate || !utf8.Valid(b[prev:off])
		prev = off
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				if bad {
					return path(t), surrogate
				}
				continue
			}
			if bad {
				return path(""), surrogate
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
