package readmodel

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// domain is the decoded, indexed state derived from the raw log. It is
// rebuilt by applying the same events in the same order; a snapshot keeps
// the raw events and the craftsmen's summaries, and craftsmen's events are
// decoded again lazily after a load.
type domain struct {
	reg          *events.Registry
	craftsmen    map[string]*Craftsman
	order        []*Craftsman // in registration order (a scan needs no map look-up)
	academies    map[string]*Academy
	competitions map[string]*Competition
	mentorships  map[string]*Mentorship
	policies     map[string][]events.Recorded // name -> versions in order
	undecodable  int
	dirty        []*Craftsman       // craftsmen whose derived summary must be recomputed (each once: Craftsman.dirty)
	rederive     []*Craftsman       // craftsmen a snapshot load derives again (loadBody: corrected under an older rule)
	relinkAll    bool               // a snapshot load derives every summary again (loadBody: a file of an older read rule)
	last         *Craftsman         // the craftsman craftsman() found last (a stream's events come together)
	summarise    func(c *Craftsman) // sets c.Summary (liveSummary; tests stand in for it)
	sums         summarising        // liveSummary's scratch space
	// ensure decodes a craftsman's pending events (set by Memory).
	ensure func(c *Craftsman)
	// byTrade lists, per trade code, the craftsmen whose summary holds a
	// level in it, and byOrg, per organisation, the craftsmen linked to it
	// (Summary.Orgs); both in registration order, so that
	// population queries scan only the smaller list.
	byTrade map[string][]*Craftsman
	byOrg   map[string][]*Craftsman
	strs    *interner // what summaries share
}

// Craftsman is one worker's decoded ledger plus what links them to
// organisations (for authorization and population queries).
type Craftsman struct {
	ID  string
	seq int // registration order
	// Records are the craftsman stream's decoded events in revision order.
	// After a snapshot load they are decoded lazily, on first use: read
	// them through Memory (ensure), never directly from a reader.
	Records []events.Recorded
	count   int         // events of the craftsman's own stream
	ready   atomic.Bool // Records holds every event (else they are decoded from the log on use)
	kept    bool        // Records were decoded for a reader: settle keeps them
	dirty   bool        // in domain.dirty
	// erased: the craftsman was forgotten (PersonalDataErased.v1): no view
	// shows personal data, as of any date.
	erased bool
	// Mentorships are the ids of pairings this craftsman is part of.
	Mentorships []string
	// Summary is the derived live state (levels, eligibility dates) that
	// population queries scan; recomputed when the ledger changes.
	Summary Summary
}

// Summary is the live, derived state of a craftsman used by population
// queries and authorization. It is read-only: its lists and its map of
// levels are shared with other craftsmen whose are equal.
type Summary struct {
	// Name is the name recorded in clear, or with Personal PersonalSealed
	// the sealed value (SealedName) for a reader with the keyring to open;
	// "" when erased or never recorded. Personal says which (PersonalClear, …).
	Name      string
	Personal  string
	Region    string
	Employers []string // current employer organisations
	Academies []string // academies the craftsman enrolled or trained at (not retracted)
	// Linked are the other organisations with a standing link to the
	// craftsman: the registrar (the organisation that recorded the
	// registration), the employer of every employment on the ledger,
	// current or past, and the HR authority of every approval (核准) of
	// their entitlements (none retracted). Recording any other fact — an
	// assessment, a certificate, a placement, an honour — links no one.
	Linked []string
	Levels map[string]events.Level // trade code -> current level
}

// LinkedTo reports whether org is among the craftsman's organisations
// (Orgs), without allocating. It is the read rule for hr and issuers
// (graphql/schema canRead, population scope; docs/graphql.md).
func (s Summary) LinkedTo(org string) bool {
	return slices.Contains(s.Employers, org) || slices.Contains(s.Academies, org) || slices.Contains(s.Linked, org)
}

// Orgs are the organisations linked to the craftsman (current employers,
// academies, and Linked: the registrar, every employer current or past,
// and the HR authorities that approved (核准) an entitlement), sorted and
// unique.
func (s Summary) Orgs() []string {
	set := map[string]bool{}
	for _, l := range [][]string{s.Employers, s.Academies, s.Linked} {
		for _, o := range l {
			set[o] = true
		}
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// Academy is an academy's decoded stream.
type Academy struct {
	ID      string
	Records []events.Recorded
}

// Competition is a competition's decoded stream.
type Competition struct {
	ID      string
	Records []events.Recorded
}

// Mentorship is a pairing's decoded stream.
type Mentorship struct {
	ID                     string
	MasterID, ApprenticeID string
	Records                []events.Recorded
}

func newDomain() *domain {
	d := &domain{
		reg: events.NewRegistry(), craftsmen: map[string]*Craftsman{}, academies: map[string]*Academy{},
		competitions: map[string]*Competition{}, mentorships: map[string]*Mentorship{},
		policies: map[string][]events.Recorded{}, byTrade: map[string][]*Craftsman{}, byOrg: map[string][]*Craftsman{},
		ensure: func(*Craftsman) {}, strs: newInterner(),
	}
	d.summarise = d.liveSummary
	return d
}

// batchDecoded is a batch's events decoded outside the model's lock:
// recs[i] is event i's record when ok[i]. Kept in batchPool between
// batches; a craftsman's records may lie in recs until the batch settles.
type batchDecoded struct {
	recs []events.Recorded
	ok   []bool
}

var batchPool = sync.Pool{New: func() any { return new(batchDecoded) }}

// decode decodes evs into b (sized for them) in parallel.
func (b *batchDecoded) decode(reg *events.Registry, evs []eventstore.RecordedEvent) {
	if cap(b.recs) < len(evs) {
		b.recs, b.ok = make([]events.Recorded, len(evs)), make([]bool, len(evs))
	}
	b.recs, b.ok = b.recs[:len(evs)], b.ok[:len(evs)]
	inParallel(len(evs), func(i int) { b.ok[i] = decodeOne(reg, &evs[i], &b.recs[i]) })
}

// inParallel calls one for 0..n-1, split over the cores (small batches
// stay on one goroutine).
func inParallel(n int, one func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 256 || workers < 2 {
		for i := range n {
			one(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				one(i)
			}
		}()
	}
	wg.Wait()
}

// decodeOne decodes ev into *rec; false when the catalogue cannot decode
// it (*rec is then left as DecodeRecorded answered).
func decodeOne(reg *events.Registry, ev *eventstore.RecordedEvent, rec *events.Recorded) bool {
	if strings.HasPrefix(ev.Type, "$") {
		// A system event in a ledger stream (a "$>" link, a "$..." type
		// someone appended): kept raw, never a domain fact.
		return false
	}
	var err error
	*rec, err = reg.DecodeRecorded(events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created})
	return err == nil
}

// applyRec applies one event of stream (ev.Stream, or a copy of it that
// ids may share), decoded as *rec when ok; run is how many events of its
// stream, this one included, follow in the batch (room for the records is
// made once). room, when not nil, is
// where the records of this event's run may lie until the batch settles
// (len(room) == run): a craftsman without records takes it as its list
// instead of allocating one. It must be the batch's own decoded records
// from this event's on: the run's records are appended in order, each at
// an index no later than its own, so none is overwritten before it is read.
func (d *domain) applyRec(stream string, ev *eventstore.RecordedEvent, rec *events.Recorded, ok bool, run int, room []events.Recorded) {
	cat, id, isLedger := events.SplitStream(stream)
	if !isLedger {
		return
	}
	var c *Craftsman
	if cat == events.CategoryCraftsman {
		// Counted even when undecodable, so that the craftsman exists
		// exactly as after a snapshot load.
		c = d.craftsman(id)
		// ensure must not decode here: this event's bytes are staged but
		// not yet flushed into the spill file. It cannot: Memory.apply
		// decodes every craftsman whose records were dropped before the
		// batch is added (keep that pre-decode with this call).
		d.ensure(c)
		c.count++
		if ev.Type == TypePersonalDataErased {
			// Known by its type name: marked even were it undecodable.
			c.erased = true
			d.markDirty(c)
		}
	}
	if !ok {
		d.undecodable++
		return
	}
	switch cat {
	case events.CategoryCraftsman:
		if len(c.Records) == cap(c.Records) {
			switch {
			case cap(c.Records) == 0 && !c.kept && room != nil:
				// Only settle reads these records, and it lets them go
				// before the batch's buffer is reused.
				c.Records = room[:0:len(room)]
			default:
				// Readers hold only clipped slices: growing in place is safe.
				c.Records = slices.Grow(c.Records, max(run, 1))
			}
		}
		c.Records = append(c.Records, *rec)
		d.markDirty(c)
	case events.CategoryAcademy:
		a := d.academies[id]
		if a == nil {
			a = &Academy{ID: id}
			d.academies[id] = a
		}
		a.Records = append(a.Records, *rec)
	case events.CategoryCompetition:
		c := d.competitions[id]
		if c == nil {
			c = &Competition{ID: id}
			d.competitions[id] = c
		}
		c.Records = append(c.Records, *rec)
	case events.CategoryMentorship:
		m := d.mentorships[id]
		if m == nil {
			m = &Mentorship{ID: id}
			d.mentorships[id] = m
		}
		m.Records = append(m.Records, *rec)
		if s, ok := rec.Payload.(events.MentorshipStarted); ok {
			m.MasterID, m.ApprenticeID = s.MasterID, s.ApprenticeID
			for _, who := range []string{s.MasterID, s.ApprenticeID} {
				c := d.craftsman(who)
				c.Mentorships = append(c.Mentorships, id)
				d.markDirty(c)
			}
		}
	case events.CategoryPolicy:
		d.policies[id] = append(d.policies[id], *rec)
	}
}

// craftsman returns the craftsman id, adding it when new. The one found
// last is kept at hand: a craftsman's events come together in $all, and a
// look-up in a map of a million craftsmen is a cache miss or two.
func (d *domain) craftsman(id string) *Craftsman {
	if c := d.last; c != nil && c.ID == id {
		return c
	}
	c := d.craftsmen[id]
	if c == nil {
		c = &Craftsman{ID: id, seq: len(d.order)}
		c.ready.Store(true)
		d.craftsmen[id] = c
		d.order = append(d.order, c)
	}
	d.last = c
	return c
}

// markDirty queues c for settle.
func (d *domain) markDirty(c *Craftsman) {
	if !c.dirty {
		c.dirty = true
		d.dirty = append(d.dirty, c)
	}
}

// settle recomputes the summaries of the craftsmen changed since the last
// settle (once per batch, not once per event).
func (d *domain) settle() {
	for _, c := range d.dirty {
		d.ensure(c)
		before := c.Summary
		d.summarise(c)
		d.internSummary(&c.Summary)
		d.reindex(c, before)
		if !c.kept {
			// Derived what it needs: the raw log keeps the bytes.
			c.Records = nil
			c.ready.Store(false)
		}
	}
	d.dropDirty()
}

// dropDirty forgets the craftsmen changed since the last settle.
func (d *domain) dropDirty() {
	for _, c := range d.dirty {
		c.dirty = false
	}
	clear(d.dirty)
	d.dirty = d.dirty[:0]
}

// reindex moves c between the per-trade and per-organisation lists when
// its trades or links changed, keeping each list in registration order.
func (d *domain) reindex(c *Craftsman, before Summary) {
	move := func(index map[string][]*Craftsman, was, is []string) {
		for _, k := range is {
			if !slices.Contains(was, k) {
				list := index[k]
				if n := len(list); n == 0 || list[n-1].seq < c.seq {
					index[k] = append(list, c) // the common case: the newest craftsman
					continue
				}
				i, _ := slices.BinarySearchFunc(list, c.seq, func(x *Craftsman, seq int) int { return x.seq - seq })
				index[k] = slices.Insert(list, i, c)
			}
		}
		for _, k := range was {
			if !slices.Contains(is, k) {
				index[k] = slices.DeleteFunc(index[k], func(x *Craftsman) bool { return x == c })
			}
		}
	}
	move(d.byTrade, tradeCodes(before), tradeCodes(c.Summary))
	move(d.byOrg, before.Orgs(), c.Summary.Orgs())
}

func tradeCodes(s Summary) []string {
	out := make([]string, 0, len(s.Levels))
	for code := range s.Levels {
		out = append(out, code)
	}
	return out
}

// TypePersonalDataErased is the record of a forgetting (the craftsman's
// sealing key destroyed; services/registry writes it).
const TypePersonalDataErased = events.TypePersonalDataErased

// What is known of a craftsman's personal data (Summary.Personal,
// View.Personal).
const (
	PersonalNone   = "none"   // nothing personal recorded
	PersonalClear  = "clear"  // recorded in clear: the name is shown
	PersonalSealed = "sealed" // sealed under the craftsman's key (Name holds the sealed value, SealedName)
	PersonalErased = "erased" // forgotten: the key is destroyed; never shown, as of any date
)

// StreamIntegrity is the hash-chain verdict on a whole stream.
type StreamIntegrity struct {
	Stream    string
	Events    uint64
	Status    string // ok, broken, unchained (some events carry no hash), unknown
	BreakAt   uint64
	Reason    string
	Unchained int
}

// internSummary makes what a summary shares with other craftsmen's — its
// strings (region, organisations, trade codes), its organisation lists and
// its map of levels — one copy each across craftsmen: a million summaries
// then hold a few objects each instead of a dozen, which is what the
// collector marks on every cycle. Summaries are read-only to everyone
// (Summary says so). Only the projector calls it (under the write lock).
func (d *domain) internSummary(s *Summary) { d.strs.summary(s) }

// interner hands out one shared copy of equal strings, string lists and
// level maps. A list's key is its strings' lengths (uvarint) and bytes, a
// level map's its codes in order, each with its length and its level
// (uvarint): exactly how a snapshot writes them (appendString,
// writeSummaries), so that a load finds them by the file's bytes.
type interner struct {
	strs   map[string]string
	lists  map[string][]string
	levels map[string]map[string]events.Level
	key    []byte   // scratch
	codes  []string // scratch
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string][]string{}, levels: map[string]map[string]events.Level{}}
}

func (in *interner) str(v string) string {
	if w, ok := in.strs[v]; ok {
		return w
	}
	in.strs[v] = v
	return v
}

// bytes is str of b (a look-up by bytes does not allocate).
func (in *interner) bytes(b []byte) string {
	if w, ok := in.strs[string(b)]; ok {
		return w
	}
	v := string(b)
	in.strs[v] = v
	return v
}

// list returns the shared copy of l (capacity-clipped: an append by a
// reader never writes into it); empty lists are returned as they are.
func (in *interner) list(l []string) []string {
	if len(l) == 0 {
		return l
	}
	in.key = in.key[:0]
	for _, v := range l {
		in.key = appendString(in.key, v) // as the snapshot writes it: a load looks its bytes up
	}
	if w, ok := in.lists[string(in.key)]; ok {
		return w
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = in.str(v)
	}
	in.lists[string(in.key)] = out
	return out
}

// levelMap returns the shared copy of m.
func (in *interner) levelMap(m map[string]events.Level) map[string]events.Level {
	in.key = appendLevels(in.key[:0], m, &in.codes) // as the snapshot writes it
	if w, ok := in.levels[string(in.key)]; ok {
		return w
	}
	out := make(map[string]events.Level, len(m))
	for code, l := range m {
		out[in.str(code)] = l
	}
	in.levels[string(in.key)] = out
	return out
}

func (in *interner) summary(s *Summary) {
	s.Region, s.Personal = in.str(s.Region), in.str(s.Personal)
	s.Employers, s.Academies, s.Linked = in.list(s.Employers), in.list(s.Academies), in.list(s.Linked)
	if s.Levels != nil {
		s.Levels = in.levelMap(s.Levels)
	}
}

// summaryOf derives a craftsman's summary from the events recorded by
// asOf (all when zero), corrections applied.
func summaryOf(c *Craftsman, asOf time.Time) Summary {
	var sc summarising // fresh: the summary may keep its lists and map
	return sc.summary(c, asOf)
}

// liveSummary is the craftsman's summary now, built in the domain's scratch space: what
// summary returns lives in it until internSummary (settle's next step)
// replaces every list and map with the shared copy.
func (d *domain) liveSummary(c *Craftsman) { c.Summary = d.sums.summary(c, time.Time{}) }

// summarising derives summaries. Its scratch space is reused from call to
// call: the lists and the map of levels a summary answers are valid until
// the next call (a zero summarising is fresh).
type summarising struct {
	order     []int32 // records by occurrence (indexes)
	employers []employment
	orgs      []string // the employers' organisations
	academies []string
	linked    []string // the registrar, every employment's employer, every approving HR authority
	// registered: the registration is in force (a retracted one links
	// no registrar)
	registered bool
	levels     map[string]events.Level
}

// employment is an employment in force and its employer.
type employment struct{ id, org string }

// summary derives c's summary from the events recorded by asOf (all when
// zero), corrections applied: what buildView and its fold would give for
// it, without building the view. Without a correction among the records
// (the common case) the facts in force are the records themselves, visited
// in occurrence order without being copied.
func (sc *summarising) summary(c *Craftsman, asOf time.Time) Summary {
	recs := recordedBy(c.Records, asOf, time.Time{})
	sc.employers, sc.academies, sc.linked = sc.employers[:0], sc.academies[:0], sc.linked[:0]
	corrected, registrar := false, ""
	for i := range recs {
		r := &recs[i]
		switch r.Payload.(type) {
		case events.EventCorrected:
			corrected = true
		case events.CraftsmanRegistered:
			if registrar == "" {
				// The organisation that recorded the registration (a
				// correction of it, perhaps by the platform, does not
				// move the registrar).
				registrar = r.Meta.IssuerOrgID
			}
		}
	}
	sc.registered = false
	var prof profile
	if corrected {
		eff, _ := effectiveOf(recs, time.Time{})
		for i := range eff {
			sc.take(&prof, &eff[i])
		}
	} else {
		sc.order = sc.order[:0]
		for i := range recs {
			sc.order = append(sc.order, int32(i))
		}
		slices.SortStableFunc(sc.order, func(a, b int32) int {
			return occurrence(&recs[a]).Compare(occurrence(&recs[b]))
		})
		for _, i := range sc.order {
			sc.take(&prof, &recs[i])
		}
	}
	if sc.registered && registrar != "" {
		sc.linked = append(sc.linked, registrar)
	}
	prof.done(c.erased)
	at := asOf
	if at.IsZero() {
		at = lastMoment(recs)
	}
	st := career.Fold(recs, at, career.AsRecorded)
	if sc.levels == nil {
		sc.levels = make(map[string]events.Level, len(st.Trades))
	}
	clear(sc.levels)
	for code, t := range st.Trades {
		sc.levels[code] = t.Level
	}
	sc.orgs = sc.orgs[:0]
	for _, e := range sc.employers {
		sc.orgs = append(sc.orgs, e.org)
	}
	return Summary{Name: prof.name, Personal: prof.personal, Region: prof.region, Levels: sc.levels,
		Employers: sortedSet(sc.orgs), Academies: sortedSet(sc.academies), Linked: sortedSet(sc.linked)}
}

// take applies one fact in force, in occurrence order.
func (sc *summarising) take(prof *profile, r *events.Recorded) {
	switch p := r.Payload.(type) {
	case events.CraftsmanRegistered:
		prof.registered(&p)
		sc.registered = true
	case events.CraftsmanProfileChanged:
		prof.changed(&p)
	case events.EmploymentStarted:
		sc.linked = append(sc.linked, p.EmployerOrgID) // past employers stay linked
		for i := range sc.employers {
			if sc.employers[i].id == p.EmploymentID {
				sc.employers[i].org = p.EmployerOrgID
				return
			}
		}
		sc.employers = append(sc.employers, employment{p.EmploymentID, p.EmployerOrgID})
	case events.EmploymentEnded:
		sc.employers = slices.DeleteFunc(sc.employers, func(e employment) bool { return e.id == p.EmploymentID })
	case events.TrainingEnrolled:
		sc.academies = append(sc.academies, p.AcademyID)
	case events.TrainingCompleted:
		sc.academies = append(sc.academies, p.AcademyID)
	case events.PromotionEntitlementApproved:
		// The HR authority that approved (核准) one of their entitlements
		// reads the record it decided on (not before: the approval needs
		// only the entitlement and the placement that granted it).
		sc.linked = append(sc.linked, p.ApprovingOrgID)
	}
}

// sortedSet sorts l and drops repeats, in place; an empty list is a
// non-nil empty slice, as summaries have always held.
func sortedSet(l []string) []string {
	if len(l) == 0 {
		return []string{}
	}
	slices.Sort(l)
	return slices.Clip(slices.Compact(l))
}
