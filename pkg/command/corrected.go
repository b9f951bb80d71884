package command

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// correction is the part of a correction event (events.EventCorrected) a
// decision needs, read by its JSON shape (the replacement's data is not
// decoded).
type correction struct {
	SupersedesEventID string `json:"supersedesEventId"`
	Replacement       *struct {
		Type       string          `json:"type"`
		Data       json.RawMessage `json:"data"`
		OccurredAt *time.Time      `json:"occurredAt"`
	} `json:"replacement"`
}

// Corrected returns the events of h as its corrections leave them, for a
// decision that must see facts as corrected: events of type correctionType
// (events.TypeEventCorrected) are removed; a retracted event is removed; a
// replaced event keeps its id, revision and metadata and takes the
// replacement's type and data, and its occurredAt when the replacement
// gives one (the metadata is then re-encoded with it, so its hash no
// longer covers it: the result is for decisions, not for the chain). As in
// the career fold, the latest correction of an event decides it, and
// correcting a correction cancels it (a replacement of a correction then
// applies to what that correction targeted); a correction replacing its
// fact with a fact of another type decides nothing
// (events.ForeignReplacement). A history without corrections is returned
// as is.
func Corrected(h History, correctionType string) ([]eventstore.RecordedEvent, error) {
	d, err := decideCorrections(h, correctionType)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return h.Events, nil
	}
	corrs, decoded, decided := d.corrs, d.decoded, d.decided
	out := make([]eventstore.RecordedEvent, 0, len(h.Events)-len(corrs))
	for i, e := range h.Events {
		if e.Type == correctionType {
			continue
		}
		if d, ok := decided[i]; ok {
			if d.replaced == nil {
				continue
			}
			rep := decoded[*d.replaced].Replacement
			if rep.Type != "" {
				e.Type = rep.Type
			}
			e.Data = rep.Data
			if rep.OccurredAt != nil {
				if e.Metadata, err = withOccurredAt(e.Metadata, *rep.OccurredAt); err != nil {
					return nil, errs.E(errs.Internal, "%s@%d as corrected: %v", h.Stream, e.Revision, err)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// withOccurredAt returns metadata with its occurredAt set to at.
func withOccurredAt(metadata []byte, at time.Time) ([]byte, error) {
	m, err := DecodeMetadata(metadata)
	if err != nil {
		return nil, err
	}
	m.OccurredAt = at.UTC()
	return json.Marshal(m)
}

// InForce returns the ids of h's corrections (events of type
// correctionType) that are in force: each decides its target (the latest
// correction of an event decides it) or reverses a correction, and no
// later correction reverses it. A correction another one replaced or
// reversed, or one a later correction of the same event overrides, is
// not in force.
func InForce(h History, correctionType string) (map[string]bool, error) {
	d, err := decideCorrections(h, correctionType)
	if err != nil || d == nil {
		return map[string]bool{}, err
	}
	out := make(map[string]bool, len(d.effective))
	for ci := range d.effective {
		out[h.Events[ci].ID] = true
	}
	return out, nil
}

// corrections is what h's corrections decide (decideCorrections).
type corrections struct {
	corrs   []int // indices of the corrections
	decoded map[int]correction
	// decided maps each corrected event's index to its deciding
	// correction's (nil: retracted).
	decided map[int]decision
	// effective are the indices of the corrections in force.
	effective map[int]bool
}

type decision struct{ replaced *int } // index of the correction; nil = retracted

// decideCorrections walks h's corrections from the latest: the latest
// correction of an event decides it, and correcting a correction cancels
// it (a replacement of a correction then applies to what that correction
// targeted). A correction whose replacement is of another type than the
// fact at the root of its chain decides nothing and is not in force
// (events.ForeignReplacement: the career fold's rule). It returns nil for
// a history without corrections.
func decideCorrections(h History, correctionType string) (*corrections, error) {
	var corrs []int
	byID := make(map[string]int, len(h.Events))
	for i, e := range h.Events {
		byID[e.ID] = i
		if e.Type == correctionType {
			corrs = append(corrs, i)
		}
	}
	if len(corrs) == 0 {
		return nil, nil
	}
	decoded := make(map[int]correction, len(corrs))
	for _, i := range corrs {
		var c correction
		if err := json.Unmarshal(h.Events[i].Data, &c); err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d: %v", h.Stream, h.Events[i].Revision, err)
		}
		decoded[i] = c
	}
	decided := map[int]decision{}
	cancelled := map[int]bool{}
	effective := map[int]bool{}
	target := func(id string) (string, string, bool) {
		i, ok := byID[id]
		if !ok {
			return "", "", false
		}
		if h.Events[i].Type == correctionType {
			return events.TypeEventCorrected, decoded[i].SupersedesEventID, true
		}
		return h.Events[i].Type, "", true
	}
	for _, ci := range slices.Backward(corrs) {
		if cancelled[ci] {
			continue
		}
		c := decoded[ci]
		if c.Replacement != nil && events.ForeignReplacement(c.Replacement.Type, c.SupersedesEventID, target) {
			continue
		}
		target, ok := byID[c.SupersedesEventID]
		reverses := false
		for depth := 0; ok && depth < 64 && h.Events[target].Type == correctionType; depth++ {
			cancelled[target] = true
			reverses = true
			if c.Replacement == nil {
				ok = false
				break
			}
			target, ok = byID[decoded[target].SupersedesEventID]
		}
		if !ok {
			if reverses {
				effective[ci] = true
			}
			continue
		}
		if _, done := decided[target]; !done {
			effective[ci] = true
			if c.Replacement == nil {
				decided[target] = decision{}
			} else {
				decided[target] = decision{replaced: &ci}
			}
		}
	}
	return &corrections{corrs: corrs, decoded: decoded, decided: decided, effective: effective}, nil
}
