package mentorship

import (
	"context"
	"sync"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// lineParallel is how many lines of one group backfillStarts checks, or
// writes to their pairings' and apprentices' streams, at a time.
const lineParallel = 8

// backfillStarts runs back-filled pairings (MentorshipLine) of one master
// together (command.Group; the lines of Backfill's one worker, in file
// order). The lines are checked as StartMentorship checks a start (their
// reads at once), then their starts go to the master's stream in one
// append (Handler.ExecuteBatch) instead of one each — each decided on the
// stream and the starts before it, so the level rule and the limit on
// active apprentices are decided in file order — and then each started
// line goes on as alone: the pairing's and the apprentice's streams, its
// sessions, its completion or early end (lines at once: a group's segment
// holds no pairing twice). A line that completes or ends its pairing
// changes the limit for the lines after it: they are decided after it is
// done. So does a line that sends a pairing an earlier line of the group
// sent (its start is then checked against the start as recorded: the
// dates of its sessions, the same parties and terms), as Group.Run
// promises: each line decides as if the lines before it had run alone
// before it. A line refused at its check or on the master's stream writes
// nothing and leaves the others be; one failing after its master's copy
// leaves what a failed StartMentorship leaves, which the line sent again
// completes.
func (s *service) backfillStarts(ctx context.Context, lines []command.GroupLine) []command.BatchResult {
	out := make([]command.BatchResult, len(lines))
	for lo := 0; lo < len(lines); {
		hi := lo + 1
		seen := map[string]bool{}
		for hi < len(lines) {
			l, ok := lines[hi-1].Value.(MentorshipLine)
			if ok && l.ends() {
				break
			}
			if ok {
				seen[l.MentorshipID] = true
			}
			if next, ok := lines[hi].Value.(MentorshipLine); ok && seen[next.MentorshipID] {
				break
			}
			hi++
		}
		s.startSegment(ctx, lines[lo:hi], out[lo:hi])
		lo = hi
	}
	return out
}

// startSegment runs lines whose starts may be decided together (only the
// last may end its pairing, and no pairing appears twice: backfillStarts
// cuts the segments so), answering each in out.
func (s *service) startSegment(ctx context.Context, lines []command.GroupLine, out []command.BatchResult) {
	ls := make([]MentorshipLine, len(lines))
	sts := make([]*start, len(lines))
	parallel(len(lines), func(i int) {
		l, ok := lines[i].Value.(MentorshipLine)
		if !ok {
			out[i].Err = errs.E(errs.Internal, "a mentorships line of type %T", lines[i].Value)
			return
		}
		ls[i] = l
		sts[i], out[i].Err = s.checkStart(lines[i].Ctx, l.StartRequest, false)
	})
	var cmds []command.Command
	var answers []func(command.Result) command.Result
	var idx []int
	for i, st := range sts {
		if st != nil {
			c, answer := s.masterCommand(st)
			cmds, answers, idx = append(cmds, c), append(answers, answer), append(idx, i)
		}
	}
	if len(cmds) == 0 {
		return
	}
	master := make([]command.Result, len(lines))
	for k, br := range s.h.ExecuteBatch(ctx, cmds[0].Stream, cmds) {
		i := idx[k]
		if out[i].Err = br.Err; br.Err != nil {
			sts[i] = nil
			continue
		}
		master[i] = answers[k](br.Result)
	}
	// The rest of each started line, at once (each of its own pairing).
	parallel(len(sts), func(i int) {
		if sts[i] == nil {
			return
		}
		resp, err := s.startRest(lines[i].Ctx, sts[i], master[i])
		if err == nil {
			out[i].Result, err = ls[i].rest(lines[i].Ctx, s, resp)
		}
		out[i].Err = err
	})
}

// parallel runs f(0..n-1), lineParallel at a time, and waits for them.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, lineParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
