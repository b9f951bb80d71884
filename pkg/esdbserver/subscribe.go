package esdbserver

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Subscriptions never buffer live events: each one reads the committed log
// (pebble) from the last position it delivered, then waits for the next
// commit. Catch-up and live are the same loop, so nothing can fall between
// them, and a slow consumer only slows itself.

// defaultWindow is KurrentDB's filter search window (and checkpoint unit).
const defaultWindow = 32

func confirmation() *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuidString(newUUID())}}}
}

var caughtUp = &streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}

func (s *Server) subscribeStream(ctx context.Context, out streams.Streams_ReadServer, name string, so *streams.ReadReq_Options_StreamOptions, resolveLinks, strUUID bool) error {
	vis, info := s.streamVisibility(name)
	if vis.tombstone {
		return streamDeleted(name)
	}
	// liveaccess.go; "$$$all" re-checks $all, not a stream named $all
	watch, err := s.watchAccess(ctx, name, name != "$all")
	if err != nil {
		return err
	}
	var next uint64
	switch r := so.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Revision:
		next = min(r.Revision, math.MaxInt64-1) + 1 // exclusive
	case *streams.ReadReq_Options_StreamOptions_Start:
		next = 0
	default:
		next = uint64(info.Last + 1)
	}
	if err := out.Send(confirmation()); err != nil {
		return err
	}
	enc := newEventEncoder(strUUID)
	done := s.done(ctx)
	caught := false
	for {
		wait := s.store.waitCh()
		for {
			vis, info = s.streamVisibility(name)
			if !info.Tombstoned && int64(next) > info.Last {
				break
			}
			var page []*record
			if err := s.store.scanStream(name, next, false, func(r *record) bool {
				page = append(page, r)
				return len(page) < readPage
			}); err != nil {
				return storeError(err)
			}
			if len(page) == 0 {
				break
			}
			cut, err := watch.deniedAt()
			if err != nil {
				return storeError(err)
			}
			for _, r := range page {
				if cut != 0 && r.Position > cut {
					return accessDenied()
				}
				if r.Revision == tombstoneRevision {
					if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_Event{Event: s.resolve(ctx, r, false, strUUID)}}); err != nil {
						return err
					}
					return streamDeleted(name)
				}
				next = r.Revision + 1
				// Only the catch-up applies the stream's metadata
				// (KurrentDB reads it with ReadStreamEventsForward);
				// live events are pushed as committed, whatever
				// $maxCount, $maxAge or $tb say (SubscriptionsService.cs
				// 440-455, Enumerator.StreamSubscription.cs 202-229).
				// Events committed before caught_up are catch-up.
				if !caught && !vis.visible(r) {
					continue
				}
				if err := out.SendMsg(enc.message(ctx, s, r, resolveLinks)); err != nil {
					return err
				}
			}
		}
		cut, err := watch.deniedAt()
		if err != nil {
			return storeError(err)
		}
		if cut != 0 {
			return accessDenied()
		}
		if !caught {
			caught = true
			if err := out.Send(caughtUp); err != nil {
				return err
			}
		}
		select {
		case <-wait:
		case <-done:
			return ctxErr(ctx)
		}
	}
}

func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Error(codes.Unavailable, "server is shutting down")
}

// errNoFilterExpression answers a filter with neither a stream nor an
// event-type expression as KurrentDB's ConvertToEventFilter does:
// RpcExceptions.InvalidArgument(filter), "'{filter}' is not a valid {type}",
// where {filter} is the message's ToString, Google.Protobuf's diagnostic
// JSON: "{ " and " }" around the fields set ("{ }" for none), ", " between
// them, ": " after each camel-case name, fields in number order; the
// window oneof's member even when zero (it has presence), the checkpoint
// multiplier only when not zero, 32-bit numbers unquoted, the Empty
// message as "{ }".
func errNoFilterExpression(f *streams.ReadReq_Options_FilterOptions) error {
	var fields []string
	switch w := f.GetWindow().(type) {
	case *streams.ReadReq_Options_FilterOptions_Max:
		fields = append(fields, `"max": `+strconv.FormatUint(uint64(w.Max), 10))
	case *streams.ReadReq_Options_FilterOptions_Count:
		fields = append(fields, `"count": { }`)
	}
	if m := f.GetCheckpointIntervalMultiplier(); m != 0 {
		fields = append(fields, `"checkpointIntervalMultiplier": `+strconv.FormatUint(uint64(m), 10))
	}
	text := "{ }"
	if len(fields) > 0 {
		text = "{ " + strings.Join(fields, ", ") + " }"
	}
	return status.Error(codes.InvalidArgument, "'"+text+"' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions")
}

// readFilter builds the matcher of a filtered Read (nil: no filter),
// refusing a malformed filter as Streams.Read.cs does before it reads
// anything: no expression, or a regex that does not compile
// (ConvertToEventFilter: .NET's Regex constructor throws, the handler's
// exception; see filterRegex), then no window (ConvertToWindow,
// InvalidArgument naming the .NET oneof-case enum). A stream-name filter of
// prefixes only, one of them "$idx-", is an index read there, which takes
// no window; we do not serve index reads, but do not refuse such a filter
// for its window either.
func readFilter(f *streams.ReadReq_Options_FilterOptions) (recordMatch, error) {
	if f == nil {
		return nil, nil
	}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	byType := false
	switch v := f.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = v.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		expr, byType = v.EventType, true
	default:
		return nil, errNoFilterExpression(f)
	}
	match, err := (&streamsFilterExpr{regex: expr.GetRegex(), prefixes: expr.GetPrefix()}).matcher(byType)
	if err != nil {
		return nil, err
	}
	indexRead := !byType && expr.GetRegex() == "" && slices.ContainsFunc(expr.GetPrefix(), func(p string) bool { return strings.HasPrefix(p, "$idx-") })
	if f.GetWindow() == nil && !indexRead {
		return nil, status.Error(codes.InvalidArgument, "'None' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions+WindowOneofCase")
	}
	return match, nil
}

// streamsFilterExpr is a filter expression: a regex or a list of prefixes,
// on the stream name or on the event type.
type streamsFilterExpr struct {
	regex    string
	prefixes []string
}

// recordMatch reports whether a filter selects a record; an error means it
// could not decide (a regex that ran out of time, filterRegex), and ends
// the read, subscription or group's read that asked.
type recordMatch func(*record) (bool, error)

// matcher compiles e: its regex through filterRegex (an error is the
// handler's exception), or, when the regex is empty, its prefixes.
func (e *streamsFilterExpr) matcher(byType bool) (recordMatch, error) {
	field := func(r *record) string {
		if byType {
			return r.Type
		}
		return r.Stream
	}
	if e.regex != "" {
		match, err := filterRegex(e.regex)
		if err != nil {
			return nil, err
		}
		return func(r *record) (bool, error) { return match(field(r)) }, nil
	}
	prefixes := e.prefixes
	return func(r *record) (bool, error) {
		v := field(r)
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

func checkpoint(pos uint64) *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos}}}
}

// subItem is one message of a subscription page: an encoded event (a
// range of the page's arena), a link to resolve, or a checkpoint; pos is
// the position of its event.
type subItem struct {
	kind       byte
	start, end int
	pos        uint64
	rec        *record
}

// maxPageBytes ends a subscription page early when its events are large.
const maxPageBytes = 4 << 20

const (
	itemFrame byte = iota
	itemRecord
	itemCheckpoint
)

// subscribeAll serves a subscription to $all; match is its filter's
// matcher (readFilter), nil for none.
func (s *Server) subscribeAll(ctx context.Context, out streams.Streams_ReadServer, o *streams.ReadReq_Options, match recordMatch, strUUID bool) error {
	watch, err := s.watchAccess(ctx, "$all", true) // liveaccess.go
	if err != nil {
		return err
	}
	filter := o.GetFilter()
	interval := uint64(0)
	if filter != nil {
		window := uint64(defaultWindow)
		if m := filter.GetMax(); m > 0 {
			window = uint64(m)
		}
		mult := uint64(filter.GetCheckpointIntervalMultiplier())
		if mult == 0 {
			mult = 1
		}
		interval = window * mult
	}
	var next uint64 // next position to consider
	switch p := o.GetAll().GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		next = min(p.Position.GetCommitPosition(), math.MaxUint64-1) + 1 // exclusive
	case *streams.ReadReq_Options_AllOptions_Start:
		next = 0
	default:
		next = s.store.head.Load() + 1
	}
	if err := out.Send(confirmation()); err != nil {
		return err
	}
	enc := newEventEncoder(strUUID)
	done := s.done(ctx)
	caught := false
	resolveLinks := o.GetResolveLinks()
	var considered, lastScanned, lastCheckpoint uint64
	// A page is read from pebble straight into wire form (arena, items)
	// without copying records, and sent once the iterator is closed: a
	// slow consumer never holds pebble's memory. Each page has its own
	// arena, handed to gRPC without another copy.
	var arena []byte
	var items []subItem
	for {
		wait := s.store.waitCh()
		for next <= s.store.head.Load() {
			// Size the arena for the events waiting (a live wake-up is
			// usually one), at the last page's bytes per event.
			waiting := min(s.store.head.Load()-next+1, readPage)
			perEvent := uint64(256)
			if len(items) > 0 {
				perEvent = max(uint64(len(arena)/len(items)), 64)
			}
			arena, items = make([]byte, 0, min(waiting*perEvent, maxPageBytes)), items[:0]
			scanned := 0
			var matchErr error
			if err := s.store.scanAllRecords(next, false, false, func(r *record) bool {
				next = r.Position + 1
				scanned++
				if excludedFromAll(r.Stream) {
					return scanned < readPage
				}
				lastScanned = r.Position
				selected := true
				if match != nil {
					if selected, matchErr = match(r); matchErr != nil {
						return false
					}
				}
				if selected {
					if resolveLinks && r.Type == "$>" {
						// Kept past the scan, which reuses r.
						rc := *r
						rc.Metadata, rc.Data = bytes.Clone(r.Metadata), bytes.Clone(r.Data)
						items = append(items, subItem{kind: itemRecord, rec: &rc, pos: r.Position})
					} else {
						start := len(arena)
						arena = enc.appendEncoded(arena, r)
						items = append(items, subItem{kind: itemFrame, start: start, end: len(arena), pos: r.Position})
					}
				}
				if interval > 0 {
					if considered++; considered >= interval {
						considered = 0
						if r.Position > lastCheckpoint {
							lastCheckpoint = r.Position
							items = append(items, subItem{kind: itemCheckpoint, pos: r.Position})
						}
					}
				}
				return scanned < readPage && len(arena) < maxPageBytes
			}); err != nil {
				return storeError(err)
			}
			if matchErr != nil {
				return matchErr
			}
			if scanned == 0 {
				break
			}
			cut, err := watch.deniedAt()
			if err != nil {
				return storeError(err)
			}
			for _, it := range items {
				if cut != 0 && it.pos > cut {
					return accessDenied()
				}
				var msg any
				switch it.kind {
				case itemFrame:
					msg = &wireFrame{b: arena[it.start:it.end:it.end], owned: true}
				case itemRecord:
					msg = enc.message(ctx, s, it.rec, true)
				default:
					msg = checkpoint(it.pos)
				}
				if err := out.SendMsg(msg); err != nil {
					return err
				}
			}
		}
		cut, err := watch.deniedAt()
		if err != nil {
			return storeError(err)
		}
		if cut != 0 {
			return accessDenied()
		}
		if !caught {
			caught = true
			if interval > 0 && lastScanned > lastCheckpoint {
				lastCheckpoint = lastScanned
				if err := out.Send(checkpoint(lastScanned)); err != nil {
					return err
				}
			}
			if err := out.Send(caughtUp); err != nil {
				return err
			}
			// The live count of events toward a checkpoint starts at 0
			// (Enumerator.AllSubscriptionFiltered.cs 380-388); the
			// catch-up's remainder does not carry over.
			considered = 0
		}
		select {
		case <-wait:
		case <-done:
			return ctxErr(ctx)
		}
	}
}
