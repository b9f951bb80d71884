package mentorship

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// pairing is a mentorship's state, folded from its stream.
type pairing struct {
	started   bool
	start     events.MentorshipStarted
	startedAt time.Time
	status    string // career.MentorshipActive, MentorshipCompleted, MentorshipEndedEarly
	sessions  int
}

// foldPairing folds a pairing's stream, leaving out the events of
// dropped (those whose copies the workers' corrections retracted:
// copies.dropped).
func (s *service) foldPairing(h command.History, dropped map[string]bool) (pairing, error) {
	var st pairing
	for _, r := range h.Events {
		if !s.reg.Known(r.Type) || dropped[r.ID] {
			continue
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return st, errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
		}
		switch p := p.(type) {
		case events.MentorshipStarted:
			m, err := command.DecodeMetadata(r.Metadata)
			if err != nil {
				return st, err
			}
			st.started, st.start, st.startedAt, st.status = true, p, m.OccurredAt, career.MentorshipActive
		case events.MentorshipSessionLogged:
			st.sessions++
		case events.MentorshipCompleted:
			st.status = career.MentorshipCompleted
		case events.MentorshipEndedEarly:
			st.status = career.MentorshipEndedEarly
		}
	}
	return st, nil
}

// copies are the two workers' streams holding the copies of a pairing's
// facts, as a pairing's decisions read them: corrections are recorded on
// the workers' streams (servicekit.Corrector corrects a craftsman's
// stream; every view and audit reads the facts there), never on the
// pairing's, so the pairing's stream alone cannot tell a retracted
// completion from one in force.
type copies struct {
	mentorshipID string
	workers      [2]command.History
	onWorker     [2]servicekit.Retraction // the workers' own corrections
}

// copies reads the streams of start's two workers (through the handler,
// which then holds them for the copies' appends).
func (s *service) copies(ctx context.Context, mentorshipID string, start events.MentorshipStarted) (*copies, error) {
	c := &copies{mentorshipID: mentorshipID}
	var errs2 [2]error
	var wg sync.WaitGroup
	for i, w := range []string{start.MasterID, start.ApprenticeID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.workers[i], errs2[i] = s.h.Latest(ctx, events.CraftsmanStream(w))
		}()
	}
	wg.Wait()
	for i, err := range errs2 {
		if err != nil {
			return nil, err
		}
		c.onWorker[i] = servicekit.RetractedOn(c.workers[i])
	}
	return c, nil
}

// retracted says whether the pairing's recording of fact (the link-th of
// its chain of ids, servicekit.FactOnStream) is retracted: a correction on
// either worker's stream retracted that worker's copy of the same link. A
// worker's stream holding no copy of the link leaves it in force.
func (c *copies) retracted(fact string) servicekit.Retraction {
	return func(link int, _ string) (bool, error) {
		for i, h := range c.workers {
			id := eventID(c.mentorshipID, fact, h.Stream)
			for range link {
				id = servicekit.RecordedAgainID(id)
			}
			gone, err := c.onWorker[i](link, id)
			if err != nil || gone {
				return gone, err
			}
		}
		return false, nil
	}
}

// agree refuses a fact (what names it) whose copies on the two workers'
// streams a correction left disagreeing: retracted on one stream, still in
// force on the other. The pairing takes a fact retracted on either stream
// as retracted (retracted) and would record it again, but the stream whose
// copy is in force would answer with that copy: the new recording would
// stand on two streams of three. Decided before anything is appended. A
// stream that merely lacks the copy of the link in force on the other (an
// earlier request stopped between the two appends) disagrees with nothing:
// the request completes it.
func (c *copies) agree(fact, what string) error {
	var links [2]int
	var gone, kept [2]bool
	for i, h := range c.workers {
		link, _, e, err := servicekit.FactOnStream(h, eventID(c.mentorshipID, fact, h.Stream), c.onWorker[i])
		if err != nil {
			return err
		}
		links[i], gone[i], kept[i] = link, e == nil && link > 0, e != nil
	}
	for i := range c.workers {
		// Link links[i]-1 is retracted on stream i; in force on the other.
		if gone[i] && kept[1-i] && links[1-i] < links[i] {
			return errs.E(errs.FailedPrecondition,
				"mentorship %s: a correction on %s retracted %s, but its copy on %s is still in force; retract it there too",
				c.mentorshipID, c.workers[i].Stream, what, c.workers[1-i].Stream)
		}
	}
	return nil
}

// dropped are the events of the pairing's stream h that decide its state
// (its start, completion and early end) and that the workers' corrections
// retracted (retracted).
func (c *copies) dropped(h command.History) (map[string]bool, error) {
	var out map[string]bool
	for _, fact := range []string{"started", "completed", "ended"} {
		gone := c.retracted(fact)
		id := eventID(c.mentorshipID, fact, h.Stream)
		for link := 0; slices.ContainsFunc(h.Events, func(e eventstore.RecordedEvent) bool { return e.ID == id }); link++ {
			g, err := gone(link, id)
			if err != nil {
				return nil, err
			}
			if g {
				if out == nil {
					out = map[string]bool{}
				}
				out[id] = true
			}
			id = servicekit.RecordedAgainID(id)
		}
	}
	return out, nil
}

// startRetracted refuses a start whose copy on a worker's stream a
// correction retracted: a pairing's id names one pairing, and the workers'
// corrections retracted this one's start (the pairing's stream keeps it;
// recording it again on one stream alone would leave the three streams
// disagreeing), so it is started again under a new id.
func startRetracted(mentorshipID string) func(command.History) servicekit.Retraction {
	return func(h command.History) servicekit.Retraction {
		gone := servicekit.RetractedOn(h)
		return func(link int, id string) (bool, error) {
			g, err := gone(link, id)
			if err == nil && g {
				return false, kit.FieldErr("mentorshipId", errs.E(errs.FailedPrecondition,
					"mentorship %s: a correction on %s retracted its start; start the pairing under a new id", mentorshipID, h.Stream))
			}
			return g, err
		}
	}
}

// endOfTime is the as-of instant of folds that must see every fact.
func (s *service) endOfTime() time.Time { return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }

// career folds a craftsman's stream with the events module's career fold
// (corrections applied) as of asOf.
func (s *service) career(h command.History, asOf time.Time) (*career.State, error) {
	recs, err := s.decoded.Facts(s.reg, h)
	if err != nil {
		return nil, err
	}
	return career.Fold(recs, asOf, career.AsOccurred), nil
}

// careerNowAndAt folds a craftsman's stream twice: with every fact (now)
// and as of at (then; the caller reads only its levels from it). A fold as
// of a date drops the facts that occurred after it and nothing else, so
// when none did — and no correction, which may carry its own date, is in
// the stream — both folds see the same facts and one fold serves both.
func (s *service) careerNowAndAt(h command.History, at time.Time) (now, then *career.State, err error) {
	recs, err := s.decoded.Facts(s.reg, h)
	if err != nil {
		return nil, nil, err
	}
	now = career.Fold(recs, s.endOfTime(), career.AsOccurred)
	for _, r := range recs {
		if _, corr := r.Payload.(events.EventCorrected); corr || r.Meta.OccurredAt.After(at) {
			return now, career.Fold(recs, at, career.AsOccurred), nil
		}
	}
	return now, now, nil
}
