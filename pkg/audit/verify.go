package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/internal/keytable"
	"github.com/craftledger/craftledger/pkg/internal/streammeta"
)

// Finding kinds.
const (
	// KindChain: the hash chain breaks — a changed byte, a dropped,
	// inserted or reordered event, an unsealed event. Only the first break
	// of a stream is reported; its later events are not chain-checked.
	KindChain = "chain"
	// KindGap: revisions of a stream are not consecutive from 0.
	KindGap = "gap"
	// KindIssuer: the event's issuer (metadata issuerOrgId) was not allowed
	// to record it under IssuerRules.
	KindIssuer = "issuer"
)

// Finding is one problem Verify found.
type Finding struct {
	Kind     string `json:"kind"`
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	EventID  string `json:"eventId,omitempty"`
	Type     string `json:"type,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	Reason   string `json:"reason"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s@%d (%s): %s", f.Kind, f.Stream, f.Revision, f.Type, f.Reason)
}

// VerifyOptions say what to verify.
type VerifyOptions struct {
	Scope
	// SkipIssuers turns the issuer check off (chain and gaps only).
	SkipIssuers bool
	// PlatformOrgs may record anything (default: PlatformOrg).
	PlatformOrgs []string
	// Workers verify streams in parallel (default GOMAXPROCS).
	Workers int
	// Parallel is how many concurrent reads of $all read a category or
	// all, in chunks handed to the verifier in $all order, so the findings
	// are the same as a sequential read's: 0 = DefaultParallel(), 1 = one
	// sequential read. A log too small to split (under ~1,000 events), or
	// a store whose positions cannot be probed, is read sequentially.
	Parallel int
	// MaxFindings bounds the findings kept in the report (default
	// DefaultMaxFindings); the rest are only counted (Report.Omitted).
	MaxFindings int
	Progress    ProgressFunc
	// Partial says a feed holds part of the history on purpose (an
	// export, a replay from a position or revision): revisions missing
	// from it are counted (Report.PartialStreams, MissingRevisions), not
	// findings. Either way the events after missing revisions are checked
	// on their own (their hash over their content and their stored
	// prevHash) and chained from there. Verify from the store ignores it.
	Partial bool
}

// DefaultMaxFindings is how many findings a report lists by default.
const DefaultMaxFindings = 10000

// PlatformOrg is the organisation the services record when the caller has
// none (administrators, system work): it may record anything.
const PlatformOrg = "craftledger"

// Report is Verify's answer.
type Report struct {
	Scope    string    `json:"scope"`
	Events   int64     `json:"events"`
	Streams  int       `json:"streams"`
	Broken   int       `json:"brokenStreams"`
	Findings []Finding `json:"findings"`
	// Omitted counts findings beyond MaxFindings, not listed.
	Omitted int `json:"omittedFindings,omitempty"`
	// PartialStreams counts the streams of a partial feed
	// (VerifyOptions.Partial) with revisions missing from it, and
	// MissingRevisions those revisions: their events, and the links
	// across them, could not be checked.
	PartialStreams   int    `json:"partialStreams,omitempty"`
	MissingRevisions uint64 `json:"missingRevisions,omitempty"`
	// NotJudged counts the events of a feed verified without a store
	// whose issuer rule needs a competition or a pairing that the feed
	// does not hold (VerifyFeed): their issuer was not checked. Against a
	// store such an event is a finding.
	NotJudged int           `json:"notJudged,omitempty"`
	OK        bool          `json:"ok"`
	Elapsed   time.Duration `json:"elapsedNs"`
	Rate      float64       `json:"eventsPerSecond"`
}

// Err is nil when the report is clean, otherwise an error naming the
// first finding (errs.FailedPrecondition).
func (r *Report) Err() error {
	if r.OK {
		return nil
	}
	return errs.E(errs.FailedPrecondition, "verify %s: %d finding(s), first: %s", r.Scope, len(r.Findings), r.Findings[0])
}

// Verify checks every stream of the scope: the hash chain of each event
// against its predecessor (a chain.Verifier per worker over the stored
// bytes), consecutive revisions from 0, and — unless SkipIssuers — that
// each event's issuer was allowed to record it (IssuerRules). It reads the
// store once, in $all order (or the stream's order), and verifies streams
// in parallel. A failing store is an error; findings are in the report.
func Verify(ctx context.Context, st eventstore.Store, opts VerifyOptions) (*Report, error) {
	return verifyPlanned(ctx, st, opts, readPlan{parallel: parallelOr(opts.Parallel)})
}

func verifyPlanned(ctx context.Context, st eventstore.Store, opts VerifyOptions, plan readPlan) (*Report, error) {
	tk := newTicker(opts.Progress, "verify")
	plan.system = true // streams' $metadata: truncations $all does not show
	return verify(ctx, st, false, opts, tk, func(fn func(*eventstore.RecordedEvent) error) (int64, error) {
		return scanWith(ctx, st, opts.Scope, Range{}, tk, plan, fn)
	})
}

// Feed supplies events to VerifyFeed, calling yield for each in order
// (each stream's events in revision order), and stops at yield's first
// error.
type Feed func(yield func(*eventstore.RecordedEvent) error) error

// SliceFeed feeds events from memory.
func SliceFeed(evs []eventstore.RecordedEvent) Feed {
	return func(yield func(*eventstore.RecordedEvent) error) error {
		for i := range evs {
			if err := yield(&evs[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// LinesFeed feeds the events of a JSON Lines replay or export (Line per
// line), so a file can be verified offline.
func LinesFeed(r io.Reader) Feed {
	return func(yield func(*eventstore.RecordedEvent) error) error {
		return ReadLines(r, func(e eventstore.RecordedEvent) error { return yield(&e) })
	}
}

// VerifyFeed is Verify over events from feed instead of the store — a
// replay file, events in memory — keeping those of opts.Scope. st, when
// not nil, answers the issuer rule's look-ups of streams the feed lacks
// (a competition's organiser), and a fact it lacks too is a finding;
// without it those events are not judged (Report.NotJudged counts them).
//
// Its verdict does not depend on how the workers are scheduled: an event
// whose issuer rule needs a fact of another stream (a competition's
// organiser, a pairing's organisations) that no worker has learnt from
// that stream's first event yet is judged after the whole feed is read,
// from that stream's first event in the feed, else the store's, else a
// copy of the fact on another stream (the earliest in the feed).
func VerifyFeed(ctx context.Context, st eventstore.Store, opts VerifyOptions, feed Feed) (*Report, error) {
	if err := opts.Scope.validate(); err != nil {
		return nil, err
	}
	tk := newTicker(opts.Progress, "verify")
	prefix := opts.Scope.Category + "-"
	return verify(ctx, st, true, opts, tk, func(fn func(*eventstore.RecordedEvent) error) (int64, error) {
		var n int64
		err := feed(func(e *eventstore.RecordedEvent) error {
			if opts.Scope.Stream != "" && e.Stream != opts.Scope.Stream || opts.Scope.Category != "" && !strings.HasPrefix(e.Stream, prefix) {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			n++
			tk.tick(n, 0)
			return fn(e)
		})
		return n, err
	})
}

// verify runs the workers over read's events. feed says the events come
// from a feed rather than from st (which may then be nil): cross-stream
// facts are then resolved after the read (see VerifyFeed), and corrections
// are judged from the issuers seen in the feed rather than from st.
func verify(ctx context.Context, st eventstore.Store, feed bool, opts VerifyOptions, tk *ticker, read func(func(*eventstore.RecordedEvent) error) (int64, error)) (*Report, error) {
	start := time.Now()
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	platform := opts.PlatformOrgs
	if len(platform) == 0 {
		platform = []string{PlatformOrg}
	}
	maxFindings := opts.MaxFindings
	if maxFindings <= 0 {
		maxFindings = DefaultMaxFindings
	}
	dir := &directory{st: st, facts: [2]map[string]dirFact{{}, {}}, missing: map[string]bool{}}
	ws := make([]*verifier, workers)
	chans := make([]chan []item, workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &verifier{streams: newStreamTable(), facts: newFactTable(), dir: dir, issuers: !opts.SkipIssuers, platform: platform, ctx: ctx, max: maxFindings, feed: feed,
			partial: feed && opts.Partial}
		chans[i] = make(chan []item, 4)
		wg.Add(1)
		go func(v *verifier, in <-chan []item) {
			defer wg.Done()
			for batch := range in {
				for _, it := range batch {
					if it.meta {
						v.metadata(it.e, it.h)
					} else {
						v.event(it.e, it.h, it.seq)
					}
				}
			}
		}(ws[i], chans[i])
	}
	seed := maphash.MakeSeed()
	batches := make([][]item, workers)
	flush := func(i int) {
		if len(batches[i]) > 0 {
			chans[i] <- batches[i]
			batches[i] = make([]item, 0, 256)
		}
	}
	var seq uint64
	var system int64 // system events read: not counted as the scope's events
	n, err := read(func(e *eventstore.RecordedEvent) error {
		stream, meta := e.Stream, false
		if strings.HasPrefix(e.Stream, "$") || strings.HasPrefix(e.Type, "$") {
			// A user stream's metadata (the last event of "$$<stream>",
			// whatever its type: the store and KurrentDB read it so), or a
			// tombstone in it, goes to the worker of that stream; the
			// server's own events are skipped; another $-typed event of a
			// user stream is verified as any.
			switch {
			case strings.HasPrefix(e.Stream, "$$") && len(e.Stream) > 2 && e.Stream[2] != '$':
				stream, meta = e.Stream[2:], true
				system++
			case e.Type == "$streamDeleted" && !strings.HasPrefix(e.Stream, "$"):
				meta = true
				system++
			case strings.HasPrefix(e.Stream, "$"):
				system++
				return nil
			}
		}
		h := maphash.String(seed, stream)
		i := 0
		if workers > 1 {
			i = int(h % uint64(workers))
		}
		seq++
		batches[i] = append(batches[i], item{e, h, seq, meta})
		if len(batches[i]) == cap(batches[i]) && cap(batches[i]) >= 256 {
			flush(i)
		}
		return nil
	})
	for i := range chans {
		flush(i)
		close(chans[i])
	}
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", opts.Scope, err)
	}
	n -= system
	for _, v := range ws {
		v.hidden()
	}
	rep := &Report{Scope: opts.Scope.String(), Events: n, Findings: []Finding{}}
	var pending []pending
	for _, v := range ws {
		pending = append(pending, v.pending...)
		rep.Streams += v.streams.Len()
		rep.Findings = append(rep.Findings, v.findings...)
		rep.Omitted += v.omitted
		rep.Broken += v.streams.broken()
		rep.PartialStreams += v.partialStreams
		rep.MissingRevisions += v.missing
		if v.err != nil && err == nil {
			err = v.err
		}
	}
	if err == nil && len(pending) > 0 {
		var late []Finding
		late, err = resolvePending(ctx, dir, pending, &rep.NotJudged)
		rep.Findings = append(rep.Findings, late...)
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", opts.Scope, err)
	}
	if opts.Scope.Stream != "" && n == 0 {
		return nil, errs.E(errs.NotFound, "verify: stream %s has no events", opts.Scope.Stream)
	}
	if opts.Scope.Category != "" && n == 0 {
		return nil, errs.E(errs.NotFound, "verify: category %s has no events (a category is the part of a stream name before its first '-': craftsman, competition, mentorship, …)", opts.Scope.Category)
	}
	slices.SortFunc(rep.Findings, compareFindings)
	if len(rep.Findings) > maxFindings {
		rep.Omitted += len(rep.Findings) - maxFindings
		rep.Findings = rep.Findings[:maxFindings]
	}
	rep.OK = len(rep.Findings) == 0 && rep.Omitted == 0
	rep.Elapsed = time.Since(start)
	if s := rep.Elapsed.Seconds(); s > 0 {
		rep.Rate = float64(n) / s
	}
	tk.done(n)
	return rep, nil
}

// compareFindings orders findings by stream, revision, kind and then
// every other field, so that a report lists the same findings in the same
// order whichever worker found them.
func compareFindings(a, b Finding) int {
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	if a.Revision != b.Revision {
		if a.Revision < b.Revision {
			return -1
		}
		return 1
	}
	for _, p := range [...][2]string{{a.Kind, b.Kind}, {a.EventID, b.EventID}, {a.Type, b.Type}, {a.Issuer, b.Issuer}, {a.Reason, b.Reason}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

// item is an event for a verify worker with the hash of its stream name,
// which picked the worker and keys the worker's stream table, and its
// place in the read (1, 2, …).
type item struct {
	e   *eventstore.RecordedEvent
	h   uint64
	seq uint64
	// meta: e is the $metadata of the stream hashed to h (on "$$<stream>")
	// or a tombstone in it.
	meta bool
}

type verifier struct {
	ctx      context.Context
	streams  *streamTable
	facts    *factTable
	findings []Finding
	dir      *directory
	issuers  bool
	platform []string
	err      error
	max      int // findings kept per worker
	omitted  int
	// feed: events come from a feed (VerifyFeed): cross-stream facts not
	// yet learnt from their own stream are judged after the read
	// (pending), and every event's issuer is kept (noteEvent) for the
	// corrections that supersede it.
	feed    bool
	pending []pending
	seq     uint64 // the current event's place in the read
	// limits are the latest $metadata (or tombstone) of the worker's
	// streams that have one, by stream name.
	limits map[string]*streamLimits
	// partial: missing revisions of a feed are counted, not findings
	// (VerifyOptions.Partial).
	partial        bool
	partialStreams int
	missing        uint64
	// evArena and evHead hold a feed's events' issuers (noteEvent).
	evArena []evRef
	evHead  []int32
	// grants are a feed's competition-sourced PromotionEntitlementGranted
	// (and the corrections of them), by stream number and event id: the
	// competition whose organiser may correct them (correction).
	grants map[grantRef]string
	// chain verifies every event of the worker's streams, reusing its
	// hasher and scratch space: a Verifier keeps no state between events
	// (the previous hash is passed in), and a worker runs on one goroutine.
	chain chain.Verifier
}

// event checks e, whose stream name hashes to h.
func (v *verifier) event(e *eventstore.RecordedEvent, h, seq uint64) {
	v.seq = seq
	i, s := v.streams.lookup(e.Stream, h)
	if !s.broken {
		var prev *chain.Sum
		if s.next > 0 {
			prev = &s.hash
		}
		if v.feed && e.Revision > s.next {
			v.skipped(e, s)
		} else if e.Revision != s.next {
			v.add(KindGap, e, "", gapReason(s.next, e.Revision))
			s.broken = true
		} else if sum, brk := v.chain.VerifySum(prev, raw(e)); brk != nil {
			v.add(KindChain, e, "", brk.Reason)
			s.broken = true
		} else {
			s.hash = sum
		}
	}
	s.next = e.Revision + 1
	if v.issuers {
		v.checkIssuer(i, e)
	}
}

// streamLimits is what a stream's latest metadata says about reading it.
type streamLimits struct {
	h       uint64 // the stream name's hash
	e       *eventstore.RecordedEvent
	meta    streammeta.Meta // as the store reads it: unset fields -1
	deleted bool            // tombstoned, or soft-deleted ($tb at the end of time)
}

// metadata notes e, the metadata (the last event of "$$<stream>", any
// type) of the stream hashed to h, or a tombstone in it; hidden reports
// what it hides once the read is done. The metadata is read as the store
// and KurrentDB read it (streammeta.Parse):
// all or nothing, so metadata they ignore — not JSON, a quoted number or a
// fraction, null, a malformed $acl, anywhere in it — hides nothing, and
// nor do $maxCount or $maxAge not above 0.
func (v *verifier) metadata(e *eventstore.RecordedEvent, h uint64) {
	if v.limits == nil {
		v.limits = map[string]*streamLimits{}
	}
	if e.Type == "$streamDeleted" {
		l := v.limits[e.Stream]
		if l == nil {
			l = &streamLimits{h: h, meta: streammeta.None}
			v.limits[e.Stream] = l
		}
		l.e, l.deleted = e, true
		return
	}
	stream := e.Stream[2:]
	l := &streamLimits{h: h, e: e}
	if old := v.limits[stream]; old != nil && old.deleted && old.e.Type == "$streamDeleted" {
		l.deleted = true // a tombstone is final
	}
	l.meta = streammeta.Parse(e.ContentType == "" || e.ContentType == "application/json", e.Data)
	if l.meta.SoftDeleted() {
		l.deleted = true
	}
	v.limits[stream] = l
}

// hidden adds a finding for each of the worker's streams whose latest
// metadata hides some of its events from readers — truncated with $tb,
// capped by $maxCount or $maxAge, or deleted. A read of $all still shows
// those events (and the chain over them may hold), but the services, state,
// export and credentials read the stream and see a shortened history.
func (v *verifier) hidden() {
	for stream, l := range v.limits {
		i, ok := keytable.Find(&v.streams.Table, stream, l.h)
		if !ok {
			continue // no events of the stream in the scope: nothing hidden
		}
		s := v.streams.At(i)
		n := s.next // events of the stream read
		at := &eventstore.RecordedEvent{Stream: stream, ID: l.e.ID, Type: l.e.Type}
		var reason string
		switch {
		case l.deleted:
			reason = fmt.Sprintf("the stream is deleted (%s): readers see none of its %d events, which $all still holds", l.e.Type, n)
		case l.meta.TB > 0:
			at.Revision = uint64(l.meta.TB)
			reason = fmt.Sprintf("its metadata truncates it ($tb=%d, %s@%d): readers see it start at revision %d, revisions 0..%d are hidden (truncated or deleted)", l.meta.TB, l.e.Stream, l.e.Revision, l.meta.TB, l.meta.TB-1)
		case l.meta.MaxCount > 0 && n > uint64(l.meta.MaxCount):
			at.Revision = n - uint64(l.meta.MaxCount)
			reason = fmt.Sprintf("its metadata caps it ($maxCount=%d, %s@%d): readers see it start at revision %d, revisions 0..%d are hidden", l.meta.MaxCount, l.e.Stream, l.e.Revision, at.Revision, at.Revision-1)
		case l.meta.MaxAge > 0:
			reason = fmt.Sprintf("its metadata sets $maxAge=%ds (%s@%d): readers do not see its events older than that", l.meta.MaxAge, l.e.Stream, l.e.Revision)
		default:
			continue
		}
		s.broken = true
		v.add(KindGap, at, "", reason)
	}
}

// skipped handles e, which follows revisions missing from a feed (a
// partial file: an export, a replay from a position): a finding, or with
// Partial a count; then e is checked on its own — its hash over its
// content and its own stored prevHash, since its predecessor is absent —
// and the stream's chain goes on from it.
func (v *verifier) skipped(e *eventstore.RecordedEvent, s *streamState) {
	if v.partial {
		if !s.partial {
			s.partial = true
			v.partialStreams++
		}
		v.missing += e.Revision - s.next
	} else {
		s.gapped = true
		v.add(KindGap, e, "", gapReason(s.next, e.Revision)+" (later events are still checked; --partial for a file holding part of the history)")
	}
	sum, reason := v.selfCheck(e)
	if reason != "" {
		v.add(KindChain, e, "", reason)
		s.broken = true
		return
	}
	s.hash = sum
}

// selfCheck checks an event whose predecessor is absent against its own
// stored prevHash, and returns its hash, or what is wrong.
func (v *verifier) selfCheck(e *eventstore.RecordedEvent) (chain.Sum, string) {
	var m struct {
		PrevHash string `json:"prevHash"`
	}
	if err := json.Unmarshal(e.Metadata, &m); err != nil {
		return chain.Sum{}, fmt.Sprintf("metadata is not valid JSON: %v", err)
	}
	if m.PrevHash == "" {
		return chain.Sum{}, fmt.Sprintf("revision %d names no prevHash: every event after a stream's first names its predecessor's hash", e.Revision)
	}
	sum, brk := v.chain.VerifyText(m.PrevHash, raw(e))
	if brk != nil {
		return chain.Sum{}, brk.Reason
	}
	return sum, ""
}

func gapReason(want, got uint64) string {
	if want == 0 {
		return fmt.Sprintf("the stream starts at revision %d: revisions 0..%d are missing (truncated or deleted)", got, got-1)
	}
	if got < want {
		return fmt.Sprintf("revision %d comes after %d: out of order", got, want-1)
	}
	return fmt.Sprintf("revision %d follows %d: revisions %d..%d are missing", got, want-1, want, got-1)
}

// add records a finding. A worker keeps its max first findings in the
// report's order (compareFindings), whatever order it meets them in, so
// the report's list does not depend on which worker got which stream.
func (v *verifier) add(kind string, e *eventstore.RecordedEvent, issuer, reason string) {
	v.findings = append(v.findings, Finding{Kind: kind, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type, Issuer: issuer, Reason: reason})
	if len(v.findings) >= 2*v.max+64 {
		slices.SortFunc(v.findings, compareFindings)
		v.omitted += len(v.findings) - v.max
		v.findings = slices.Clip(v.findings[:v.max])
	}
}

// orgFields are the payload fields the issuer rule reads.
type orgFields struct {
	AcademyID  string `json:"academyId"`
	IssuingOrg struct {
		ID string `json:"id"`
	} `json:"issuingOrg"`
	IssuingOrgID    string `json:"issuingOrgId"` // SkillLevelCertified.v1
	EvaluatingOrgID string `json:"evaluatingOrgId"`
	ApprovingOrgID  string `json:"approvingOrgId"`
	EmployerOrgID   string `json:"employerOrgId"`
	Organiser       string `json:"organiser"`
	CompetitionID   string `json:"competitionId"`
	MentorshipID    string `json:"mentorshipId"`
	EmploymentID    string `json:"employmentId"`
	HonourID        string `json:"honourId"`
	Source          struct {
		Kind          string `json:"kind"`
		CompetitionID string `json:"competitionId"`
	} `json:"source"`
}

// baseType is a type name without its version: "TrainingCompleted".
func baseType(t string) string {
	if i := strings.LastIndex(t, ".v"); i > 0 {
		return t[:i]
	}
	return t
}

// IssuerRules returns, per event type without its version, who may record
// it (see docs/audit.md), as a fresh copy.
func IssuerRules() map[string]string { return maps.Clone(issuerRule) }

// issuerRule documents who may record each event type (see docs/audit.md).
// The organisation in an event's metadata (issuerOrgId) must be one of the
// listed organisations, or a platform organisation (PlatformOrg: the
// services record it for administrators and system work). Types not listed
// need a non-empty issuer only.
var issuerRule = map[string]string{
	"AcademyRegistered":            "the academy itself (academyId)",
	"CourseAdded":                  "the academy (academyId)",
	"TrainingEnrolled":             "the academy running the course (academyId)",
	"TrainingCompleted":            "the academy running the course (academyId)",
	"SkillLevelCertified":          "the issuing organisation (issuingOrg.id) or the evaluating organisation (evaluatingOrgId)",
	"PromotionEntitlementGranted":  "for a competition source, the competition's organiser",
	"PromotionEntitlementApproved": "the approving organisation (approvingOrgId)",
	"UpperGradeAppointed":          "the appointing employer (employerOrgId)",
	"EmploymentStarted":            "the employer (employerOrgId)",
	"EmploymentEnded":              "the employer of that employment (from its EmploymentStarted on the same stream)",
	"CompetitionDefined":           "the organiser (organiser, when set)",
	"CompetitionResultsPublished":  "the competition's organiser",
	"CompetitionPlaced":            "the competition's organiser",
	"MentorshipStarted":            "the pairing's academy (academyId) or employer (employerOrgId)",
	"MentorshipSessionLogged":      "the pairing's academy or employer (from its MentorshipStarted)",
	"MentorshipCompleted":          "the pairing's academy or employer (from its MentorshipStarted)",
	"MentorshipEndedEarly":         "the pairing's academy or employer (from its MentorshipStarted)",
	"HonourWithdrawn":              "the organisation that recorded the honour (issuer of its HonourConferred on the same stream)",
	"IssuerRegistered":             "a platform organisation only (an administrator's command)",
	"IssuerUserAdded":              "a platform organisation only (an administrator's command)",
	"PersonalDataErased":           "a platform organisation only (an administrator's command)",
	"EventCorrected":               "the organisation that recorded the superseded event (the original one, when it supersedes a correction; on the same stream), or for a competition-sourced PromotionEntitlementGranted also the competition's organiser",
}

// checkIssuer applies the issuer rule to e, on stream number i of v's
// table. It reads the issuer and the payload's fields as parts of e's
// bytes: an honest event costs no allocation.
func (v *verifier) checkIssuer(i int32, e *eventstore.RecordedEvent) {
	if strings.HasPrefix(e.Type, "$") {
		return
	}
	typ := baseType(e.Type)
	_, ruled := issuerRule[typ]
	issuer, err := metaIssuerBytes(e.Metadata)
	if err != nil {
		if _, _, ok := events.SplitStream(e.Stream); ok || ruled || errors.Is(err, errDuplicate) {
			v.add(KindIssuer, e, string(issuer), fmt.Sprintf("metadata cannot be read unambiguously, the issuer cannot be checked: %v", err))
		}
		return
	}
	if len(issuer) == 0 {
		if _, _, ok := events.SplitStream(e.Stream); ok || ruled {
			v.add(KindIssuer, e, "", "no issuer in the metadata")
		}
		return
	}
	scanned := ruled || typ == "HonourConferred"
	// A feed notes every event's issuer and fact for the corrections that
	// may supersede it; an event of the current version that the rule
	// scans is digested in the same pass.
	var fact *factHasher
	if v.feed && typ != "EventCorrected" {
		var d factHasher
		if scanned && d.start(e.Type) && d.cur == e.Type {
			fact = &d
		} else {
			v.noteEvent(i, e.ID, evRef{org: v.facts.intern(issuer), fact: factDigest(e.Type, e.Data)})
		}
	}
	if !scanned {
		return
	}
	var f orgRefs
	if err := scanOrgRefsFact(e.Data, &f, fact); err != nil {
		if fact != nil {
			v.noteEvent(i, e.ID, evRef{org: v.facts.intern(issuer), fact: factDigest(e.Type, e.Data)})
		}
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("data cannot be read unambiguously, the issuer cannot be checked: %v", err))
		return
	}
	if fact != nil {
		v.noteEvent(i, e.ID, evRef{org: v.facts.intern(issuer), fact: fact.sum()})
	}
	// Facts the rule needs for later events.
	switch typ {
	case "EmploymentStarted":
		v.facts.set(i, factEmployer, f.EmploymentID, f.EmployerOrgID)
	case "HonourConferred":
		v.facts.set(i, factHonour, f.HonourID, issuer)
		return
	case "CompetitionDefined":
		org := f.Organiser
		if len(org) == 0 {
			org = issuer
		}
		v.learn(dirCompetition, e, events.CompetitionStream(string(f.CompetitionID)), f.CompetitionID, [2][]byte{org})
	case "MentorshipStarted":
		v.learn(dirMentorship, e, events.MentorshipStream(string(f.MentorshipID)), f.MentorshipID, [2][]byte{f.AcademyID, f.EmployerOrgID})
	}
	platform := containsString(v.platform, issuer)
	switch typ {
	case "EventCorrected":
		v.correction(i, e, issuer, &f, platform)
		return
	case "PromotionEntitlementGranted":
		if v.feed && string(f.SourceKind) == events.SourceCompetition && len(f.SourceCompetitionID) > 0 {
			v.noteGrant(i, e.ID, string(f.SourceCompetitionID))
		}
	}
	if !platform {
		v.rule(i, e, e.Type, e.Type, issuer, &f)
	}
}

// adminOnly are the types only an administrator's command records (the
// registry's issuers and users, a craftsman forgotten): their issuer is
// a platform organisation.
func adminOnly(typ string) bool {
	switch typ {
	case "IssuerRegistered", "IssuerUserAdded", "PersonalDataErased":
		return true
	}
	return false
}

// rule judges issuer, not a platform organisation, recording a payload of
// type stored (with its version) with fields f on stream number i: e is
// the event a finding names, full what the reason says was recorded (the
// type, or a correction and its replacement).
func (v *verifier) rule(i int32, e *eventstore.RecordedEvent, stored, full string, issuer []byte, f *orgRefs) {
	typ := baseType(stored)
	switch {
	case typ == "CompetitionResultsPublished" || typ == "CompetitionPlaced":
		v.crossStream(e, typ, full, issuer, dirCompetition, f.CompetitionID)
		return
	case typ == "PromotionEntitlementGranted":
		if string(f.SourceKind) == events.SourceCompetition {
			v.crossStream(e, typ, full, issuer, dirCompetition, f.SourceCompetitionID)
		}
		return
	case typ == "MentorshipSessionLogged" || typ == "MentorshipCompleted" || typ == "MentorshipEndedEarly":
		v.crossStream(e, typ, full, issuer, dirMentorship, f.MentorshipID)
		return
	case adminOnly(typ):
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("issuer %s may not record %s: allowed is %s = %s", issuer, full, issuerRule[typ], strings.Join(v.platform, " or ")))
		return
	}
	allowed, known := v.allowed(i, typ, stored, f)
	if known && !allowed.contains(issuer) {
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("issuer %s may not record %s: allowed is %s = %s", issuer, full, issuerRule[typ], strings.Join(allowed.names(), " or ")))
	}
}

// orgSet is up to three organisations, by value: the issuer rule runs for
// most events and must not allocate for its answer.
type orgSet [3][]byte

func (s *orgSet) contains(org []byte) bool {
	for _, x := range s {
		if len(x) > 0 && bytes.Equal(x, org) {
			return true
		}
	}
	return false
}

// names are the distinct organisations of s, "(none)" when it is empty.
func (s *orgSet) names() []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if len(x) > 0 && !slices.Contains(out, string(x)) {
			out = append(out, string(x))
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// allowed returns the organisations that may record an event of type typ
// (stored: with its version) with fields f on stream number i; known is
// false when the rule does not apply (a source that is not a competition,
// a missing organiser) or its input cannot be found. Fields are read as the
// event's version defines them: a member of another version is ignored, as
// the catalogue's decoder ignores it.
func (v *verifier) allowed(i int32, typ, stored string, f *orgRefs) (orgSet, bool) {
	switch typ {
	case "AcademyRegistered", "CourseAdded", "TrainingEnrolled", "TrainingCompleted":
		return orgSet{f.AcademyID}, true
	case "SkillLevelCertified":
		if stored == events.TypeSkillLevelCertifiedV1 {
			return orgSet{f.IssuingOrgID}, true // its upgrade's issuer and evaluator
		}
		return orgSet{f.IssuingOrgNestedID, f.EvaluatingOrgID}, true
	case "PromotionEntitlementApproved":
		return orgSet{f.ApprovingOrgID}, true
	case "UpperGradeAppointed", "EmploymentStarted":
		return orgSet{f.EmployerOrgID}, true
	case "EmploymentEnded":
		org, ok := v.facts.get(i, factEmployer, f.EmploymentID)
		return orgSet{org}, ok
	case "CompetitionDefined":
		return orgSet{f.Organiser}, len(f.Organiser) > 0
	case "MentorshipStarted":
		return orgSet{f.AcademyID, f.EmployerOrgID}, true
	case "HonourWithdrawn":
		org, ok := v.facts.get(i, factHonour, f.HonourID)
		return orgSet{org}, ok
	}
	return orgSet{}, false
}

// learn records a cross-stream fact carried by e: from the first event of
// the fact's own stream (home) it is authoritative; a copy on another
// stream counts only in a feed, ranked by its place in the read (a store
// answers for the home stream itself).
func (v *verifier) learn(kind int, e *eventstore.RecordedEvent, home string, id []byte, orgs [2][]byte) {
	if e.Stream == home && e.Revision == 0 {
		v.dir.learn(kind, id, orgs, 0)
	} else if v.feed {
		v.dir.learn(kind, id, orgs, v.seq)
	}
}

// crossStream applies the issuer rule of an event whose allowed issuers
// are a fact of another stream (kind, id). Reading the store, the fact is
// looked up now (the store's answer does not depend on the scan's
// progress); in a feed, unless the fact's own stream has been read up to
// it, the event waits for the end of the read (pending), so that the
// verdict does not depend on which worker reads faster.
func (v *verifier) crossStream(e *eventstore.RecordedEvent, typ, full string, issuer []byte, kind int, id []byte) {
	var orgs [2][]byte
	if v.feed {
		var ok bool
		if orgs, ok = v.dir.known(kind, id); !ok {
			v.pending = append(v.pending, pending{f: Finding{Kind: KindIssuer, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type, Issuer: string(issuer)},
				kind: kind, key: string(id), typ: typ, full: full})
			return
		}
	} else {
		var ok bool
		var err error
		if orgs, ok, err = v.dir.resolve(v.ctx, kind, id); err != nil {
			v.fail(err)
			return
		}
		if !ok {
			v.add(KindIssuer, e, string(issuer), unknownFact(kind, id, full))
			return
		}
	}
	if reason, bad := judge(typ, full, issuer, orgs); bad {
		v.add(KindIssuer, e, string(issuer), reason)
	}
}

// unknownFact is the reason for a finding on an event (what full names)
// whose issuer rule needs the fact of kind of id, which the store lacks.
func unknownFact(kind int, id []byte, full string) string {
	what, stream, opening := "competition", events.CompetitionStream(string(id)), "CompetitionDefined"
	if kind == dirMentorship {
		what, stream, opening = "pairing", events.MentorshipStream(string(id)), "MentorshipStarted"
	}
	return fmt.Sprintf("%s names %s %q, which is not recorded (stream %s does not exist or does not open with a readable %s): the services refuse it, and who may record it cannot be known", full, what, id, stream, opening)
}

// judge says whether issuer may not record an event of type typ (full: as
// the reason names it) whose allowed organisations are orgs.
func judge(typ, full string, issuer []byte, orgs [2][]byte) (string, bool) {
	allowed := orgSet{orgs[0], orgs[1]}
	if len(orgs[0]) == 0 && len(orgs[1]) == 0 || allowed.contains(issuer) {
		return "", false
	}
	return fmt.Sprintf("issuer %s may not record %s: allowed is %s = %s", issuer, full, issuerRule[typ], strings.Join(allowed.names(), " or ")), true
}

// correction applies the issuer rule of an EventCorrected (fields f)
// superseding an event on stream number i: the services let only the
// organisation that recorded the original fact (following corrections of
// corrections) or an admin correct it, and a replacement must be that fact
// corrected — of its type, with the fields that identify it unchanged
// (events.CorrectionIdentity; factDigest), whoever corrects — and is judged
// as that issuer recording it anew. In a feed the original is one the
// worker saw on the stream (noteEvent); reading the store, the rare
// corrections are judged after the scan from their stream as the store
// holds it.
func (v *verifier) correction(i int32, e *eventstore.RecordedEvent, issuer []byte, f *orgRefs, platform bool) {
	sup := f.SupersedesEventID
	replaced := len(f.ReplacementType) > 0 || len(f.ReplacementData) > 0
	if replaced && !platform {
		v.replacement(i, e, issuer, f)
	}
	if !v.feed {
		if !platform || replaced {
			v.pending = append(v.pending, pending{f: Finding{Kind: KindIssuer, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type, Issuer: string(issuer)},
				kind: dirCorrection, key: string(sup), platform: platform})
		}
		return
	}
	ref, ok := v.eventRef(i, string(sup))
	if !ok {
		return // the superseded event is not in the feed: not judged
	}
	v.noteEvent(i, e.ID, ref) // a correction of this one answers to the same organisation and fact
	comp, grant := v.grants[grantRef{i, string(sup)}]
	if grant {
		v.noteGrant(i, e.ID, comp) // and to the same organiser
	}
	if replaced && factDigest(string(f.ReplacementType), f.ReplacementData) != ref.fact {
		v.add(KindIssuer, e, string(issuer), foreignReplacement(f.ReplacementType))
	}
	org := v.facts.orgs[ref.org]
	if platform || bytes.Equal(org, issuer) {
		return
	}
	if grant {
		// The competition's organiser may record the grant, so it may
		// withdraw (or restore) it, whoever recorded it (an admin's
		// correction of the placement records it as the platform).
		v.crossStream(e, "EventCorrected", e.Type, issuer, dirCompetition, []byte(comp))
		return
	}
	if reason, bad := judge("EventCorrected", e.Type, issuer, [2][]byte{org}); bad {
		v.add(KindIssuer, e, string(issuer), reason)
	}
}

// foreignReplacement is the reason for a finding on a correction whose
// replacement (of type typ) is not the fact it supersedes corrected.
func foreignReplacement(typ []byte) string {
	return fmt.Sprintf("its replacement (%s) is not the superseded fact corrected: the services keep a replacement to the original's type and to the fields that identify the fact (events.CorrectionIdentity), and the fold ignores one of another type", typ)
}

// replacement judges a correction's replacement (in f) as its issuer, not
// a platform organisation, recording that fact anew (rule).
func (v *verifier) replacement(i int32, e *eventstore.RecordedEvent, issuer []byte, f *orgRefs) {
	stored := string(f.ReplacementType)
	typ := baseType(stored)
	if _, ruled := issuerRule[typ]; !ruled || typ == "EventCorrected" {
		return // no rule (a correction in place of a fact is refused as foreign)
	}
	var rf orgRefs
	if err := scanOrgRefs(f.ReplacementData, &rf); err != nil {
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("its replacement's data cannot be read unambiguously, the issuer cannot be checked: %v", err))
		return
	}
	v.rule(i, e, stored, e.Type+" replacing its fact with "+stored, issuer, &rf)
}

// grantRef is an event of a feed's stream number i.
type grantRef struct {
	i  int32
	id string
}

// noteGrant keeps that event id on stream number i is a
// PromotionEntitlementGranted of competition comp (or a correction of
// one).
func (v *verifier) noteGrant(i int32, id, comp string) {
	if v.grants == nil {
		v.grants = map[grantRef]string{}
	}
	v.grants[grantRef{i, id}] = comp
}

// evRef is an event of a feed as a correction may need it: its id's hash,
// its issuer (an index in the fact table's interned organisations) and the
// digest of the fact it records (factDigest). Two ids of one stream
// sharing a 64-bit hash (a chance of about n²/2⁶⁵) would give a correction
// the wrong original.
type evRef struct {
	id   uint64
	fact uint64
	org  int32
	prev int32 // 1 + the index of the stream's previous evRef, 0 for none
}

// noteEvent keeps r's issuer and fact for event id on stream number i, for
// the corrections that may supersede it: 24 bytes an event, in one arena,
// each stream's events linked from its last.
func (v *verifier) noteEvent(i int32, id string, r evRef) {
	for int(i) >= len(v.evHead) {
		v.evHead = append(v.evHead, 0)
	}
	r.id, r.prev = maphash.String(v.facts.seed, id), v.evHead[i]
	v.evArena = append(v.evArena, r)
	v.evHead[i] = int32(len(v.evArena))
}

// eventRef returns what was noted for event id on stream number i.
func (v *verifier) eventRef(i int32, id string) (evRef, bool) {
	if int(i) >= len(v.evHead) {
		return evRef{}, false
	}
	h := maphash.String(v.facts.seed, id)
	for j := v.evHead[i]; j != 0; j = v.evArena[j-1].prev {
		if r := v.evArena[j-1]; r.id == h {
			return r, true
		}
	}
	return evRef{}, false
}

// pending is an issuer finding to be, decided after the read: kind and key
// name the fact it needs (dirCompetition or dirMentorship and the id, or
// dirCorrection and the superseded event's id); typ is the type whose rule
// applies and full what the reason says was recorded (dirCompetition and
// dirMentorship); platform says a correction's issuer is a platform
// organisation (only its replacement is checked).
type pending struct {
	f         Finding
	kind      int
	key       string
	typ, full string
	platform  bool
}

// resolvePending judges the pending events once every worker is done, in
// one goroutine, and returns their findings. An event whose fact neither
// the feed nor a store holds is a finding when there is a store, else it
// is counted in *notJudged.
func resolvePending(ctx context.Context, d *directory, ps []pending, notJudged *int) ([]Finding, error) {
	var out []Finding
	streams := map[string]map[string]*eventstore.RecordedEvent{} // corrections' streams as the store holds them, by event id
	for _, p := range ps {
		if p.kind == dirCorrection {
			byID, ok := streams[p.f.Stream]
			if !ok {
				var err error
				if byID, err = readByID(ctx, d.st, p.f.Stream); err != nil {
					return nil, err
				}
				streams[p.f.Stream] = byID
			}
			orig, org, comp, found := originalIssuer(byID, p.key)
			if !found {
				if !p.platform {
					p.f.Reason = fmt.Sprintf("it supersedes event %s, which is not on the stream (or not an event whose issuer can be read): the services refuse such a correction", p.key)
					out = append(out, p.f)
				}
				continue
			}
			var cf orgRefs
			if c := byID[p.f.EventID]; c != nil && scanOrgRefs(c.Data, &cf) == nil && (len(cf.ReplacementType) > 0 || len(cf.ReplacementData) > 0) &&
				factDigest(string(cf.ReplacementType), cf.ReplacementData) != factDigest(orig.Type, orig.Data) {
				f := p.f
				f.Reason = foreignReplacement(cf.ReplacementType)
				out = append(out, f)
			}
			if p.platform {
				continue
			}
			allowed := [2][]byte{[]byte(org)}
			if comp != "" && org != p.f.Issuer {
				// A competition's grant: its organiser may correct it too.
				orgs, ok, err := d.resolve(ctx, dirCompetition, []byte(comp))
				if err != nil {
					return nil, err
				}
				if ok {
					allowed[1] = orgs[0]
				}
			}
			if reason, bad := judge("EventCorrected", p.f.Type, []byte(p.f.Issuer), allowed); bad {
				p.f.Reason = reason
				out = append(out, p.f)
			}
			continue
		}
		orgs, ok, err := d.resolve(ctx, p.kind, []byte(p.key))
		if err != nil {
			return nil, err
		}
		if !ok {
			if d.st == nil {
				*notJudged++
			} else {
				p.f.Reason = unknownFact(p.kind, []byte(p.key), p.full)
				out = append(out, p.f)
			}
			continue
		}
		if reason, bad := judge(p.typ, p.full, []byte(p.f.Issuer), orgs); bad {
			p.f.Reason = reason
			out = append(out, p.f)
		}
	}
	return out, nil
}

// readByID reads a whole stream from st, by event id.
func readByID(ctx context.Context, st eventstore.Store, stream string) (map[string]*eventstore.RecordedEvent, error) {
	byID := map[string]*eventstore.RecordedEvent{}
	if st == nil {
		return byID, nil
	}
	for from := uint64(0); ; {
		evs, err := st.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Max: PageSize})
		if errors.Is(err, errs.NotFound) {
			return byID, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		for i := range evs {
			byID[evs[i].ID] = &evs[i]
		}
		if len(evs) < PageSize {
			return byID, nil
		}
		from = evs[len(evs)-1].Revision + 1
	}
}

// originalIssuer follows event id through corrections of corrections to
// the original fact and returns it, the issuer that recorded it and, for a
// competition-sourced PromotionEntitlementGranted, the competition.
func originalIssuer(byID map[string]*eventstore.RecordedEvent, id string) (orig *eventstore.RecordedEvent, org, comp string, ok bool) {
	for depth := 0; depth <= 64; depth++ {
		e, found := byID[id]
		if !found {
			return nil, "", "", false
		}
		var f orgRefs
		if baseType(e.Type) != "EventCorrected" {
			org, err := metaIssuer(e.Metadata)
			if baseType(e.Type) == "PromotionEntitlementGranted" && scanOrgRefs(e.Data, &f) == nil && string(f.SourceKind) == events.SourceCompetition {
				comp = string(f.SourceCompetitionID)
			}
			return e, org, comp, err == nil && org != ""
		}
		if scanOrgRefs(e.Data, &f) != nil {
			return nil, "", "", false
		}
		id = string(f.SupersedesEventID)
	}
	return nil, "", "", false
}

func (v *verifier) fail(err error) {
	if err != nil && v.err == nil {
		v.err = err
	}
}

func containsString(list []string, s []byte) bool {
	for _, x := range list {
		if x != "" && x == string(s) {
			return true
		}
	}
	return false
}

// Kinds of cross-stream facts (directory) and of pending judgements.
const (
	dirCompetition = iota // competition id -> its organiser
	dirMentorship         // mentorship id -> its academy and employer
	dirCorrection         // (pending only) superseded event id on the same stream
)

// dirFact is a cross-stream fact and its rank: 0 when it comes from the
// first event of the fact's own stream (or the store's copy of it),
// otherwise the place in the feed of the event it was copied from.
type dirFact struct {
	orgs [2][]byte
	rank uint64
}

// directory holds cross-stream facts the issuer rule needs (a
// competition's organiser, a pairing's organisations), learnt during the
// scan or read from their stream. A fact's value only ever changes to a
// better-ranked one (see dirFact), and a rank-0 value never changes, so
// the values the workers see are the same whatever the scheduling.
type directory struct {
	st    eventstore.Store
	mu    sync.Mutex
	facts [2]map[string]dirFact // by kind (dirCompetition, dirMentorship)
	// missing remembers streams looked up and not found, so a population
	// citing a competition the store lacks costs one read, not one per event.
	missing map[string]bool
}

func (d *directory) learn(kind int, id []byte, orgs [2][]byte, rank uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.facts[kind][string(id)]; ok && f.rank <= rank {
		return
	}
	d.facts[kind][string(id)] = dirFact{orgs: [2][]byte{bytes.Clone(orgs[0]), bytes.Clone(orgs[1])}, rank: rank}
}

func (d *directory) get(kind int, id []byte) (dirFact, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.facts[kind][string(id)]
	return f, ok
}

// known returns a fact learnt from its own stream's first event.
func (d *directory) known(kind int, id []byte) ([2][]byte, bool) {
	f, ok := d.get(kind, id)
	if !ok || f.rank != 0 {
		return [2][]byte{}, false
	}
	return f.orgs, true
}

// resolve returns a fact: from its own stream's first event as learnt,
// else as the store holds it, else (a feed) the earliest copy on another
// stream; ok is false when none is found.
func (d *directory) resolve(ctx context.Context, kind int, id []byte) ([2][]byte, bool, error) {
	f, ok := d.get(kind, id)
	if ok && f.rank == 0 {
		return f.orgs, true, nil
	}
	stream := events.CompetitionStream(string(id))
	if kind == dirMentorship {
		stream = events.MentorshipStream(string(id))
	}
	d.mu.Lock()
	missing := d.missing[stream]
	d.mu.Unlock()
	if !missing && d.st != nil {
		first, err := firstOf(ctx, d.st, stream)
		if err != nil {
			return [2][]byte{}, false, err
		}
		opening := "CompetitionDefined"
		if kind == dirMentorship {
			opening = "MentorshipStarted"
		}
		if first != nil && baseType(first.Type) != opening {
			first = nil // a stream not opened by its fact holds no fact
		}
		if first == nil {
			d.mu.Lock()
			d.missing[stream] = true
			d.mu.Unlock()
		} else {
			var of orgFields
			if json.Unmarshal(first.Data, &of) == nil {
				orgs := [2][]byte{[]byte(of.AcademyID), []byte(of.EmployerOrgID)}
				if kind == dirCompetition {
					name := of.Organiser
					if name == "" {
						name, _ = metaIssuer(first.Metadata) // the last of repeated issuers, as the services read it; its own stream's verify reports the repetition
					}
					orgs = [2][]byte{[]byte(name)}
				}
				d.learn(kind, id, orgs, 0)
				f, _ = d.get(kind, id)
				return f.orgs, true, nil
			}
		}
	}
	if ok {
		return f.orgs, true, nil
	}
	return [2][]byte{}, false, nil
}

// firstOf reads a stream's first event; a missing stream is (nil, nil).
func firstOf(ctx context.Context, st eventstore.Store, stream string) (*eventstore.RecordedEvent, error) {
	if st == nil {
		return nil, nil
	}
	evs, err := st.ReadStream(ctx, stream, eventstore.ReadOptions{Max: 1})
	if errors.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) == 0 {
		return nil, nil
	}
	return &evs[0], nil
}
