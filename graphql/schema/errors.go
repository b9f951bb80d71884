package schema

import (
	"errors"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Error is what resolvers hand to graphql-go: it implements Extensions()
// itself (graphql-go type-asserts, it does not unwrap), with the stable
// extensions.code of pkg/errs. Internal errors show a generic message.
type Error struct{ err error }

// Wrap turns any error into an *Error (nil stays nil).
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{err: err}
}

func (e *Error) Error() string {
	if errs.KindOf(e.err) == errs.Internal {
		return "internal error"
	}
	return e.err.Error()
}

// Unwrap exposes the underlying error to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.err }

// Extensions implements graphql-go's gqlerrors.ExtendedError.
func (e *Error) Extensions() map[string]any {
	return map[string]any{"code": errs.Code(e.err)}
}
