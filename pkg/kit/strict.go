package kit

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// checkKeys walks the JSON document b alongside the Go type it was decoded
// into and refuses what encoding/json lets through silently: an object key
// that matches a field only case-insensitively ("CraftsmanId" for
// "craftsmanId" — encoding/json would take it, and the last of the two
// would win) and a key repeated in one object. Either lets two readers of
// the same body (a proxy, an audit log, this service) disagree on what it
// says. Values of types that decode themselves (json.Unmarshaler,
// encoding.TextUnmarshaler) and of interface, map-of-any or RawMessage
// types are not looked into.
//
// b has already been decoded without error, so it is one valid JSON value:
// a byte scanner (keyScanner) walks it without building tokens, and the
// token walk (walkValue) runs only when the scanner meets something it
// does not expect. Both refuse the same keys with the same errors, in
// document order (FuzzCheckKeysScanner).
func checkKeys(b []byte, t reflect.Type) error {
	s := keyScanner{b: b}
	if err := s.value(t, ""); !errors.Is(err, errScanGaveUp) {
		return err
	}
	return checkKeysTokens(b, t)
}

// checkKeysTokens is checkKeys by encoding/json tokens.
func checkKeysTokens(b []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return walkValue(dec, t, "")
}

// errScanGaveUp: the byte scanner met input it does not handle; the token
// walk decides.
var errScanGaveUp = errors.New("kit: key scan gave up")

// keyScanner walks a valid JSON document byte by byte, like walkValue.
type keyScanner struct {
	b []byte
	i int
}

func (s *keyScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (s *keyScanner) next() byte {
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str reads a string at s.i and returns its value, unescaped as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func (s *keyScanner) str() (string, error) {
	if s.next() != '"' {
		return "", errScanGaveUp
	}
	start := s.i
	plain := true
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			if plain {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return "", errScanGaveUp
			}
			return v, nil
		case c == '\\':
			plain = false
			s.i++
		case c < 0x20:
			return "", errScanGaveUp
		case c >= 0x80:
			plain = false
		}
	}
	return "", errScanGaveUp
}

// skip passes over one value of any kind.
func (s *keyScanner) skip() error {
	switch s.next() {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, err := s.str(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return errScanGaveUp
	case 0:
		return errScanGaveUp
	}
	// A number or a literal.
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if s.i == start {
				return errScanGaveUp
			}
			return nil
		}
		s.i++
	}
	return nil
}

// value is walkValue over bytes.
func (s *keyScanner) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c := s.next()
	if c != '{' && c != '[' {
		return s.skip() // a scalar
	}
	if opaqueCached(t) {
		return s.skip()
	}
	s.i++
	if c == '[' {
		var elem reflect.Type
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			elem = t.Elem()
		}
		if s.next() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.value(elem, path); err != nil {
				return err
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errScanGaveUp
			}
		}
	}
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		fields = structFields(t)
	case reflect.Map:
		elem = t.Elem()
	}
	if s.next() == '}' {
		s.i++
		return nil
	}
	var seen []string           // the keys so far, while few
	var seenMap map[string]bool // then by map (a large map-typed object)
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		if seenMap == nil && len(seen) >= 16 {
			seenMap = make(map[string]bool, 2*len(seen))
			for _, k := range seen {
				seenMap[k] = true
			}
		}
		if seenMap != nil {
			if seenMap[key] {
				return Invalid(join(path, key), "field given twice")
			}
			seenMap[key] = true
		} else {
			if slices.Contains(seen, key) {
				return Invalid(join(path, key), "field given twice")
			}
			seen = append(seen, key)
		}
		next, err := memberType(fields, elem, path, key)
		if err != nil {
			return err
		}
		if s.next() != ':' {
			return errScanGaveUp
		}
		s.i++
		sub := path
		if c := s.next(); c == '{' || c == '[' {
			sub = join(path, key) // only containers name their keys
		}
		if err := s.value(next, sub); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errScanGaveUp
		}
	}
}

var opaqueCache sync.Map // reflect.Type → bool

// opaqueCached is opaque, remembered per type.
func opaqueCached(t reflect.Type) bool {
	if t == nil {
		return true
	}
	if v, ok := opaqueCache.Load(t); ok {
		return v.(bool)
	}
	o := opaque(t)
	opaqueCache.Store(t, o)
	return o
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func opaque(t reflect.Type) bool {
	if t == nil || t.Kind() == reflect.Interface {
		return true
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// memberType is the type of an object's member key: the struct field's
// (fields), else the map's element type (elem); an unknown key is an
// Invalid error that names a field differing only in case.
func memberType(fields map[string]reflect.Type, elem reflect.Type, path, key string) (reflect.Type, error) {
	if fields == nil {
		return elem, nil
	}
	if ft, ok := fields[key]; ok {
		return ft, nil
	}
	for name := range fields {
		if strings.EqualFold(name, key) {
			return nil, Invalid(join(path, key), "unknown field (field names are case-sensitive: %q)", name)
		}
	}
	return nil, Invalid(join(path, key), "unknown field")
}

func walkValue(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	if opaque(t) {
		return skipRest(dec, d)
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			elem = t.Elem()
		}
		for dec.More() {
			if err := walkValue(dec, elem, path); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		switch t.Kind() {
		case reflect.Struct:
			fields = structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				return Invalid(join(path, key), "field given twice")
			}
			seen[key] = true
			next, err := memberType(fields, elem, path, key)
			if err != nil {
				return err
			}
			if err := walkValue(dec, next, join(path, key)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// skipRest consumes the rest of a value whose opening delimiter was read.
func skipRest(dec *json.Decoder, d json.Delim) error {
	depth := 1
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if dd, ok := tok.(json.Delim); ok {
			if dd == '{' || dd == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// structFields maps the JSON names of t's fields (with embedded structs'
// fields promoted, as encoding/json does) to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	collectFields(t, m, 0)
	fieldCache.Store(t, m)
	return m
}

func collectFields(t reflect.Type, m map[string]reflect.Type, depth int) {
	if depth > 10 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				collectFields(et, m, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup || depth == 0 {
			m[name] = ft
		}
	}
}

// jsonPath rewrites the dotted path of an encoding/json type error for the
// JSON a client sent: encoding/json names an embedded struct by its Go type
// ("CompleteTrainingRequest.hours" when the target embeds the request);
// those components are dropped.
func jsonPath(t reflect.Type, path string) string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, part)
			t = nil
			continue
		}
		if ft, ok := structFields(t)[part]; ok {
			out = append(out, part)
			t = ft
			continue
		}
		if f, ok := t.FieldByName(part); ok && f.Anonymous {
			t = f.Type
			continue
		}
		out = append(out, part)
		t = nil
	}
	return strings.Join(out, ".")
}

// withJSONPath applies jsonPath to err's field, if it has one.
func withJSONPath(err error, dst any) error {
	var fe *FieldError
	if errors.As(err, &fe) && dst != nil {
		fe.Field = jsonPath(reflect.TypeOf(dst), fe.Field)
	}
	return err
}
