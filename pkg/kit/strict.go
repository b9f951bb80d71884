package kit

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
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
func checkKeys(b []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return walkValue(dec, t, "")
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
			next := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					for name := range fields {
						if strings.EqualFold(name, key) {
							return Invalid(join(path, key), "unknown field (field names are case-sensitive: %q)", name)
						}
					}
					return Invalid(join(path, key), "unknown field")
				}
				next = ft
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
