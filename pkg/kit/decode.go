package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/craftledger/craftledger/pkg/errs"
)

// DefaultMaxBody is the largest request body DecodeJSON accepts when given
// a limit <= 0 (1 MiB).
const DefaultMaxBody int64 = 1 << 20

// DecodeJSON decodes the request body, a single JSON value, into dst. It
// refuses, with errs.InvalidArgument and the offending field named where
// there is one: a non-JSON content type or a charset other than UTF-8, an
// empty body, bytes that are not UTF-8, malformed JSON,
// unknown fields, keys that match a field only case-insensitively, keys
// given twice in one object, values of the wrong type, trailing data and
// bodies over maxBytes (DefaultMaxBody when <= 0).
func DecodeJSON(r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.E(errs.InvalidArgument, "content type must be application/json, got %q", ct)
		}
		if err := CheckCharset(ct); err != nil {
			return err
		}
	}
	if r.Body == nil {
		return errs.E(errs.InvalidArgument, "request body is empty")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBytes))
	if err != nil {
		return jsonError(err, maxBytes)
	}
	// A byte order mark, as editors on Windows write it: JSON Lines and
	// CSV back-fills drop it too, and RFC 8259 lets a parser ignore it.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	// encoding/json replaces bytes that are not UTF-8, and unpaired
	// surrogate escapes, by U+FFFD: refuse them, naming the field
	// (CheckUTF8).
	if err := CheckUTF8(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return withJSONPath(jsonError(err, maxBytes), dst)
	}
	// Only JSON white space may follow (a further Decode would answer
	// io.EOF); anything else is decoded to say what it is.
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		var extra json.RawMessage
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			if err != nil {
				return jsonError(err, maxBytes)
			}
			return errs.E(errs.InvalidArgument, "request body must hold a single JSON value")
		}
	}
	// encoding/json matches keys case-insensitively and lets a repeated key
	// win silently; refuse both (see checkKeys).
	if t := reflect.TypeOf(dst); t != nil {
		if err := checkKeys(body, t); err != nil {
			if FieldOf(err) != "" {
				return err
			}
			return jsonError(err, maxBytes)
		}
	}
	return nil
}

func jsonError(err error, maxBytes int64) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		tooBig    *http.MaxBytesError
		invalidUn *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooBig):
		return errs.E(errs.InvalidArgument, "request body exceeds %d bytes", maxBytes)
	case errors.Is(err, io.EOF):
		return errs.E(errs.InvalidArgument, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.InvalidArgument, "malformed JSON: unexpected end of body")
	case errors.As(err, &syntax):
		return errs.E(errs.InvalidArgument, "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.E(errs.InvalidArgument, "request body must be %s, got %s", jsonTypeName(typ), typ.Value)
		}
		return Invalid(field, "must be %s, got %s", jsonTypeName(typ), typ.Value)
	case errors.As(err, &invalidUn):
		return errs.E(errs.Internal, "decode request: %v", err)
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		field := strings.Trim(strings.TrimPrefix(msg, unknown), `"`)
		return Invalid(field, "unknown field")
	}
	return errs.E(errs.InvalidArgument, "malformed JSON: %v", err)
}

func jsonTypeName(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a " + e.Type.String()
}

// Validator is implemented by requests that check their own fields after
// decoding; DecodeRequest calls it.
type Validator interface {
	Validate() error
}

// DecodeRequest returns a go-kit httptransport.DecodeRequestFunc that
// decodes a T with DecodeJSON (maxBytes, DefaultMaxBody when <= 0) and, when
// *T or T implements Validator, validates it.
func DecodeRequest[T any](maxBytes int64) func(context.Context, *http.Request) (any, error) {
	return func(_ context.Context, r *http.Request) (any, error) {
		var req T
		if err := DecodeJSON(r, &req, maxBytes); err != nil {
			return nil, err
		}
		if v, ok := any(&req).(Validator); ok {
			if err := v.Validate(); err != nil {
				return nil, err
			}
		}
		return req, nil
	}
}

// StatusCoder lets a response choose its HTTP status (e.g. 201).
type StatusCoder interface {
	StatusCode() int
}

// EncodeJSON is a go-kit httptransport.EncodeResponseFunc writing response
// as JSON with status 200, or StatusCode() when response implements
// StatusCoder.
func EncodeJSON(_ context.Context, w http.ResponseWriter, response any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	status := http.StatusOK
	if sc, ok := response.(StatusCoder); ok {
		status = sc.StatusCode()
	}
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(response)
}
