package competition

import (
	"context"
	"fmt"
	"sync"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// backfillResults runs back-filled result lines (ResultLine) of one
// craftsman together (command.Group; the lines of Backfill's one worker,
// in file order). Each line is checked and published on its
// competition's stream as PublishResults does it — lines of one
// competition in file order, different competitions at once, each
// through the Combiner — and then the placements of the lines that were
// published go to the craftsman's stream in one append
// (Handler.ExecuteBatch) instead of one each: each decided on the stream
// and the placements before it, so the yearly cap is decided in file
// order. A line refused (or failed) at its check or publication writes no
// placement and leaves the others be; a placement refused by the
// worker's stream leaves its publication recorded, as PublishResults
// does, so that the line sent again completes it.
func (s *service) backfillResults(ctx context.Context, lines []command.GroupLine) []command.BatchResult {
	out := make([]command.BatchResult, len(lines))
	pubs := make([]*publication, len(lines))
	var order []string
	byComp := map[string][]int{}
	for i, l := range lines {
		rl, ok := l.Value.(ResultLine)
		if !ok {
			out[i].Err = errs.E(errs.Internal, "a results line of type %T", l.Value)
			continue
		}
		pub, err := s.checkPublication(l.Ctx, rl.request())
		if err != nil {
			out[i].Err = err
			continue
		}
		pubs[i] = pub
		if _, seen := byComp[rl.CompetitionID]; !seen {
			order = append(order, rl.CompetitionID)
		}
		byComp[rl.CompetitionID] = append(byComp[rl.CompetitionID], i)
	}
	var wg sync.WaitGroup
	for _, c := range order {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			for _, i := range idx {
				if _, err := s.publishOn(lines[i].Ctx, pubs[i]); err != nil {
					out[i].Err, pubs[i] = err, nil
				}
			}
		}(byComp[c])
	}
	wg.Wait()

	var cmds []command.Command
	var answers []func(command.Result) PlacementResult
	var idx []int
	for i, pub := range pubs {
		if pub == nil {
			continue
		}
		if len(pub.pls) != 1 {
			out[i].Err = errs.E(errs.Internal, "publication of one placement decided %d", len(pub.pls))
			continue
		}
		c, answer := s.placement(pub.meta, pub.comp, pub.pls[0], pub.at)
		cmds, answers, idx = append(cmds, c), append(answers, answer), append(idx, i)
	}
	if len(cmds) == 0 {
		return out
	}
	for k, br := range s.h.ExecuteBatch(ctx, cmds[0].Stream, cmds) {
		i := idx[k]
		if br.Err != nil {
			out[i].Err = fmt.Errorf("placement %s: %w", pubs[i].pls[0].PlacementID, br.Err)
			continue
		}
		out[i].Result = answers[k](br.Result).Result
	}
	return out
}
