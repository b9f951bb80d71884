package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// ReplayOptions say what to replay.
type ReplayOptions struct {
	Scope
	Range
	// Parallel is how many concurrent reads of $all read a category or
	// all; events still come in $all order: 0 = DefaultParallel(), 1 = one
	// sequential read (see VerifyOptions.Parallel).
	Parallel int
	Progress ProgressFunc
}

// Replay calls fn for every event of the scope within the range, in stream
// order for a stream and in $all order otherwise (system events skipped),
// and returns how many it passed. Events are exactly as stored.
func Replay(ctx context.Context, st eventstore.Store, opts ReplayOptions, fn func(*eventstore.RecordedEvent) error) (int64, error) {
	return replayPlanned(ctx, st, opts, readPlan{parallel: parallelOr(opts.Parallel)}, fn)
}

func replayPlanned(ctx context.Context, st eventstore.Store, opts ReplayOptions, plan readPlan, fn func(*eventstore.RecordedEvent) error) (int64, error) {
	tk := newTicker(opts.Progress, "replay")
	n, err := scanWith(ctx, st, opts.Scope, opts.Range, tk, plan, fn)
	if err != nil {
		return n, err
	}
	if n == 0 && opts.Scope.Category != "" {
		if err := categoryExists(ctx, st, opts.Scope.Category, opts.Range); err != nil {
			return 0, err
		}
	}
	tk.done(n)
	return n, nil
}

// errFound stops categoryExists' read at the category's first event.
var errFound = errors.New("found")

// categoryExists answers errs.NotFound when no stream of category has any
// event — a mistyped category, as Verify refuses it — so that a replay of
// it is not an empty success. A category with events outside rg (nothing
// recorded by then, a position range before it) is an empty replay, not an
// error. rg zero: the replay read everything already.
func categoryExists(ctx context.Context, st eventstore.Store, category string, rg Range) error {
	if rg != (Range{}) {
		_, err := scan(ctx, st, Scope{Category: category}, Range{}, nil, func(*eventstore.RecordedEvent) error { return errFound })
		if errors.Is(err, errFound) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errs.E(errs.NotFound, "replay: category %s has no events (a category is the part of a stream name before its first '-': craftsman, competition, mentorship, …)", category)
}

// Writer writes replayed events somewhere; Close flushes (and writes a
// table's or CSV's header when no event came). A caller that fails before
// the first event drops the writer without Close: nothing is written.
type Writer interface {
	Write(e *eventstore.RecordedEvent) error
	Close() error
}

// Line is one event of a JSON Lines replay. Data and Metadata are the
// stored bytes verbatim when they are one line of valid JSON; otherwise
// they are absent and DataBase64 / MetadataBase64 carry the exact bytes.
type Line struct {
	Stream         string              `json:"stream"`
	Revision       uint64              `json:"revision"`
	ID             string              `json:"id"`
	Type           string              `json:"type"`
	Position       eventstore.Position `json:"position"`
	Recorded       time.Time           `json:"recorded"`
	Data           json.RawMessage     `json:"data,omitempty"`
	DataBase64     string              `json:"dataBase64,omitempty"`
	Metadata       json.RawMessage     `json:"metadata,omitempty"`
	MetadataBase64 string              `json:"metadataBase64,omitempty"`
}

// Event returns the stored event a line describes, byte for byte.
func (l *Line) Event() (eventstore.RecordedEvent, error) {
	e := eventstore.RecordedEvent{Stream: l.Stream, Revision: l.Revision, ID: l.ID, Type: l.Type, Position: l.Position, Created: l.Recorded}
	var err error
	if e.Data, err = rawOr(l.Data, l.DataBase64); err != nil {
		return e, fmt.Errorf("line %s@%d data: %w", l.Stream, l.Revision, err)
	}
	if e.Metadata, err = rawOr(l.Metadata, l.MetadataBase64); err != nil {
		return e, fmt.Errorf("line %s@%d metadata: %w", l.Stream, l.Revision, err)
	}
	return e, nil
}

func rawOr(r json.RawMessage, b64 string) ([]byte, error) {
	if b64 != "" {
		return base64.StdEncoding.DecodeString(b64)
	}
	if len(r) == 0 {
		return []byte{}, nil
	}
	return []byte(r), nil
}

// ReadLines decodes a JSON Lines replay, calling fn for each event. A
// line that could be read two ways (checkLine) is an error
// (errs.InvalidArgument), as is malformed JSON.
func ReadLines(r io.Reader, fn func(eventstore.RecordedEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := checkLine(sc.Bytes()); err != nil {
			return errs.E(errs.InvalidArgument, "line %d: %v", n, err)
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return errs.E(errs.InvalidArgument, "line %d: %v", n, err)
		}
		e, err := l.Event()
		if err != nil {
			return errs.E(errs.InvalidArgument, "line %d: %v", n, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return sc.Err()
}

// lineMembers are the members of a Line, named exactly as AppendLine
// writes them.
var lineMembers = [...]string{"stream", "revision", "id", "type", "position", "recorded", "data", "dataBase64", "metadata", "metadataBase64"}

// checkLine refuses a line that could be read two ways: encoding/json
// matches member names case-insensitively and keeps the last of repeated
// ones, and a line could carry data both verbatim and as base64 (the
// verifier hashing one, a reader seeing the other). A line must name each
// member at most once, exactly as AppendLine writes it (no escapes, no
// other members), and give data and metadata one way each.
func checkLine(b []byte) error {
	var seen uint32
	i, err := scanObject(b, skipSpace(b, 0), func(key, val []byte, _ bool) error {
		bit := -1
		for k, name := range lineMembers {
			if string(key) == name {
				bit = k
				break
			}
		}
		if bit < 0 {
			return fmt.Errorf("unknown member %q (a replay line has %v, named exactly so)", key, lineMembers)
		}
		if seen&(1<<bit) != 0 {
			return fmt.Errorf("member %q repeated: ambiguous", key)
		}
		seen |= 1 << bit
		if lineMembers[bit] != "position" {
			return nil
		}
		var inner uint32
		_, err := scanObject(val, 0, func(k, _ []byte, _ bool) error {
			var b uint32
			switch string(k) {
			case "commit":
				b = 1
			case "prepare":
				b = 2
			default:
				return fmt.Errorf("position: unknown member %q (commit, prepare)", k)
			}
			if inner&b != 0 {
				return fmt.Errorf("position: member %q repeated: ambiguous", k)
			}
			inner |= b
			return nil
		})
		if err != nil && errors.Is(err, errBadJSON) {
			return fmt.Errorf("position is not an object of commit and prepare")
		}
		return err
	})
	if err != nil {
		return err
	}
	if skipSpace(b, i) != len(b) {
		return errBadJSON
	}
	for _, pair := range [...][2]int{{6, 7}, {8, 9}} {
		if seen&(1<<pair[0]) != 0 && seen&(1<<pair[1]) != 0 {
			return fmt.Errorf("both %s and %s: a line gives its %s one way only", lineMembers[pair[0]], lineMembers[pair[1]], lineMembers[pair[0]])
		}
	}
	return nil
}

// NewJSONLWriter writes one Line per event to w.
func NewJSONLWriter(w io.Writer) Writer {
	return &jsonlWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonlWriter) Write(e *eventstore.RecordedEvent) error {
	j.buf = AppendLine(j.buf[:0], e)
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }

// AppendLine appends the JSON Lines form of e (a Line and a newline) to b.
// It writes the JSON by hand, without reflection: replay is meant to run
// at the store's read rate.
func AppendLine(b []byte, e *eventstore.RecordedEvent) []byte {
	b = append(b, `{"stream":`...)
	b = appendString(b, e.Stream)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, e.Revision, 10)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"position":{"commit":`...)
	b = strconv.AppendUint(b, e.Position.Commit, 10)
	b = append(b, `,"prepare":`...)
	b = strconv.AppendUint(b, e.Position.Prepare, 10)
	b = append(b, `},"recorded":"`...)
	b = e.Created.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendRaw(b, "data", e.Data)
	b = appendRaw(b, "metadata", e.Metadata)
	return append(b, '}', '\n')
}

func appendRaw(b []byte, name string, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	if oneLineJSON(v) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		return append(b, v...)
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `Base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// oneLineJSON reports whether v is valid JSON with no line break (raw
// newlines can only be whitespace outside strings in valid JSON) and no
// leading or trailing space (which encoding/json would drop on reading).
func oneLineJSON(v []byte) bool {
	return bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 &&
		len(bytes.TrimSpace(v)) == len(v) && validJSON(v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// NewTableWriter writes a readable table: position, stream@revision,
// type, record time, occurrence time, issuer and event id.
// The header is written with the first row, or by Close when there is
// none (as NewCSVWriter's).
func NewTableWriter(w io.Writer) Writer {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
}

type tableWriter struct {
	tw     *tabwriter.Writer
	n      int
	headed bool
}

func (t *tableWriter) header() {
	if !t.headed {
		t.headed = true
		fmt.Fprintln(t.tw, "POSITION\tSTREAM@REV\tTYPE\tRECORDED\tOCCURRED\tISSUER\tEVENT ID")
	}
}

func (t *tableWriter) Write(e *eventstore.RecordedEvent) error {
	t.header()
	m := metaFields(e.Metadata)
	occ := "-"
	if !m.OccurredAt.IsZero() {
		occ = m.OccurredAt.UTC().Format(time.DateOnly)
	}
	iss := m.IssuerOrgID
	if iss == "" {
		iss = "-"
	}
	_, err := fmt.Fprintf(t.tw, "%d\t%s@%d\t%s\t%s\t%s\t%s\t%s\n", e.Position.Commit, e.Stream, e.Revision, e.Type,
		e.Created.UTC().Format("2006-01-02 15:04:05"), occ, iss, e.ID)
	t.n++
	if t.n%1024 == 0 {
		if ferr := t.tw.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (t *tableWriter) Close() error {
	t.header()
	return t.tw.Flush()
}
