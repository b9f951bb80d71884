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
	dir := &directory{st: st, competitions: map[string][]byte{}, mentorships: map[string][2][]byte{}, missing: map[string]bool{}}
	ws := make([]*verifier, workers)
	chans := make([]chan []item, workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &verifier{streams: newStreamTable(), facts: newFactTable(), dir: dir, issuers: !opts.SkipIssuers, platform: platform, ctx: ctx, max: maxFindings}
		chans[i] = make(chan []item, 4)
		wg.Add(1)
		go func(v *verifier, in <-chan []item) {
			defer wg.Done()
			for batch := range in {
				for _, it := range batch {
					v.event(it.e, it.h)
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
	n, err := read(func(e *eventstore.RecordedEvent) error {
		h := maphash.String(seed, e.Stream)
		i := 0
		if workers > 1 {
			i = int(h % uint64(workers))
		}
		batches[i] = append(batches[i], item{e, h})
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
		rep.Streams += v.streams.Len()
		rep.Findings = append(rep.Findings, v.findings...)
		rep.Omitted += v.omitted
		rep.Broken += v.streams.broken()
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

// item is an event for a verify worker with the hash of its stream name,
// which picked the worker and keys the worker's stream table.
type item struct {
	e *eventstore.RecordedEvent
	h uint64
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
	// chain verifies every event of the worker's streams, reusing its
	// hasher and scratch space: a Verifier keeps no state between events
	// (the previous hash is passed in), and a worker runs on one goroutine.
	chain chain.Verifier
}

// event checks e, whose stream name hashes to h.
func (v *verifier) event(e *eventstore.RecordedEvent, h uint64) {
	i, s := v.streams.lookup(e.Stream, h)
	if !s.broken {
		var prev *chain.Sum
		if s.next > 0 {
			prev = &s.hash
		}
		if e.Revision != s.next {
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
	if !ruled && typ != "HonourConferred" {
		return
	}
	var f orgRefs
	if err := scanOrgRefs(e.Data, &f); err != nil {
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("data cannot be read unambiguously, the issuer cannot be checked: %v", err))
		return
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
		v.dir.setCompetition(f.CompetitionID, org)
	case "MentorshipStarted":
		v.dir.setMentorship(f.MentorshipID, f.AcademyID, f.EmployerOrgID)
	}
	if containsString(v.platform, issuer) {
		return
	}
	allowed, known := v.allowed(i, typ, &f)
	if known && !allowed.contains(issuer) {
		v.add(KindIssuer, e, string(issuer), fmt.Sprintf("issuer %s may not record %s: allowed is %s = %s", issuer, e.Type, issuerRule[typ], strings.Join(allowed.names(), " or ")))
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
// with fields f on stream number i; known is false when the rule does not
// apply (a source that is not a competition, a missing organiser) or its
// input cannot be found.
func (v *verifier) allowed(i int32, typ string, f *orgRefs) (orgSet, bool) {
	switch typ {
	case "AcademyRegistered", "CourseAdded", "TrainingEnrolled", "TrainingCompleted":
		return orgSet{f.AcademyID}, true
	case "SkillLevelCertified":
		return orgSet{f.IssuingOrgNestedID, f.IssuingOrgID, f.EvaluatingOrgID}, true
	case "PromotionEntitlementApproved":
		return orgSet{f.ApprovingOrgID}, true
	case "UpperGradeAppointed", "EmploymentStarted":
		return orgSet{f.EmployerOrgID}, true
	case "EmploymentEnded":
		org, ok := v.facts.get(i, factEmployer, f.EmploymentID)
		return orgSet{org}, ok
	case "CompetitionDefined":
		return orgSet{f.Organiser}, len(f.Organiser) > 0
	case "CompetitionResultsPublished", "CompetitionPlaced":
		return v.organiser(f.CompetitionID)
	case "PromotionEntitlementGranted":
		if string(f.SourceKind) != events.SourceCompetition {
			return orgSet{}, false
		}
		return v.organiser(f.SourceCompetitionID)
	case "MentorshipStarted":
		return orgSet{f.AcademyID, f.EmployerOrgID}, true
	case "MentorshipSessionLogged", "MentorshipCompleted", "MentorshipEndedEarly":
		orgs, ok, err := v.dir.mentorship(v.ctx, f.MentorshipID)
		v.fail(err)
		return orgSet{orgs[0], orgs[1]}, ok
	case "HonourWithdrawn":
		org, ok := v.facts.get(i, factHonour, f.HonourID)
		return orgSet{org}, ok
	}
	return orgSet{}, false
}

func (v *verifier) organiser(id []byte) (orgSet, bool) {
	org, ok, err := v.dir.competition(v.ctx, id)
	v.fail(err)
	return orgSet{org}, ok && len(org) > 0
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

// directory holds cross-stream facts the issuer rule needs (a
// competition's organiser, a pairing's organisations), learnt during the
// scan or, when the scan has not reached them (another worker, another
// scope), read from their stream. Its values are never changed once
// stored, so callers may keep them.
type directory struct {
	st           eventstore.Store
	mu           sync.Mutex
	competitions map[string][]byte
	mentorships  map[string][2][]byte // by value: no slice per pairing
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

func (d *directory) setCompetition(id, org []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.competitions[string(id)]; !ok {
		d.competitions[string(id)] = bytes.Clone(org)
	}
}

func (d *directory) setMentorship(id, academy, employer []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.mentorships[string(id)]; !ok {
		d.mentorships[string(id)] = [2][]byte{bytes.Clone(academy), bytes.Clone(employer)}
	}
}

func (d *directory) competition(ctx context.Context, id []byte) ([]byte, bool, error) {
	d.mu.Lock()
	org, ok := d.competitions[string(id)]
	d.mu.Unlock()
	if ok {
		return org, true, nil
	}
	stream := events.CompetitionStream(string(id))
	if d.isMissing(stream) {
		return nil, false, nil
	}
	first, err := firstOf(ctx, d.st, stream)
	if first == nil && err == nil {
		d.setMissing(stream)
	}
	if first == nil || err != nil {
		return nil, false, err
	}
	var f orgFields
	if json.Unmarshal(first.Data, &f) != nil {
		return nil, false, nil
	}
	name := f.Organiser
	if name == "" {
		name, _ = metaIssuer(first.Metadata) // the last of repeated issuers, as the services read it; its own stream's verify reports the repetition
	}
	d.setCompetition(id, []byte(name))
	return []byte(name), true, nil
}

func (d *directory) mentorship(ctx context.Context, id []byte) ([2][]byte, bool, error) {
	d.mu.Lock()
	orgs, ok := d.mentorships[string(id)]
	d.mu.Unlock()
	if ok {
		return orgs, true, nil
	}
	stream := events.MentorshipStream(string(id))
	if d.isMissing(stream) {
		return [2][]byte{}, false, nil
	}
	first, err := firstOf(ctx, d.st, stream)
	if first == nil && err == nil {
		d.setMissing(stream)
	}
	if first == nil || err != nil {
		return [2][]byte{}, false, err
	}
	var f orgFields
	if json.Unmarshal(first.Data, &f) != nil {
		return [2][]byte{}, false, nil
	}
	d.setMentorship(id, []byte(f.AcademyID), []byte(f.EmployerOrgID))
	return [2][]byte{[]byte(f.AcademyID), []byte(f.EmployerOrgID)}, true, nil
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
