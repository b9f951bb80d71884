package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// ExportOptions say whose history to export: exactly one of CraftsmanID
// (their craftsman-<id> stream) and AcademyID (the academy-<id> stream and
// every event the academy issued or that names it as academyId).
type ExportOptions struct {
	CraftsmanID string
	AcademyID   string
	// RecordedBy, when set, keeps only events recorded by then.
	RecordedBy time.Time
	Progress   ProgressFunc
}

// CSVHeader returns the header row of a CSV export (a fresh copy each call).
func CSVHeader() []string { return slices.Clone(csvHeader) }

var csvHeader = []string{"position", "stream", "revision", "event_id", "type", "recorded", "occurred", "issuer",
	"acting_user", "source", "correlation_id", "causation_id", "prev_hash", "hash", "data"}

// NewCSVWriter writes events as CSV rows under CSVHeader(): the metadata's
// fields in columns, the data as its JSON text, each cell SpreadsheetText.
// The header is written with the first row, or by Close when there is none
// (a successful empty result); a writer dropped without Close after a
// failure has written nothing, so a failed export is no header-only file.
// The error is always nil (kept for callers).
func NewCSVWriter(w io.Writer) (Writer, error) {
	return &csvWriter{c: csv.NewWriter(w)}, nil
}

type csvWriter struct {
	c      *csv.Writer
	headed bool
}

func (c *csvWriter) header() error {
	if c.headed {
		return nil
	}
	c.headed = true
	return c.c.Write(csvHeader)
}

func (c *csvWriter) Write(e *eventstore.RecordedEvent) error {
	if err := c.header(); err != nil {
		return err
	}
	m := metaFields(e.Metadata)
	occ := ""
	if !m.OccurredAt.IsZero() {
		occ = m.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	row := []string{strconv.FormatUint(e.Position.Commit, 10), e.Stream, strconv.FormatUint(e.Revision, 10), e.ID, e.Type,
		e.Created.UTC().Format(time.RFC3339Nano), occ, m.IssuerOrgID, m.ActingUserID, m.Source, m.CorrelationID, m.CausationID,
		m.PrevHash, m.Hash, string(e.Data)}
	for i, v := range row {
		row[i] = SpreadsheetText(v)
	}
	return c.c.Write(row)
}

// SpreadsheetText returns v as a CSV cell a spreadsheet opens as text: a
// value it would read as a formula (starting with = + - @, a tab or a
// carriage return) gets a leading ' (OWASP's CSV injection advice), so an
// id a client sent, say a correlation id =HYPERLINK(…) or
// +cmd|' /C calc'!A0 stored before the services checked them, is shown,
// not run. The web UI's CSV export does the same (csvCell in
// graphql/web/assets/app.js).
func SpreadsheetText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (c *csvWriter) Close() error {
	if err := c.header(); err != nil {
		return err
	}
	c.c.Flush()
	return c.c.Error()
}

// Export writes a craftsman's or an academy's history to w, in stream
// order for a craftsman and in $all order for an academy, and returns how
// many events it wrote; nothing to write (no event of the craftsman
// recorded by RecordedBy, no event naming the academy) is errs.NotFound.
// It closes w when it succeeds, or after a failure when it wrote something
// (a writer on stdout shows it); a failure before the first event leaves w
// unclosed, so nothing (no CSV header) is written.
func Export(ctx context.Context, st eventstore.Store, opts ExportOptions, w Writer) (int64, error) {
	if (opts.CraftsmanID == "") == (opts.AcademyID == "") {
		return 0, errs.E(errs.InvalidArgument, "export: give a craftsman or an academy")
	}
	tk := newTicker(opts.Progress, "export")
	var n int64
	write := func(e *eventstore.RecordedEvent) error {
		n++
		return w.Write(e)
	}
	var err error
	var scanned int64 // what the progress reports: events read, exported or not
	if opts.CraftsmanID != "" {
		stream := events.CraftsmanStream(opts.CraftsmanID)
		scanned, err = scan(ctx, st, Scope{Stream: stream}, Range{RecordedBy: opts.RecordedBy}, tk, write)
		if err != nil {
			err = fmt.Errorf("export craftsman %s: %w", opts.CraftsmanID, err)
		} else if n == 0 {
			// As for an academy: nothing to export is an error, not an
			// empty file (the stream has events, none recorded by then).
			by := ""
			if !opts.RecordedBy.IsZero() {
				by = " recorded by " + opts.RecordedBy.UTC().Format(time.RFC3339Nano)
			}
			err = errs.E(errs.NotFound, "export craftsman %s: no events%s", opts.CraftsmanID, by)
		}
	} else {
		id := opts.AcademyID
		stream := events.AcademyStream(id)
		// The ids of the events exported so far, and the streams they are
		// on: a correction of one of them, whoever recorded it (an
		// administrator's retraction), is part of the academy's history.
		exported := map[string]bool{}
		onStream := map[string]bool{}
		scanned, err = scan(ctx, st, Scope{}, Range{RecordedBy: opts.RecordedBy}, tk, func(e *eventstore.RecordedEvent) error {
			if e.Stream == stream || namesAcademy(e.Data, id) || issuedBy(e.Metadata, id) || correctsOneOf(e, exported, onStream) {
				exported[e.ID], onStream[e.Stream] = true, true
				return write(e)
			}
			return nil
		})
		if err != nil {
			err = fmt.Errorf("export academy %s: %w", id, err)
		} else if n == 0 {
			err = errs.E(errs.NotFound, "export academy %s: no events name it", id)
		}
	}
	if err == nil || n > 0 {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	// The bar counted the events read while it ran; it ends on the same
	// count (the exported ones are fewer for an academy).
	tk.done(scanned)
	return n, err
}

// correctsOneOf reports whether e is an EventCorrected superseding one of
// the exported events (a correction of a correction too: the first is
// exported by then). Its supersedesEventId is read as the domain's decoder
// reads it; data too ambiguous to read (the name twice) counts when its
// stream holds an exported event, so an export hides nothing an auditor
// should see.
func correctsOneOf(e *eventstore.RecordedEvent, exported, onStream map[string]bool) bool {
	if baseType(e.Type) != "EventCorrected" {
		return false
	}
	var f orgRefs
	if err := scanOrgRefs(e.Data, &f); err != nil {
		return onStream[e.Stream]
	}
	return exported[string(f.SupersedesEventID)]
}

// issuedBy reports whether metadata names id as its issuer; ambiguous
// metadata (a repeated issuerOrgId) counts when it names id anywhere, so
// an export hides nothing an auditor should see.
func issuedBy(meta []byte, id string) bool {
	iss, err := metaIssuer(meta)
	return iss == id || errors.Is(err, errDuplicate) && bytes.Contains(meta, []byte(strconv.Quote(id)))
}

// namesAcademy reports whether an event's data names academy id in its
// academyId, read as the domain's decoder reads it (any case, escapes);
// data that cannot be read unambiguously counts when its bytes hold the
// id, so an export hides nothing an auditor should see.
func namesAcademy(data []byte, id string) bool {
	q := []byte(strconv.Quote(id)[1:])
	q = q[:len(q)-1]
	if !bytes.Contains(data, q) && bytes.IndexByte(data, '\\') < 0 {
		return false // the common case: the id is not there at all
	}
	var f orgRefs
	if err := scanOrgRefs(data, &f); err != nil {
		return bytes.Contains(data, q)
	}
	return string(f.AcademyID) == id
}

// metaFields decodes the metadata fields an export shows (both writers);
// it shows what it can: verify reports bad metadata.
func metaFields(b []byte) events.Metadata {
	var m events.Metadata
	_ = json.Unmarshal(b, &m)
	return m
}
