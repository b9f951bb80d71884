package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
)

// maxApprenticesPerMaster keeps the demo far below the service's limit of
// active apprentices, so concurrent starts never hit it.
const maxApprenticesPerMaster = 3

type pairing struct {
	master, apprentice summary
	at                 time.Time
	months             int
	kind               string
	endEarly           bool
}

// planPairings matches young craftsmen with masters of their trade who held
// senior (level 3) or more when the apprenticeship began: deterministic, in
// index order.
func (g *gen) planPairings(sums []summary) []pairing {
	byTrade := map[int][]summary{}
	for _, s := range sums {
		if len(s.levels) > 0 && s.levels[len(s.levels)-1].level >= events.Senior {
			byTrade[s.trade] = append(byTrade[s.trade], s)
		}
	}
	taken := map[int]int{}
	var out []pairing
	for _, a := range sums {
		if !a.apprentice {
			continue
		}
		r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(a.idx)<<20|0x5eed))
		at := a.start.AddDate(0, r.IntN(3), r.IntN(28))
		cands := slices.DeleteFunc(slices.Clone(byTrade[a.trade]), func(m summary) bool {
			// masters come before their apprentice in the population, so a
			// pairing does not change when the population grows
			return m.idx >= a.idx || taken[m.idx] >= maxApprenticesPerMaster || m.levelOn(at) < events.Senior ||
				m.levelOn(at) <= a.levelOn(End) // the service compares with what the apprentice holds when it decides
		})
		if len(cands) == 0 {
			continue
		}
		local := slices.DeleteFunc(slices.Clone(cands), func(m summary) bool { return m.province != a.province })
		if len(local) > 0 {
			cands = local
		}
		m := cands[r.IntN(len(cands))]
		taken[m.idx]++
		kind := events.MentorshipApprenticeship
		if r.IntN(2) == 0 {
			kind = events.MentorshipMasterApprentice
		}
		out = append(out, pairing{master: m, apprentice: a, at: at, months: 12 * (1 + r.IntN(2)), kind: kind, endEarly: r.Float64() < 0.1})
	}
	return out
}

// groupPairings splits the pairings into groups that share no craftsman
// (connected components of master–apprentice links), each in plan order:
// groups run concurrently, a group's pairings one after the other, so every
// worker's stream gets its mentorship events in the same order on every run
// (the hash chain depends on it).
func groupPairings(pairs []pairing) [][]pairing {
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, p := range pairs {
		a, b := find(p.master.idx), find(p.apprentice.idx)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	index := map[int]int{}
	var groups [][]pairing
	for _, p := range pairs {
		root := find(p.master.idx)
		k, ok := index[root]
		if !ok {
			k = len(groups)
			index[root] = k
			groups = append(groups, nil)
		}
		groups[k] = append(groups[k], p)
	}
	return groups
}

// mentorships records the planned pairings: start, progress sessions, and
// completion with the level the apprentice reached (or an early end).
func (g *gen) mentorships(ctx context.Context, sums []summary) (int, error) {
	pairs := g.planPairings(sums)
	groups := groupPairings(pairs)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(g.cfg.Concurrency, max(1, len(groups))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(groups) {
					return
				}
				for _, p := range groups[k] {
					if err := g.pairing(ctx, p); err != nil {
						cancel(err)
						return
					}
					g.progress("mentorships", int(done.Add(1)), len(pairs), false)
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	g.progress("mentorships", len(pairs), len(pairs), true)
	return len(pairs), nil
}

func (g *gen) pairing(ctx context.Context, p pairing) error {
	a := g.w.academies[p.apprentice.home]
	as := issuerOf(a.id)
	id := "m-" + CraftsmanID(p.apprentice.idx)
	key := "demo:" + id + ":"
	tr := trades[p.apprentice.trade]
	resOf := func(r mentorship.Response, err error) (command.Result, error) {
		res := r.Mentorship
		res.Replayed = r.Replayed
		if !r.Replayed {
			// three streams: count the copies on both workers' streams too
			res.EventIDs = append(append(append([]string(nil), r.Mentorship.EventIDs...), r.Master.EventIDs...), r.Apprentice.EventIDs...)
		}
		return res, err
	}
	if _, err := g.exec(ctx, as, key+"start", p.at, func(ctx context.Context) (command.Result, error) {
		return resOf(g.svc.Mentorship.StartMentorship(ctx, mentorship.StartRequest{MentorshipID: id, MasterID: CraftsmanID(p.master.idx),
			ApprenticeID: CraftsmanID(p.apprentice.idx), Kind: p.kind, Trade: tr.Trade, AcademyID: a.id, PlannedMonths: p.months, OccurredAt: date(p.at)}))
	}); err != nil {
		return fmt.Errorf("mentorship %s: start: %w", id, err)
	}
	end := p.at.AddDate(0, p.months, 0)
	for k := 1; k <= p.months/6; k++ {
		at := p.at.AddDate(0, 6*k-3, 0)
		if at.After(End) || !at.Before(end) {
			break
		}
		sid := fmt.Sprintf("s%d", k)
		topic := []string{"安全操作规程", "识图与工艺", "典型故障排除", "技能竞赛集训"}[k%4]
		if _, err := g.exec(ctx, as, key+sid, at, func(ctx context.Context) (command.Result, error) {
			return resOf(g.svc.Mentorship.LogSession(ctx, mentorship.LogSessionRequest{MentorshipID: id, SessionID: sid, Hours: 16, Topic: topic, OccurredAt: date(at)}))
		}); err != nil {
			return fmt.Errorf("mentorship %s: session: %w", id, err)
		}
	}
	if p.endEarly {
		at := p.at.AddDate(0, p.months/2, 0)
		if at.After(End) {
			return nil
		}
		_, err := g.exec(ctx, as, key+"end", at, func(ctx context.Context) (command.Result, error) {
			return resOf(g.svc.Mentorship.EndMentorship(ctx, mentorship.EndRequest{MentorshipID: id, Reason: "学徒调岗", OccurredAt: date(at)}))
		})
		return err
	}
	if end.After(End) {
		return nil // still under way on the demo's last day
	}
	reached := max(p.apprentice.levelOn(end), events.Apprentice)
	_, err := g.exec(ctx, as, key+"complete", end, func(ctx context.Context) (command.Result, error) {
		return resOf(g.svc.Mentorship.CompleteMentorship(ctx, mentorship.CompleteRequest{MentorshipID: id, LevelReached: &reached, OccurredAt: date(end)}))
	})
	if err != nil {
		return fmt.Errorf("mentorship %s: complete: %w", id, err)
	}
	return nil
}

// conferrer is the organisation recording an honour a placement in
// competition c triggers: the one acting as the honour's conferring body
// (the catalogue's, else the trigger's), as ConferringBodies says —
// MOHRSS and ACFTU themselves, a province's trade-union federation
// (unionOf) for trade-union honours, else the competition's HR authority.
func conferrer(c competitionSpec, h competition.TriggeredHonour) string {
	body := h.ConferringBody
	for _, k := range events.HonourCatalogue() {
		if k.Code == h.HonourCode {
			body = k.ConferringBody
		}
	}
	switch body {
	case "MOHRSS":
		return orgMOHRSS
	case "ACFTU":
		return orgACFTU
	case bodyProvincialUnion, bodyCityUnion:
		for _, pv := range provinces {
			if pv.name == c.province {
				return unionOf(pv)
			}
		}
	}
	return c.hr
}

// triggeredHonours confers the honours a placement triggered, linked to it.
func (g *gen) triggeredHonours(ctx context.Context, c competitionSpec, pr competition.PlacementResult) error {
	if g.svc.Honour == nil {
		return nil
	}
	at := day(c.date).AddDate(0, 1, 0)
	if at.After(End) {
		return nil
	}
	catalogue := map[string]bool{}
	for _, h := range events.HonourCatalogue() {
		catalogue[h.Code] = true
	}
	for _, h := range pr.Honours {
		org := conferrer(c, h)
		req := honour.ConferRequest{CraftsmanID: pr.CraftsmanID, Code: h.HonourCode, Name: h.HonourName, PlacementID: pr.PlacementID, OccurredAt: date(at)}
		if !catalogue[h.HonourCode] {
			req.Level, req.ConferringBody = h.Level, h.ConferringBody
		}
		_, err := g.exec(ctx, issuerOf(org), "demo:"+pr.CraftsmanID+":honour-"+pr.PlacementID+"-"+h.HonourCode, at, func(ctx context.Context) (command.Result, error) {
			return g.svc.Honour.ConferHonour(command.WithRequest(ctx, command.KeyFrom(ctx), "", pr.PlacementEventID), req)
		})
		if err != nil {
			return fmt.Errorf("craftsman %s: honour %s: %w", pr.CraftsmanID, h.HonourCode, err)
		}
	}
	return nil
}
