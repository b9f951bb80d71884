package events

import (
	"errors"
	"fmt"
)

// FieldError is a validation failure of one field of an event. Field is a
// JSON path into the payload ("level", "results[2].rank"); Message says what
// is wrong in lower case. Services map it to HTTP 400 / INVALID_ARGUMENT with
// errors.As.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Is lets errors.Is(err, ErrInvalid) classify any *FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid is the class of every validation failure in this module:
// errors.Is(err, events.ErrInvalid) holds for every *FieldError.
var ErrInvalid = errors.New("invalid event")

// fieldErr builds a *FieldError with a formatted message.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Prefix returns err with its field path prefixed by prefix ("results[2]"),
// when err is a *FieldError; other errors are returned unchanged.
func Prefix(prefix string, err error) error {
	var fe *FieldError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	f := prefix
	if fe.Field != "" {
		if fe.Field[0] == '[' {
			f += fe.Field
		} else {
			f += "." + fe.Field
		}
	}
	return &FieldError{Field: f, Message: fe.Message}
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func required(field, v string) error {
	if v == "" {
		return fieldErr(field, "is required")
	}
	return nil
}

func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	if v == "" {
		return fieldErr(field, "is required (one of %v)", allowed)
	}
	return fieldErr(field, "unknown value %q (one of %v)", v, allowed)
}
