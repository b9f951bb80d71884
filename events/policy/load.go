package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/craftledger/craftledger/events"
)

// LoadError says where a policy document is wrong: the line and column
// (1-based) and the JSON path of the field. It wraps a *events.FieldError,
// so errors.Is(err, events.ErrInvalid) holds.
type LoadError struct {
	Source string // file name or stream, may be empty
	Line   int
	Column int
	Field  string
	Err    error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(":")
	}
	fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	var fe *events.FieldError
	if errors.As(e.Err, &fe) {
		b.WriteString(fe.Message)
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Parse reads and checks a policy document (JSON). Unknown fields,
// malformed JSON and invalid values are rejected with a *LoadError naming
// the line and the field.
func Parse(data []byte) (*Policy, error) { return ParseNamed("", data) }

// ParseNamed is Parse with a source name for error messages.
func ParseNamed(source string, data []byte) (*Policy, error) {
	var p Policy
	if err := decodeStrict(data, &p); err != nil {
		return nil, locateDecodeError(source, data, err)
	}
	if err := p.Validate(); err != nil {
		var fe *events.FieldError
		if !errors.As(err, &fe) {
			fe = &events.FieldError{Message: err.Error()}
		}
		off := locatePath(data, fe.Field)
		line, col := lineCol(data, off)
		return nil, &LoadError{Source: source, Line: line, Column: col, Field: fe.Field, Err: fe}
	}
	return &p, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &decodeErr{err: err, offset: dec.InputOffset()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &decodeErr{err: errors.New("unexpected data after the document"), offset: dec.InputOffset()}
	}
	return nil
}

type decodeErr struct {
	err    error
	offset int64
}

func (e *decodeErr) Error() string { return e.err.Error() }

// Unwrap exposes the decoder's own error to errors.Is and errors.As.
func (e *decodeErr) Unwrap() error { return e.err }

func locateDecodeError(source string, data []byte, err error) error {
	var de *decodeErr
	if !errors.As(err, &de) {
		de = &decodeErr{err: err}
	}
	off, field, msg := de.offset, "", de.err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var fe *events.FieldError
	switch {
	case errors.As(de.err, &se):
		off, msg = se.Offset, "malformed JSON: "+se.Error()
	case errors.As(de.err, &te):
		off, field, msg = te.Offset, te.Field, fmt.Sprintf("must be %s, not %s", te.Type, te.Value)
	case errors.As(de.err, &fe):
		field, msg = fe.Field, fe.Message
		// The decoder does not say where a value it rejected is; find it.
		if i := strings.IndexByte(msg, '"'); i >= 0 {
			if q, err := strconv.QuotedPrefix(msg[i:]); err == nil {
				if j := bytes.Index(data, []byte(q)); j >= 0 {
					off = int64(j)
					if _, values := pathOffsets(data); values[off] != "" {
						field = values[off]
					}
				}
			}
		}
	case strings.HasPrefix(msg, "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		field, msg = name, "unknown field"
		if i := bytes.LastIndex(data[:min(int(off), len(data))], []byte(strconv.Quote(name))); i >= 0 {
			off = int64(i)
		}
	}
	line, col := lineCol(data, off)
	return &LoadError{Source: source, Line: line, Column: col, Field: field, Err: &events.FieldError{Field: field, Message: msg}}
}

func lineCol(data []byte, off int64) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// locatePath returns the offset of the value at a JSON path like
// "levels[2].routes[0].criteria[1].years", or of its nearest existing
// ancestor.
func locatePath(data []byte, path string) int64 {
	offsets, _ := pathOffsets(data)
	for p := path; ; {
		if off, ok := offsets[p]; ok {
			return off
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return offsets[""]
		}
		p = p[:i]
	}
}

// pathOffsets maps every JSON path of data to the offset of its key (or,
// for array elements, its value), and every value's offset to its path.
func pathOffsets(data []byte) (map[string]int64, map[int64]string) {
	offsets := map[string]int64{}
	values := map[int64]string{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(prefix string) error
	walk = func(prefix string) error {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		offsets[prefix] = skipSpace(data, start)
		values[offsets[prefix]] = prefix
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				keyStart := skipSpace(data, dec.InputOffset())
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := k.(string)
				p := name
				if prefix != "" {
					p = prefix + "." + name
				}
				if err := walk(p); err != nil {
					return err
				}
				offsets[p] = keyStart
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", prefix, i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	_ = walk("")
	return offsets, values
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}
