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
// that are not UTF-8, naming the field whose key or value holds them
// (dotted path, [i] for an array's element) where the document parses
// that far: encoding/json would silently replace them by U+FFFD, storing
// something the sender never wrote.
func CheckUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	const msg = "is not valid UTF-8: send the body in UTF-8 (a GBK or other encoding is not converted)"
	if field := invalidUTF8Field(b); field != "" {
		return Invalid(field, msg)
	}
	return errs.E(errs.InvalidArgument, "request body "+msg)
}

// invalidUTF8Field is the path of the first key or value of b that is not
// valid UTF-8, "" when the tokens before it do not parse.
func invalidUTF8Field(b []byte) string {
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
			return ""
		}
		off := dec.InputOffset()
		bad := !utf8.Valid(b[prev:off])
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
					return path(t)
				}
				continue
			}
			if bad {
				if p := path(""); p != "" {
					return p
				}
				return ""
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
