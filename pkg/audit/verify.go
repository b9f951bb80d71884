package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
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
	Omitted int           `json:"omittedFindings,omitempty"`
	OK      bool          `json:"ok"`
	Elapsed time.Duration `json:"elapsedNs"`
	Rate    float64       `json:"eventsPerSecond"`
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
	return verify(ctx, st, opts, tk, func(fn func(*eventstore.RecordedEvent) error) (int64, error) {
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
// (a competition's organiser); without it those events are not judged.
func VerifyFeed(ctx context.Context, st eventstore.Store, opts VerifyOptions, feed Feed) (*Report, error) {
	if err := opts.Scope.validate(); err != nil {
		return nil, err
	}
	tk := newTicker(opts.Progress, "verify")
	prefix := opts.Scope.Category + "-"
	return verify(ctx, st, opts, tk, func(fn func(*eventstore.RecordedEvent) error) (int64, error) {
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

func verify(ctx context.Context, st eventstore.Store, opts VerifyOptions, tk *ticker, read func(func(*eventstore.RecordedEvent) error) (int64, error)) (*Report, error) {
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
	dir := &directory{st: st, competitions: map[string]string{}, mentorships: map[string][2]string{}, missing: map[string]bool{}}
	ws := make([]*verifier, workers)
	chans := make([]chan []*eventstore.RecordedEvent, workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &verifier{streams: map[string]*streamState{}, dir: dir, issuers: !opts.SkipIssuers, platform: platform, ctx: ctx, max: maxFindings}
		chans[i] = make(chan []*eventstore.RecordedEvent, 4)
		wg.Add(1)
		go func(v *verifier, in <-chan []*eventstore.RecordedEvent) {
			defer wg.Done()
			for batch := range in {
				for _, e := range batch {
					v.event(e)
				}
			}
		}(ws[i], chans[i])
	}
	seed := maphash.MakeSeed()
	batches := make([][]*eventstore.RecordedEvent, workers)
	flush := func(i int) {
		if len(batches[i]) > 0 {
			chans[i] <- batches[i]
			batches[i] = make([]*eventstore.RecordedEvent, 0, 256)
		}
	}
	n, err := read(func(e *eventstore.RecordedEvent) error {
		i := 0
		if workers > 1 {
			i = int(maphash.String(seed, e.Stream) % uint64(workers))
		}
		batches[i] = append(batches[i], e)
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
	rep := &Report{Scope: opts.Scope.String(), Events: n, Findings: []Finding{}}
	for _, v := range ws {
		rep.Streams += len(v.streams)
		rep.Findings = append(rep.Findings, v.findings...)
		rep.Omitted += v.omitted
		for _, s := range v.streams {
			if s.broken {
				rep.Broken++
			}
		}
		if v.err != nil && err == nil {
			err = v.err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", opts.Scope, err)
	}
	if opts.Scope.Stream != "" && n == 0 {
		return nil, errs.E(errs.NotFound, "verify: stream %s has no events", opts.Scope.Stream)
	}
	sort.Slice(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		return a.Kind < b.Kind
	})
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

type streamState struct {
	next   uint64 // expected next revision
	hash   string // hash of the last event
	broken bool
	// employer of each employment, honour recorder, mentorship parties
	// seen on this stream (issuer rule look-ups that stay in one stream).
	employers smallMap
	honours   smallMap
}

// smallMap maps an id to an organisation. Most streams hold one or two
// entries (a craftsman's employments, honours), so they sit in a short
// slice scanned linearly; a map is built only past smallMapMax entries.
// With a million streams, a Go map per stream was most of the live heap.
type smallMap struct {
	list []idOrg
	big  map[string]string
}

type idOrg struct{ id, org string }

const smallMapMax = 8

func (m *smallMap) set(id, org string) {
	if m.big != nil {
		m.big[id] = org
		return
	}
	if i := m.index(id); i >= 0 {
		m.list[i].org = org
		return
	}
	if len(m.list) < smallMapMax {
		if m.list == nil {
			m.list = make([]idOrg, 0, 2)
		}
		m.list = append(m.list, idOrg{id, org})
		return
	}
	m.big = make(map[string]string, 2*smallMapMax)
	for _, x := range m.list {
		m.big[x.id] = x.org
	}
	m.big[id] = org
	m.list = nil
}

func (m *smallMap) get(id string) (string, bool) {
	if m.big != nil {
		org, ok := m.big[id]
		return org, ok
	}
	if i := m.index(id); i >= 0 {
		return m.list[i].org, true
	}
	return "", false
}

// index is where id sits in m.list, or -1.
func (m *smallMap) index(id string) int {
	for i := range m.list {
		if m.list[i].id == id {
			return i
		}
	}
	return -1
}

type verifier struct {
	ctx     context.Context
	streams map[string]*streamState
	// slab hands out stream states 1,024 at a time: one allocation per
	// 1,024 new streams instead of one per stream.
	slab     []streamState
	findings []Finding
	dir      *directory
	issuers  bool
	platform []string
	err      error
	max      int // findings kept per worker
	omitted  int
	// chain verifies every event of the worker's streams, reusing its
	// hasher and scratch space: a Verifier keeps no state between events
	// (the previous hash is passed in), and a worker runs on one goroutine.
	chain chain.Verifier
}

func (v *verifier) event(e *eventstore.RecordedEvent) {
	s := v.streams[e.Stream]
	if s == nil {
		if len(v.slab) == cap(v.slab) {
			v.slab = make([]streamState, 0, 1024)
		}
		v.slab = v.slab[:len(v.slab)+1]
		s = &v.slab[len(v.slab)-1]
		v.streams[e.Stream] = s
	}
	if !s.broken {
		if e.Revision != s.next {
			v.add(KindGap, e, "", gapReason(s.next, e.Revision))
			s.broken = true
		} else if h, brk := v.chain.VerifyEvent(s.hash, raw(e)); brk != nil {
			v.add(KindChain, e, "", brk.Reason)
			s.broken = true
		} else {
			s.hash = h
		}
	}
	s.next = e.Revision + 1
	if v.issuers {
		v.checkIssuer(s, e)
	}
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

func (v *verifier) add(kind string, e *eventstore.RecordedEvent, issuer, reason string) {
	if len(v.findings) >= v.max {
		v.omitted++
		return
	}
	v.findings = append(v.findings, Finding{Kind: kind, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type, Issuer: issuer, Reason: reason})
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
}

func (v *verifier) checkIssuer(s *streamState, e *eventstore.RecordedEvent) {
	if strings.HasPrefix(e.Type, "$") {
		return
	}
	typ := baseType(e.Type)
	_, ruled := issuerRule[typ]
	issuer, err := metaIssuer(e.Metadata)
	if err != nil {
		if _, _, ok := events.SplitStream(e.Stream); ok || ruled || errors.Is(err, errDuplicate) {
			v.add(KindIssuer, e, issuer, fmt.Sprintf("metadata cannot be read unambiguously, the issuer cannot be checked: %v", err))
		}
		return
	}
	if issuer == "" {
		if _, _, ok := events.SplitStream(e.Stream); ok || ruled {
			v.add(KindIssuer, e, "", "no issuer in the metadata")
		}
		return
	}
	if !ruled && typ != "HonourConferred" {
		return
	}
	var f orgFields
	if err := scanOrgFields(e.Data, &f); err != nil {
		v.add(KindIssuer, e, issuer, fmt.Sprintf("data cannot be read unambiguously, the issuer cannot be checked: %v", err))
		return
	}
	// Facts the rule needs for later events.
	switch typ {
	case "EmploymentStarted":
		s.employers.set(f.EmploymentID, f.EmployerOrgID)
	case "HonourConferred":
		s.honours.set(f.HonourID, issuer)
		return
	case "CompetitionDefined":
		org := f.Organiser
		if org == "" {
			org = issuer
		}
		v.dir.setCompetition(f.CompetitionID, org)
	case "MentorshipStarted":
		v.dir.setMentorship(f.MentorshipID, f.AcademyID, f.EmployerOrgID)
	}
	if contains(v.platform, issuer) {
		return
	}
	allowed, known := v.allowed(s, typ, f)
	if known && !contains(allowed[:], issuer) {
		v.add(KindIssuer, e, issuer, fmt.Sprintf("issuer %s may not record %s: allowed is %s = %s", issuer, e.Type, issuerRule[typ], strings.Join(nonEmpty(allowed[:]), " or ")))
	}
}

// orgSet is up to three organisations, by value: the issuer rule runs for
// most events and must not allocate for its answer.
type orgSet [3]string

// allowed returns the organisations that may record an event of type typ
// with fields f; known is false when the rule does not apply (a source
// that is not a competition, a missing organiser) or its input cannot be
// found.
func (v *verifier) allowed(s *streamState, typ string, f orgFields) (orgSet, bool) {
	switch typ {
	case "AcademyRegistered", "CourseAdded", "TrainingEnrolled", "TrainingCompleted":
		return orgSet{f.AcademyID}, true
	case "SkillLevelCertified":
		return orgSet{f.IssuingOrg.ID, f.IssuingOrgID, f.EvaluatingOrgID}, true
	case "PromotionEntitlementApproved":
		return orgSet{f.ApprovingOrgID}, true
	case "UpperGradeAppointed", "EmploymentStarted":
		return orgSet{f.EmployerOrgID}, true
	case "EmploymentEnded":
		org, ok := s.employers.get(f.EmploymentID)
		return orgSet{org}, ok
	case "CompetitionDefined":
		return orgSet{f.Organiser}, f.Organiser != ""
	case "CompetitionResultsPublished", "CompetitionPlaced":
		return v.organiser(f.CompetitionID)
	case "PromotionEntitlementGranted":
		if f.Source.Kind != events.SourceCompetition {
			return orgSet{}, false
		}
		return v.organiser(f.Source.CompetitionID)
	case "MentorshipStarted":
		return orgSet{f.AcademyID, f.EmployerOrgID}, true
	case "MentorshipSessionLogged", "MentorshipCompleted", "MentorshipEndedEarly":
		orgs, ok, err := v.dir.mentorship(v.ctx, f.MentorshipID)
		v.fail(err)
		var set orgSet
		copy(set[:], orgs[:])
		return set, ok
	case "HonourWithdrawn":
		org, ok := s.honours.get(f.HonourID)
		return orgSet{org}, ok
	}
	return orgSet{}, false
}

func (v *verifier) organiser(id string) (orgSet, bool) {
	org, ok, err := v.dir.competition(v.ctx, id)
	v.fail(err)
	return orgSet{org}, ok && org != ""
}

func (v *verifier) fail(err error) {
	if err != nil && v.err == nil {
		v.err = err
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x != "" && x == s {
			return true
		}
	}
	return false
}

func nonEmpty(list []string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// directory holds cross-stream facts the issuer rule needs (a
// competition's organiser, a pairing's organisations), learnt during the
// scan or, when the scan has not reached them (another worker, another
// scope), read from their stream.
type directory struct {
	st           eventstore.Store
	mu           sync.Mutex
	competitions map[string]string
	mentorships  map[string][2]string // by value: no slice per pairing
	// missing remembers streams looked up and not found, so a population
	// citing a competition the store lacks costs one read, not one per event.
	missing map[string]bool
}

func (d *directory) isMissing(stream string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.missing[stream]
}

func (d *directory) setMissing(stream string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.missing[stream] = true
}

func (d *directory) setCompetition(id, org string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.competitions[id]; !ok {
		d.competitions[id] = org
	}
}

func (d *directory) setMentorship(id, academy, employer string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.mentorships[id]; !ok {
		d.mentorships[id] = [2]string{academy, employer}
	}
}

func (d *directory) competition(ctx context.Context, id string) (string, bool, error) {
	d.mu.Lock()
	org, ok := d.competitions[id]
	d.mu.Unlock()
	if ok {
		return org, true, nil
	}
	stream := events.CompetitionStream(id)
	if d.isMissing(stream) {
		return "", false, nil
	}
	first, err := firstOf(ctx, d.st, stream)
	if first == nil && err == nil {
		d.setMissing(stream)
	}
	if first == nil || err != nil {
		return "", false, err
	}
	var f orgFields
	if json.Unmarshal(first.Data, &f) != nil {
		return "", false, nil
	}
	org = f.Organiser
	if org == "" {
		org, _ = metaIssuer(first.Metadata) // the last of repeated issuers, as the services read it; its own stream's verify reports the repetition
	}
	d.setCompetition(id, org)
	return org, true, nil
}

func (d *directory) mentorship(ctx context.Context, id string) ([2]string, bool, error) {
	d.mu.Lock()
	orgs, ok := d.mentorships[id]
	d.mu.Unlock()
	if ok {
		return orgs, true, nil
	}
	stream := events.MentorshipStream(id)
	if d.isMissing(stream) {
		return [2]string{}, false, nil
	}
	first, err := firstOf(ctx, d.st, stream)
	if first == nil && err == nil {
		d.setMissing(stream)
	}
	if first == nil || err != nil {
		return [2]string{}, false, err
	}
	var f orgFields
	if json.Unmarshal(first.Data, &f) != nil {
		return [2]string{}, false, nil
	}
	d.setMentorship(id, f.AcademyID, f.EmployerOrgID)
	return [2]string{f.AcademyID, f.EmployerOrgID}, true, nil
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
