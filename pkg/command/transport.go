package command

import (
	"context"
	"net/http"

	"github.com/craftledger/craftledger/pkg/kit"
)

// DecodeRequest is a go-kit httptransport.DecodeRequestFunc for a command
// request T: the body is decoded strictly by kit.DecodeJSON (unknown fields,
// wrong types and trailing data refused, field named), then path copies
// path parameters (r.PathValue) into it, then T's Validate runs when it has
// one. With allowEmpty an empty body decodes as the zero T.
func DecodeRequest[T any](allowEmpty bool, path func(*T, *http.Request)) func(context.Context, *http.Request) (any, error) {
	return func(_ context.Context, r *http.Request) (any, error) {
		var req T
		if !(allowEmpty && r.ContentLength == 0) {
			if err := kit.DecodeJSON(r, &req, 0); err != nil {
				return nil, err
			}
		}
		if path != nil {
			path(&req, r)
		}
		if v, ok := any(&req).(kit.Validator); ok {
			if err := v.Validate(); err != nil {
				return nil, err
			}
		}
		return req, nil
	}
}

// Response is the HTTP answer of a successful command: the Result, with
// status 201 when events were written and 200 for a replay or a no-op.
type Response struct {
	Result
}

// StatusCode implements kit.StatusCoder.
func (r Response) StatusCode() int {
	if len(r.EventIDs) > 0 && !r.Replayed {
		return http.StatusCreated
	}
	return http.StatusOK
}

// EncodeResponse is the go-kit httptransport.EncodeResponseFunc of command
// endpoints (JSON, status from Response.StatusCode).
func EncodeResponse(ctx context.Context, w http.ResponseWriter, resp any) error {
	if res, ok := resp.(Result); ok {
		resp = Response{res}
	}
	return kit.EncodeJSON(ctx, w, resp)
}

// NotFoundHandler answers unknown routes with the JSON error body.
func NotFoundHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kit.EncodeError(r.Context(), kitNotFound(r), w)
	})
}
