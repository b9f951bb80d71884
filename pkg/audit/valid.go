package audit

import (
	"encoding/binary"
	"encoding/json"
)

// validJSON reports whether b is one valid JSON value, with exactly
// encoding/json.Valid's answer (RFC 8259; bytes of strings are not checked
// for UTF-8, as there) at a fraction of its cost: replay checks the data
// and metadata of every event, and json.Valid's byte-by-byte state machine
// was a fifth of a replay's CPU. Values nested deeper than validMaxDepth
// are left to json.Valid, which has its own depth limit.
func validJSON(b []byte) bool {
	v := validator{b: b}
	v.space()
	if !v.value(0) {
		if v.deep {
			return json.Valid(b)
		}
		return false
	}
	v.space()
	return v.i == len(b)
}

const validMaxDepth = 256

type validator struct {
	b    []byte
	i    int
	deep bool // gave up at validMaxDepth
}

func (v *validator) space() { v.i = skipSpace(v.b, v.i) }

func (v *validator) value(depth int) bool {
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '"':
		return v.str()
	case c == '{':
		if empty, ok := v.open('}', depth); !ok || empty {
			return ok
		}
		for {
			if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
				return false
			}
			v.space()
			if v.i >= len(v.b) || v.b[v.i] != ':' {
				return false
			}
			v.i++
			v.space()
			if !v.value(depth + 1) {
				return false
			}
			if end, ok := v.next('}'); !ok || end {
				return ok
			}
		}
	case c == '[':
		if empty, ok := v.open(']', depth); !ok || empty {
			return ok
		}
		for {
			if !v.value(depth + 1) {
				return false
			}
			if end, ok := v.next(']'); !ok || end {
				return ok
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	case c == 't':
		return v.word("true")
	case c == 'f':
		return v.word("false")
	case c == 'n':
		return v.word("null")
	}
	return false
}

// open reads the opening byte of an object or an array at depth and the
// space after it: ok is false past validMaxDepth (v.deep set), empty is
// true when the closing byte follows at once (consumed).
func (v *validator) open(close byte, depth int) (empty, ok bool) {
	if depth >= validMaxDepth {
		v.deep = true
		return false, false
	}
	v.i++
	v.space()
	if v.i < len(v.b) && v.b[v.i] == close {
		v.i++
		return true, true
	}
	return false, true
}

// next reads what follows a member or an element: the closing byte (end,
// consumed) or a comma and the space after it; anything else is invalid.
func (v *validator) next(close byte) (end, ok bool) {
	v.space()
	if v.i >= len(v.b) {
		return false, false
	}
	switch v.b[v.i] {
	case close:
		v.i++
		return true, true
	case ',':
		v.i++
		v.space()
		return false, true
	}
	return false, false
}

func (v *validator) word(w string) bool {
	if len(v.b)-v.i < len(w) || string(v.b[v.i:v.i+len(w)]) != w {
		return false
	}
	v.i += len(w)
	return true
}

// str checks the string starting at v.b[v.i] ('"').
func (v *validator) str() bool {
	b := v.b
	for i := plainRun(b, v.i+1); i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			v.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 {
					return false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

func (v *validator) digits() int {
	n := 0
	for v.i < len(v.b) && v.b[v.i] >= '0' && v.b[v.i] <= '9' {
		v.i++
		n++
	}
	return n
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (v *validator) number() bool {
	if v.b[v.i] == '-' {
		v.i++
	}
	start := v.i
	n := v.digits()
	if n == 0 || n > 1 && v.b[start] == '0' {
		return false
	}
	if v.i < len(v.b) && v.b[v.i] == '.' {
		v.i++
		if v.digits() == 0 {
			return false
		}
	}
	if v.i < len(v.b) && (v.b[v.i] == 'e' || v.b[v.i] == 'E') {
		v.i++
		if v.i < len(v.b) && (v.b[v.i] == '+' || v.b[v.i] == '-') {
			v.i++
		}
		if v.digits() == 0 {
			return false
		}
	}
	return true
}

// plainRun returns the index of the first 8-byte word from b[i] on that
// holds a quote, a backslash or a control byte (or the tail shorter than
// a word): every byte before it is plain string content. The validator
// skips long strings with it a word, not a byte, at a time.
func plainRun(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q, bs := w^(ones*'"'), w^(ones*'\\')
		// a byte below 0x20, or one equal to '"' or '\\' (zero after the xor)
		if ((w-ones*0x20)&^w|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
		i += 8
	}
	return i
}
