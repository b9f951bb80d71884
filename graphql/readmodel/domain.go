package readmodel

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// domain is the decoded, indexed state derived from the raw log. It is
// rebuilt by applying the same events in the same order, so a snapshot
// only needs the raw events.
type domain struct {
	reg          *events.Registry
	craftsmen    map[string]*Craftsman
	order        []string // craftsman ids in registration order
	academies    map[string]*Academy
	competitions map[string]*Competition
	mentorships  map[string]*Mentorship
	policies     map[string][]events.Recorded // name -> versions in order
	chains       map[string]*chainState
	undecodable  int
	dirty        map[string]bool // craftsmen whose derived summary must be recomputed
	summarise    func(c *Craftsman)
}

// Craftsman is one worker's decoded ledger plus what links them to
// organisations (for authorization and population queries).
type Craftsman struct {
	ID string
	// Records are the craftsman stream's decoded events in revision order.
	Records []events.Recorded
	// Mentorships are the ids of pairings this craftsman is part of.
	Mentorships []string
	// Summary is the derived live state (levels, eligibility dates) that
	// population queries scan; recomputed when the ledger changes.
	Summary Summary
}

// Summary is the live, derived state of a craftsman used by population
// queries and authorization.
type Summary struct {
	Region    string
	Employers []string                // current employer organisations
	Academies []string                // academies the craftsman trained at
	Issuers   []string                // organisations that recorded events on the ledger
	Levels    map[string]events.Level // trade code -> current level
	// Extra holds views computed by the career adapter (eligibility
	// dates per trade and target level).
	Extra any
}

// Orgs are the organisations linked to the craftsman (employers,
// academies, issuers), sorted and unique.
func (s Summary) Orgs() []string {
	set := map[string]bool{}
	for _, l := range [][]string{s.Employers, s.Academies, s.Issuers} {
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

type chainState struct {
	last      string
	broken    bool
	breakAt   uint64
	reason    string
	unchained map[uint64]bool
	count     uint64
}

func newDomain() *domain {
	return &domain{
		reg: events.NewRegistry(), craftsmen: map[string]*Craftsman{}, academies: map[string]*Academy{},
		competitions: map[string]*Competition{}, mentorships: map[string]*Mentorship{},
		policies: map[string][]events.Recorded{}, chains: map[string]*chainState{}, dirty: map[string]bool{},
		summarise: baseSummary,
	}
}

func (d *domain) apply(ev *eventstore.RecordedEvent) {
	d.chain(ev)
	cat, id, ok := events.SplitStream(ev.Stream)
	if !ok {
		return
	}
	rec, err := d.reg.DecodeRecorded(events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created})
	if err != nil {
		d.undecodable++
		return
	}
	switch cat {
	case events.CategoryCraftsman:
		c := d.craftsman(id)
		c.Records = append(c.Records, rec)
		d.dirty[id] = true
	case events.CategoryAcademy:
		a := d.academies[id]
		if a == nil {
			a = &Academy{ID: id}
			d.academies[id] = a
		}
		a.Records = append(a.Records, rec)
	case events.CategoryCompetition:
		c := d.competitions[id]
		if c == nil {
			c = &Competition{ID: id}
			d.competitions[id] = c
		}
		c.Records = append(c.Records, rec)
	case events.CategoryMentorship:
		m := d.mentorships[id]
		if m == nil {
			m = &Mentorship{ID: id}
			d.mentorships[id] = m
		}
		m.Records = append(m.Records, rec)
		if s, ok := rec.Payload.(events.MentorshipStarted); ok {
			m.MasterID, m.ApprenticeID = s.MasterID, s.ApprenticeID
			for _, who := range []string{s.MasterID, s.ApprenticeID} {
				c := d.craftsman(who)
				c.Mentorships = append(c.Mentorships, id)
				d.dirty[who] = true
			}
		}
	case events.CategoryPolicy:
		d.policies[id] = append(d.policies[id], rec)
	}
}

func (d *domain) craftsman(id string) *Craftsman {
	c := d.craftsmen[id]
	if c == nil {
		c = &Craftsman{ID: id}
		d.craftsmen[id] = c
		d.order = append(d.order, id)
	}
	return c
}

// settle recomputes the summaries of the craftsmen changed since the last
// settle (once per batch, not once per event).
func (d *domain) settle() {
	for id := range d.dirty {
		if c := d.craftsmen[id]; c != nil {
			d.summarise(c)
		}
		delete(d.dirty, id)
	}
}

// chain verifies each event against the previous one of its stream.
func (d *domain) chain(ev *eventstore.RecordedEvent) {
	cs := d.chains[ev.Stream]
	if cs == nil {
		cs = &chainState{}
		d.chains[ev.Stream] = cs
	}
	cs.count++
	var probe struct {
		Hash string `json:"hash"`
	}
	_ = json.Unmarshal(ev.Metadata, &probe)
	if probe.Hash == "" {
		if cs.unchained == nil {
			cs.unchained = map[uint64]bool{}
		}
		cs.unchained[ev.Revision] = true
		cs.last = ""
		return
	}
	if !cs.broken {
		raw := []events.Raw{{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created}}
		if brk := chain.Verify(raw, chain.Options{PrevHash: cs.last}); brk != nil {
			cs.broken, cs.breakAt, cs.reason = true, ev.Revision, brk.Reason
		}
	}
	cs.last = probe.Hash
}

func (d *domain) chainStatus(stream string, revision uint64) string {
	cs := d.chains[stream]
	switch {
	case cs == nil:
		return "unknown"
	case cs.broken && revision >= cs.breakAt:
		return "broken"
	case cs.unchained[revision]:
		return "unchained"
	}
	return "ok"
}

// StreamIntegrity is the hash-chain verdict on a whole stream.
type StreamIntegrity struct {
	Stream    string
	Events    uint64
	Status    string // ok, broken, unchained (some events carry no hash), unknown
	BreakAt   uint64
	Reason    string
	Unchained int
}

func (d *domain) integrity(stream string) StreamIntegrity {
	cs := d.chains[stream]
	if cs == nil {
		return StreamIntegrity{Stream: stream, Status: "unknown"}
	}
	si := StreamIntegrity{Stream: stream, Events: cs.count, Status: "ok", Unchained: len(cs.unchained)}
	switch {
	case cs.broken:
		si.Status, si.BreakAt, si.Reason = "broken", cs.breakAt, cs.reason
	case len(cs.unchained) > 0:
		si.Status = "unchained"
	}
	return si
}

// baseSummary derives the organisation links and region from the records.
func baseSummary(c *Craftsman) {
	s := Summary{Levels: map[string]events.Level{}}
	employers := map[string]string{} // employment id -> org
	academies, issuers := map[string]bool{}, map[string]bool{}
	for _, r := range c.Records {
		if r.Meta.IssuerOrgID != "" {
			issuers[r.Meta.IssuerOrgID] = true
		}
		switch p := r.Payload.(type) {
		case events.CraftsmanRegistered:
			s.Region = p.Region
		case events.CraftsmanProfileChanged:
			if p.Region != "" {
				s.Region = p.Region
			}
		case events.EmploymentStarted:
			employers[p.EmploymentID] = p.EmployerOrgID
		case events.EmploymentEnded:
			delete(employers, p.EmploymentID)
		case events.TrainingEnrolled:
			academies[p.AcademyID] = true
		case events.TrainingCompleted:
			academies[p.AcademyID] = true
		}
	}
	for _, t := range buildView(c, nil, time.Time{}, time.Time{}).Trades {
		s.Levels[t.Trade.Code] = t.Level
	}
	s.Employers = sortedValues(employers)
	s.Academies = sortedKeys(academies)
	s.Issuers = sortedKeys(issuers)
	c.Summary = s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedValues(m map[string]string) []string {
	set := map[string]bool{}
	for _, v := range m {
		set[v] = true
	}
	return sortedKeys(set)
}
