package command

import (
	"bufio"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Back-fill formats, chosen by the request's Content-Type.
const (
	FormatJSONLines = "jsonl" // application/x-ndjson, application/jsonl, application/json-seq is not accepted
	FormatCSV       = "csv"   // text/csv
)

// BackfillHandler serves a bulk back-fill over HTTP: the body is a JSON
// Lines or CSV file (by Content-Type), the answer (200,
// application/x-ndjson) streams one LineResult per line as lines finish,
// then a final {"summary":{...}} line. A request refused as a whole (bad
// content type, not permitted) gets the usual error answer via Encode.
type BackfillHandler struct {
	Backfill Backfill
	// Prepare returns the PrepareFunc for this request and format; an error
	// refuses the whole request (errs.PermissionDenied, or
	// errs.InvalidArgument for an unsupported format).
	Prepare func(ctx context.Context, format string) (PrepareFunc, error)
	// Encode writes a whole-request error (kit.EncodeError).
	Encode func(ctx context.Context, err error, w http.ResponseWriter)
	// MaxBytes bounds the body; 0 = 1 GiB.
	MaxBytes int64
}

// SummaryLine is the last line of a back-fill answer.
type SummaryLine struct {
	Summary Summary `json:"summary"`
	// Error is set when the input could not be read to its end.
	Error string `json:"error,omitempty"`
}

func (h BackfillHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	format := ""
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		format = FormatJSONLines
	case "text/csv":
		format = FormatCSV
	default:
		h.Encode(ctx, errs.E(errs.InvalidArgument, "content type must be application/x-ndjson (JSON Lines) or text/csv, got %q", r.Header.Get("Content-Type")), w)
		return
	}
	// The file is read as UTF-8 and never converted: a file declared in
	// another charset (a GBK spreadsheet export) is refused as a whole,
	// before anything is read; an undeclared one's lines that are not
	// UTF-8 are refused one by one (CSV, DecodeLine).
	if err := kit.CheckCharset(r.Header.Get("Content-Type")); err != nil {
		h.Encode(ctx, err, w)
		return
	}
	prepare, err := h.Prepare(ctx, format)
	if err != nil {
		h.Encode(ctx, err, w)
		return
	}
	max := h.MaxBytes
	if max <= 0 {
		max = 1 << 30
	}
	body := http.MaxBytesReader(w, r.Body, max)
	rc := http.NewResponseController(w)
	// Results stream out while the file is still coming in (HTTP/1.1
	// servers otherwise close the request body at the first flush).
	_ = rc.EnableFullDuplex()
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	last := time.Now()
	emit := func(lr LineResult) {
		_ = enc.Encode(lr)
		if time.Since(last) > 200*time.Millisecond {
			_ = bw.Flush()
			_ = rc.Flush()
			last = time.Now()
		}
	}
	var sum Summary
	if format == FormatCSV {
		sum, err = h.Backfill.CSV(ctx, body, prepare, emit)
	} else {
		sum, err = h.Backfill.JSONLines(ctx, body, prepare, emit)
	}
	end := SummaryLine{Summary: sum}
	if err != nil {
		end.Error = err.Error()
	}
	_ = enc.Encode(end)
	_ = bw.Flush()
	_ = rc.Flush()
}
