package mentorship

import (
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// pairing is a mentorship's state, folded from its stream.
type pairing struct {
	started   bool
	start     events.MentorshipStarted
	startedAt time.Time
	status    string // career.MentorshipActive, MentorshipCompleted, MentorshipEndedEarly
	sessions  int
}

func (s *service) foldPairing(h command.History) (pairing, error) {
	var st pairing
	for _, r := range h.Events {
		if !s.reg.Known(r.Type) {
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
