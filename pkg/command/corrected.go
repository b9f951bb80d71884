package command

import (
	"encoding/json"
	"slices"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// correction is the part of a correction event (events.EventCorrected) a
// decision needs; pkg does not import the domain module, so it is read here
// by its JSON shape.
type correction struct {
	SupersedesEventID string `json:"supersedesEventId"`
	Replacement       *struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"replacement"`
}

// Corrected returns the events of h as its corrections leave them, for a
// decision that must see facts as corrected: events of type correctionType
// (events.TypeEventCorrected) are removed; a retracted event is removed; a
// replaced event keeps its id, revision and metadata and takes the
// replacement's type and data. As in the career fold, the latest correction
// of an event decides it, and correcting a correction cancels it (a
// replacement of a correction then applies to what that correction
// targeted). A history without corrections is returned as is.
func Corrected(h History, correctionType string) ([]eventstore.RecordedEvent, error) {
	var corrs []int
	byID := make(map[string]int, len(h.Events))
	for i, e := range h.Events {
		byID[e.ID] = i
		if e.Type == correctionType {
			corrs = append(corrs, i)
		}
	}
	if len(corrs) == 0 {
		return h.Events, nil
	}
	decoded := make(map[int]correction, len(corrs))
	for _, i := range corrs {
		var c correction
		if err := json.Unmarshal(h.Events[i].Data, &c); err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d: %v", h.Stream, h.Events[i].Revision, err)
		}
		decoded[i] = c
	}
	type decision struct{ replaced *int } // index of the correction; nil = retracted
	decided := map[int]decision{}
	cancelled := map[int]bool{}
	for _, ci := range slices.Backward(corrs) {
		if cancelled[ci] {
			continue
		}
		c := decoded[ci]
		target, ok := byID[c.SupersedesEventID]
		for depth := 0; ok && depth < 64 && h.Events[target].Type == correctionType; depth++ {
			cancelled[target] = true
			if c.Replacement == nil {
				ok = false
				break
			}
			target, ok = byID[decoded[target].SupersedesEventID]
		}
		if !ok {
			continue
		}
		if _, done := decided[target]; !done {
			if c.Replacement == nil {
				decided[target] = decision{}
			} else {
				decided[target] = decision{replaced: &ci}
			}
		}
	}
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
		}
		out = append(out, e)
	}
	return out, nil
}
