package mentorship

import (
	"context"
	"encoding/json"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// laterFacts names the pairing's facts that may not precede its start, as
// a refusal names them.
var laterFacts = map[string]string{
	events.TypeMentorshipSessionLogged: "a session",
	events.TypeMentorshipCompleted:     "the completion",
	events.TypeMentorshipEndedEarly:    "the early end",
}

// datesStayOrdered is the mentorship service's servicekit.Corrector.Follow:
// a correction of a pairing's fact must leave, on the worker's stream as
// corrected, what LogSession, CompleteMentorship and EndMentorship refuse
// (follow): a session, completion or early end dated before the pairing's
// start, counted in days of the ledger's calendar (career.BeforeDay). A
// corrected session, completion or early end is compared with the start;
// a corrected start (re-dated, or back in force through a reversal) with
// every session, completion and early end of its pairing on the stream.
// The refusal is 400 on replacement.occurredAt when the correction
// re-dates, else on supersedesEventId; nothing is written.
//
// The start date is read on the corrected worker's stream, as corrected,
// and nowhere else: that stream is the one the correction changes and the
// one every view, export and verify reads the worker's pairing from (the
// other worker's copies are unchanged by it and checked when they are
// corrected); it is the history the correction's append is decided on, so
// the check needs no read of its own and cannot race it; and the start
// may itself have been re-dated there by an earlier correction, which the
// pairing's stream never sees (its dates stay the pairing's own, state.go)
// — checking against the pairing's start would refuse a completion moved
// into the corrected start's first days and let one through before it.
// Requiring both workers' copies to agree would refuse the documented way
// of fixing a pairing's date: correcting it on one worker, then on the
// other. A start no longer in force on the stream (retracted, as a start
// that lost a race is, startRest) leaves nothing to compare. It appends
// nothing.
func (s *service) datesStayOrdered(_ context.Context, k servicekit.Correcting) ([]command.Event, error) {
	typ := events.CurrentType(k.Original.Type)
	_, later := laterFacts[typ]
	if typ != events.TypeMentorshipStarted && !later {
		return nil, nil
	}
	mentorshipID, err := pairingOf(*k.Original)
	if err != nil {
		return nil, err
	}
	evs, err := k.AsCorrected()
	if err != nil {
		return nil, err
	}
	field := k.DateField()
	var (
		started   bool
		startedAt time.Time
		facts     []eventstore.RecordedEvent // the pairing's later facts to compare
	)
	for _, r := range evs {
		t := events.CurrentType(r.Type)
		_, isLater := laterFacts[t]
		if t != events.TypeMentorshipStarted && !isLater {
			continue
		}
		id, err := pairingOf(r)
		if err != nil {
			return nil, err
		}
		switch {
		case id != mentorshipID:
		case t == events.TypeMentorshipStarted:
			if !started {
				started, startedAt = true, command.OccurredAt(r)
			}
		case typ == events.TypeMentorshipStarted || r.ID == k.Original.ID:
			facts = append(facts, r)
		}
	}
	if !started {
		return nil, nil
	}
	for _, r := range facts {
		if at := command.OccurredAt(r); career.BeforeDay(at, startedAt) {
			return nil, kit.Invalid(field, "the correction would leave %s of mentorship %s (%s) dated before its start (%s) on %s",
				laterFacts[events.CurrentType(r.Type)], mentorshipID, career.CivilDay(at), career.CivilDay(startedAt), k.History.Stream)
		}
	}
	return nil, nil
}

// pairingOf is the mentorship id of a pairing's fact.
func pairingOf(r eventstore.RecordedEvent) (string, error) {
	var p struct {
		MentorshipID string `json:"mentorshipId"`
	}
	if err := json.Unmarshal(r.Data, &p); err != nil || p.MentorshipID == "" {
		return "", errs.E(errs.Internal, "decode %s@%d (%s): no mentorship id (%v)", r.Stream, r.Revision, r.Type, err)
	}
	return p.MentorshipID, nil
}
