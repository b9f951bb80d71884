package main

// The auditors' commands: replay, verify, state, diff, export and
// credential, over pkg/audit and pkg/credential. See docs/audit.md.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/services/craftledger/ctl"
	"github.com/craftledger/craftledger/services/craftledger/generate"
)

// auditCommands are the auditors' entries of ledgerctl's registration table.
func auditCommands() []ctl.Command {
	return []ctl.Command{replayCmd(), verifyCmd(), stateCmd(), diffCmd(), exportCmd(), credentialCmd()}
}

// usageErr reports a usage mistake and exits 2, like a flag error.
func usageErr(env *ctl.Env, format string, args ...any) error {
	fmt.Fprintf(env.Stderr, "ledgerctl: "+format+"\n", args...)
	return ctl.ExitError{Code: 2}
}

// badArg reports an option that cannot be used — a malformed or
// conflicting value (errs.InvalidArgument) — as a usage mistake (exit 2);
// other errors are returned as they are.
func badArg(env *ctl.Env, err error) error {
	if err != nil && errors.Is(err, errs.InvalidArgument) {
		return usageErr(env, "%v", err)
	}
	return err
}

// noArgs refuses positional arguments to a command that takes none: a
// stream named without --stream must not silently widen the scope.
func noArgs(env *ctl.Env, cmd string, args []string) error {
	if len(args) > 0 {
		return usageErr(env, "%s: unexpected arguments %q (options are --flags: e.g. --stream S)", cmd, args)
	}
	return nil
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// progressModes are --progress's values.
var progressModes = []string{"auto", "on", "off"}

func checkProgress(env *ctl.Env, mode string) error {
	if !slices.Contains(progressModes, mode) {
		return usageErr(env, "--progress must be auto, on or off, not %q", mode)
	}
	return nil
}

// progressFlag registers --progress: "auto" draws a bar on stderr when it
// is a terminal, "on" always, "off" never.
func progressFlag(fs *flag.FlagSet, mode *string) {
	fs.StringVar(mode, "progress", "auto", "progress bar on stderr: auto (when a terminal), on, off")
}

func progressBar(env *ctl.Env, mode string) audit.ProgressFunc {
	switch mode {
	case "off":
		return nil
	case "auto":
		if !generate.IsTerminal(env.Stderr) {
			return nil
		}
	}
	return func(p audit.Progress) {
		const width = 30
		bar := strings.Repeat("·", width)
		pct := "   ?"
		if p.Fraction >= 0 {
			n := int(p.Fraction * width)
			bar = strings.Repeat("█", n) + strings.Repeat("·", width-n)
			pct = fmt.Sprintf("%3.0f%%", p.Fraction*100)
		}
		items := ""
		if p.Total > 0 {
			items = fmt.Sprintf(" %d/%d", p.Items, p.Total)
		}
		fmt.Fprintf(env.Stderr, "\r%-7s [%s] %s%s %d events %.0f events/s   ", p.Phase, bar, pct, items, p.Events, p.Rate())
		if p.Done {
			fmt.Fprintln(env.Stderr)
		}
	}
}

func parsePosition(s string) (*eventstore.Position, error) {
	if s == "" {
		return nil, nil
	}
	c, pr, two := strings.Cut(s, "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "position %q: want commit or commit/prepare", s)
	}
	prepare := commit
	if two {
		if prepare, err = strconv.ParseUint(pr, 10, 64); err != nil {
			return nil, errs.E(errs.InvalidArgument, "position %q: want commit or commit/prepare", s)
		}
	}
	return &eventstore.Position{Commit: commit, Prepare: prepare}, nil
}

func parseRevision(s string) (*uint64, error) {
	if s == "" {
		return nil, nil
	}
	r, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "revision %q is not a number", s)
	}
	return &r, nil
}

func parseTimeFlag(name, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := audit.ParseTime(s, end)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", name, err)
	}
	return t, nil
}

// output opens --out: stdout when path is empty or "-", else a new file
// beside path (.NAME.tmp-…, created with the mode os.Create would give, or
// path's own mode when it exists). commit flushes it to disk (fsync) and
// renames it over path; abort, deferred by the caller, removes it unless
// committed. So a command that fails — a store that cannot be reached, a
// scope with no events, an interrupt (SIGINT cancels the context) — leaves
// path as it was, never a header-only, empty or truncated file. A path
// that is a symbolic link is followed (the file it names is replaced, the
// link stays); one that is not a regular file (/dev/stdout, /dev/null, a
// named pipe) is written in place, as before: there is nothing to replace.
// On stdout commit and abort do nothing.
func output(env *ctl.Env, path string) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" || path == "-" {
		return env.Stdout, func() error { return nil }, func() {}, nil
	}
	var keep *fs.FileMode // an existing file's mode, kept
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return nil, nil, nil, fmt.Errorf("--out %s is a directory", path)
		case !fi.Mode().IsRegular():
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return nil, nil, nil, err
			}
			return f, f.Close, func() { _ = f.Close() }, nil
		}
		m := fi.Mode().Perm()
		keep = &m
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var f *os.File
	for range 100 {
		f, err = os.OpenFile(filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if keep != nil {
		_ = f.Chmod(*keep)
	}
	done := false
	commit = func() error {
		if done {
			return nil
		}
		done = true
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			_ = os.Remove(f.Name())
		}
		return err
	}
	abort = func() {
		if !done {
			done = true
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}
	return f, commit, abort, nil
}

func withStore(ctx context.Context, env *ctl.Env, fn func(eventstore.Store) error) error {
	st, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func replayCmd() ctl.Command {
	var stream, category, fromRev, toRev, fromPos, toPos, recordedBy, format, out, progress string
	var parallel int
	var flags *flag.FlagSet
	return ctl.Command{
		Name: "replay", Summary: "replay a stream, a category or everything, as JSON Lines or a table",
		Usage: "[--stream S | --category C] [--from-revision N --to-revision N | --from-position P --to-position P] [--recorded-by DATE] [--format jsonl|table] [--out FILE]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&stream, "stream", "", "one stream (craftsman-42)")
			fs.StringVar(&category, "category", "", "one category (craftsman, academy, competition, mentorship, policy, …)")
			fs.StringVar(&fromRev, "from-revision", "", "first revision (stream only, inclusive)")
			fs.StringVar(&toRev, "to-revision", "", "last revision (stream only, inclusive)")
			fs.StringVar(&fromPos, "from-position", "", "first $all position, commit or commit/prepare (category or all, inclusive)")
			fs.StringVar(&toPos, "to-position", "", "last $all position (inclusive)")
			fs.StringVar(&recordedBy, "recorded-by", "", "only events recorded by then (date = end of that day in the ledger's calendar, UTC+8, or RFC 3339)")
			flags = fs
			fs.StringVar(&format, "format", "table", "jsonl or table (--json means jsonl; with --format table it is a usage error)")
			fs.StringVar(&out, "out", "", "write to this file instead of stdout")
			fs.IntVar(&parallel, "parallel", 0, "concurrent reads of $all for a category or everything (0 = 2-4 by CPU count, 1 = one sequential read); the output and findings are the same")
			progressFlag(fs, &progress)
		},
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if err := noArgs(env, "replay", args); err != nil {
				return err
			}
			if err := checkProgress(env, progress); err != nil {
				return err
			}
			if parallel < 0 {
				return usageErr(env, "--parallel %d: must be 0 (automatic) or more", parallel)
			}
			var opts audit.ReplayOptions
			opts.Scope = audit.Scope{Stream: stream, Category: category}
			opts.Parallel = parallel
			var err error
			if opts.FromRevision, err = parseRevision(fromRev); err != nil {
				return badArg(env, err)
			}
			if opts.ToRevision, err = parseRevision(toRev); err != nil {
				return badArg(env, err)
			}
			if opts.FromPosition, err = parsePosition(fromPos); err != nil {
				return badArg(env, err)
			}
			if opts.ToPosition, err = parsePosition(toPos); err != nil {
				return badArg(env, err)
			}
			if opts.RecordedBy, err = parseTimeFlag("recorded-by", recordedBy, true); err != nil {
				return badArg(env, err)
			}
			// Checked before anything is written (a table's header).
			if err := opts.Scope.Validate(); err != nil {
				return badArg(env, err)
			}
			if err := opts.Range.Validate(opts.Scope); err != nil {
				return badArg(env, err)
			}
			if env.JSON {
				if given(flags, "format") && format == "table" {
					return usageErr(env, "replay: --json and --format table contradict each other (--json means --format jsonl)")
				}
				format = "jsonl"
			}
			if format != "jsonl" && format != "json" && format != "table" {
				return usageErr(env, "replay: --format must be jsonl or table, not %q", format)
			}
			w, commit, abort, err := output(env, out)
			if err != nil {
				return err
			}
			defer abort()
			var ew audit.Writer
			if format == "table" {
				ew = audit.NewTableWriter(w)
			} else {
				ew = audit.NewJSONLWriter(w)
			}
			opts.Progress = progressBar(env, progress)
			return withStore(ctx, env, func(st eventstore.Store) error {
				n, err := audit.Replay(ctx, st, opts, ew.Write)
				if err == nil || n > 0 {
					// On stdout, what was written before a failure is shown;
					// a file is removed (abort).
					if cerr := ew.Close(); err == nil {
						err = cerr
					}
				}
				if err == nil {
					err = commit()
				}
				return err
			})
		},
	}
}

func verifyCmd() ctl.Command {
	var stream, category, platform, progress, file string
	var skipIssuers, offline, partial bool
	var maxFindings, parallel int
	return ctl.Command{
		Name: "verify", Summary: "verify hash chains, revision gaps and issuers; exit 1 on any finding",
		Usage: "[--stream S | --category C] [--skip-issuers] [--platform-orgs a,b] [--file REPLAY.jsonl [--offline] [--partial]]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&stream, "stream", "", "one stream")
			fs.StringVar(&category, "category", "", "one category")
			fs.BoolVar(&skipIssuers, "skip-issuers", false, "check the hash chain and gaps only")
			fs.StringVar(&platform, "platform-orgs", audit.PlatformOrg, "organisations allowed to record anything (comma-separated)")
			fs.IntVar(&maxFindings, "max-findings", audit.DefaultMaxFindings, "list at most this many findings (the rest are counted)")
			fs.StringVar(&file, "file", "", "verify a JSON Lines replay or export (- for stdin) instead of the store; unless --offline, each line is also checked against the store (position, stream, revision, id, record time, content)")
			fs.BoolVar(&offline, "offline", false, "with --file: do not contact the store (events needing another stream's facts are not judged)")
			fs.BoolVar(&partial, "partial", false, "with --file: the file holds part of the history (an export, a replay from a position or revision): revisions missing from it are counted, not findings; each event after them is still checked on its own")
			fs.IntVar(&parallel, "parallel", 0, "concurrent reads of $all for a category or everything (0 = 2-4 by CPU count, 1 = one sequential read); the output and findings are the same")
			progressFlag(fs, &progress)
		},
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if err := noArgs(env, "verify", args); err != nil {
				return err
			}
			if err := checkProgress(env, progress); err != nil {
				return err
			}
			if parallel < 0 {
				return usageErr(env, "--parallel %d: must be 0 (automatic) or more", parallel)
			}
			if (offline || partial) && file == "" {
				return usageErr(env, "verify: --offline and --partial need --file")
			}
			if err := (audit.Scope{Stream: stream, Category: category}).Validate(); err != nil {
				return badArg(env, err)
			}
			opts := audit.VerifyOptions{Scope: audit.Scope{Stream: stream, Category: category}, SkipIssuers: skipIssuers,
				PlatformOrgs: splitList(platform), Progress: progressBar(env, progress), MaxFindings: maxFindings, Parallel: parallel, Partial: partial}
			run := func(st eventstore.Store) error {
				var rep *audit.Report
				var err error
				if file != "" {
					var r io.Reader = os.Stdin
					if file != "-" {
						f, ferr := os.Open(file)
						if ferr != nil {
							return ferr
						}
						defer f.Close()
						r = f
					}
					if st == nil { // --offline
						rep, err = audit.VerifyFeed(ctx, nil, opts, audit.LinesFeed(r))
					} else {
						rep, err = audit.VerifyFeedInStore(ctx, st, opts, audit.LinesFeed(r))
					}
				} else {
					rep, err = audit.Verify(ctx, st, opts)
				}
				if err != nil {
					return err
				}
				if env.JSON {
					if err := env.PrintJSON(rep); err != nil {
						return err
					}
				} else {
					printReport(env.Stdout, rep)
				}
				if !rep.OK {
					return ctl.ExitError{Code: 1}
				}
				return nil
			}
			if file != "" && offline {
				return run(nil)
			}
			return withStore(ctx, env, run)
		},
	}
}

func printReport(w io.Writer, rep *audit.Report) {
	verdict := "OK"
	if !rep.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "verify %s: %s — %d events in %d streams, %d findings, %d broken chains (%.1fs, %.0f events/s)\n",
		rep.Scope, verdict, rep.Events, rep.Streams, len(rep.Findings), rep.Broken, rep.Elapsed.Seconds(), rep.Rate)
	if rep.PartialStreams > 0 {
		fmt.Fprintf(w, "partial: %d streams miss %d revisions in the file (not checked, nor the links across them); every event present was checked\n",
			rep.PartialStreams, rep.MissingRevisions)
	}
	if rep.NotJudged > 0 {
		fmt.Fprintf(w, "not judged: %d events name a competition or pairing the file lacks (their issuer was not checked; verify without --offline to judge them)\n", rep.NotJudged)
	}
	if len(rep.Findings) == 0 {
		return
	}
	defer func() {
		if rep.Omitted > 0 {
			fmt.Fprintf(w, "… and %d more findings not listed (--max-findings)\n", rep.Omitted)
		}
	}()
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSTREAM@REV\tTYPE\tISSUER\tWHAT DIFFERS")
	for _, f := range rep.Findings {
		iss := f.Issuer
		if iss == "" {
			iss = "-"
		}
		fmt.Fprintf(tw, "%s\t%s@%d\t%s\t%s\t%s\n", f.Kind, f.Stream, f.Revision, f.Type, iss, f.Reason)
	}
	tw.Flush()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func stateFlags(fs *flag.FlagSet, id, asOf, mode, policies *string) {
	fs.StringVar(id, "craftsman", "", "craftsman id (required)")
	fs.StringVar(asOf, "as-of", "", "rebuild as of then: a date (end of that day in the ledger's calendar, UTC+8, as GraphQL's asOf) or RFC 3339 (default now)")
	fs.StringVar(mode, "mode", "recorded", "recorded: events recorded by --as-of; occurred: everything recorded now about facts that occurred by --as-of")
	fs.StringVar(policies, "policies", "", "policy names in order of preference (default template-a,upper-grades)")
}

func stateOptions(env *ctl.Env, id, asOf, mode, policies string) (audit.StateOptions, error) {
	at, err := parseTimeFlag("as-of", asOf, true)
	if err != nil {
		return audit.StateOptions{}, err
	}
	o := audit.StateOptions{CraftsmanID: id, AsOf: at, Policies: splitList(policies)}
	switch mode {
	case "recorded":
	case "occurred":
		o.Mode = career.AsOccurred
	default:
		return o, usageErr(env, "--mode must be recorded or occurred, not %q", mode)
	}
	return o, nil
}

func stateCmd() ctl.Command {
	var id, asOf, mode, policies string
	return ctl.Command{
		Name: "state", Summary: "rebuild a craftsman's career, pathways and eligibility as of a date from the raw events",
		Usage: "--craftsman ID [--as-of DATE] [--mode recorded|occurred] [--policies a,b]",
		Flags: func(fs *flag.FlagSet) { stateFlags(fs, &id, &asOf, &mode, &policies) },
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if err := noArgs(env, "state", args); err != nil {
				return err
			}
			if id == "" {
				return usageErr(env, "state: --craftsman is required")
			}
			opts, err := stateOptions(env, id, asOf, mode, policies)
			if err != nil {
				return badArg(env, err)
			}
			return withStore(ctx, env, func(st eventstore.Store) error {
				c, err := audit.State(ctx, st, opts)
				if err != nil {
					return badArg(env, err) // a malformed id, an unknown policy: exit 2
				}
				if env.JSON {
					return env.PrintJSON(c)
				}
				printCareer(env.Stdout, c)
				return nil
			})
		},
	}
}

func printCareer(w io.Writer, c *audit.Career) {
	s := c.State
	fmt.Fprintf(w, "craftsman %s as of %s (%s), %d events read from %s, policies %s\n", c.CraftsmanID, c.AsOf.Format(time.RFC3339), c.Mode, c.Events, c.Stream, strings.Join(c.Policies, ", "))
	fmt.Fprintf(w, "registered %v, %d certificates, %d trainings, %d placements, %d honours, %d mentorships, %d corrections\n",
		s.Registered, len(s.Certificates), len(s.Training), len(s.Competitions), len(s.Honours), len(s.Mentorships), len(s.Corrections))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TRADE\tLEVEL\tYEARS\tNEXT\tELIGIBLE\tEARLIEST\tPOLICY")
	for _, p := range c.Pathways {
		if len(p.Next) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t-\t-\t-\t-\n", p.Trade, p.Level, p.YearsOfWork)
		}
		for i, n := range p.Next {
			trade, level, years := p.Trade, p.Level.String(), fmt.Sprintf("%.2f", p.YearsOfWork)
			if i > 0 {
				trade, level, years = "", "", ""
			}
			earliest := "-"
			if n.EarliestDate != nil {
				earliest = n.EarliestDate.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s v%d\n", trade, level, years, n.Target, n.Eligible, earliest, n.Policy, n.PolicyVersion)
		}
	}
	tw.Flush()
	for _, sk := range c.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", sk)
	}
}

// DiffSummary is `diff --json`'s answer.
type DiffSummary struct {
	AsOf        time.Time           `json:"asOf"`
	Craftsmen   int                 `json:"craftsmen"`
	Equal       int                 `json:"equal"`
	Different   int                 `json:"different"`
	Compared    int                 `json:"fieldsCompared"`
	Differences []*audit.DiffReport `json:"differences"`
}

func diffCmd() ctl.Command {
	var id, asOf, mode, policies, endpoint, token, progress string
	var all bool
	return ctl.Command{
		Name: "diff", Summary: "compare the rebuilt state with the GraphQL API's answer; exit 1 on any difference",
		Usage: "(--craftsman ID | --all) --graphql URL [--token T] [--as-of DATE] [--policies a,b]",
		Flags: func(fs *flag.FlagSet) {
			stateFlags(fs, &id, &asOf, &mode, &policies)
			fs.BoolVar(&all, "all", false, "every craftsman in the store")
			fs.StringVar(&endpoint, "graphql", "http://127.0.0.1:8080/graphql", "the GraphQL endpoint")
			fs.StringVar(&token, "token", "", "bearer token of an auditor or admin (default $CRAFTLEDGER_TOKEN, read at run time so --help never prints it)")
			progressFlag(fs, &progress)
		},
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if err := noArgs(env, "diff", args); err != nil {
				return err
			}
			if err := checkProgress(env, progress); err != nil {
				return err
			}
			if (id == "") == !all {
				return usageErr(env, "diff: give --craftsman ID or --all")
			}
			if mode == "occurred" {
				return usageErr(env, "diff: --mode occurred cannot be compared (the API's asOf is a record time); use --mode recorded")
			}
			opts, err := stateOptions(env, id, asOf, mode, policies)
			if err != nil {
				return badArg(env, err)
			}
			if opts.AsOf.IsZero() {
				opts.AsOf = time.Now().UTC() // one instant for both sides
			}
			if token == "" {
				token = os.Getenv("CRAFTLEDGER_TOKEN")
			}
			g := audit.GraphQL{Endpoint: endpoint, Token: token}
			return withStore(ctx, env, func(st eventstore.Store) error {
				ids := []string{id}
				if all {
					if ids, err = audit.Craftsmen(ctx, st); err != nil {
						return err
					}
				}
				if opts.Set, err = audit.LoadPolicies(ctx, st, opts.AsOf); err != nil {
					return err
				}
				bar := progressBar(env, progress)
				sum := DiffSummary{AsOf: opts.AsOf, Differences: []*audit.DiffReport{}}
				start := time.Now()
				for i, cid := range ids {
					o := opts
					o.CraftsmanID = cid
					rep, err := audit.Diff(ctx, st, g, o)
					if err != nil {
						return badArg(env, fmt.Errorf("diff craftsman %s: %w", cid, err))
					}
					sum.Craftsmen++
					sum.Compared += rep.Compared
					if rep.Equal {
						sum.Equal++
					} else {
						sum.Different++
						sum.Differences = append(sum.Differences, rep)
					}
					if bar != nil {
						bar(audit.Progress{Phase: "diff", Items: i + 1, Total: len(ids), Fraction: float64(i+1) / float64(len(ids)), Elapsed: time.Since(start), Done: i == len(ids)-1})
					}
				}
				if env.JSON {
					if err := env.PrintJSON(sum); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(env.Stdout, "diff as of %s: %d craftsmen, %d equal, %d different (%d fields compared)\n",
						sum.AsOf.Format(time.RFC3339Nano), sum.Craftsmen, sum.Equal, sum.Different, sum.Compared)
					for _, r := range sum.Differences {
						for _, d := range r.Differences {
							fmt.Fprintf(env.Stdout, "  %s %s: local %s, api %s\n", r.CraftsmanID, d.Path, d.Local, d.API)
						}
					}
				}
				if sum.Different > 0 {
					return ctl.ExitError{Code: 1}
				}
				return nil
			})
		},
	}
}

func exportCmd() ctl.Command {
	var craftsman, academy, format, out, recordedBy, progress string
	return ctl.Command{
		Name: "export", Summary: "export a craftsman's or an academy's history as JSON Lines or CSV",
		Usage: "(--craftsman ID | --academy ID) [--format jsonl|csv] [--out FILE] [--recorded-by DATE]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&craftsman, "craftsman", "", "craftsman id")
			fs.StringVar(&academy, "academy", "", "academy id: its stream and every event it issued or that names it")
			fs.StringVar(&format, "format", "jsonl", "jsonl or csv")
			fs.StringVar(&out, "out", "", "write to this file instead of stdout")
			fs.StringVar(&recordedBy, "recorded-by", "", "only events recorded by then (date = end of that day, UTC+8, or RFC 3339)")
			progressFlag(fs, &progress)
		},
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if err := noArgs(env, "export", args); err != nil {
				return err
			}
			if err := checkProgress(env, progress); err != nil {
				return err
			}
			if (craftsman == "") == (academy == "") {
				return usageErr(env, "export: give --craftsman ID or --academy ID")
			}
			rb, err := parseTimeFlag("recorded-by", recordedBy, true)
			if err != nil {
				return badArg(env, err)
			}
			if format != "jsonl" && format != "json" && format != "csv" {
				return usageErr(env, "export: --format must be jsonl or csv, not %q", format)
			}
			w, commit, abort, err := output(env, out)
			if err != nil {
				return err
			}
			defer abort()
			var ew audit.Writer
			if format == "csv" {
				if ew, err = audit.NewCSVWriter(w); err != nil {
					return err
				}
			} else {
				ew = audit.NewJSONLWriter(w)
			}
			return withStore(ctx, env, func(st eventstore.Store) error {
				_, err := audit.Export(ctx, st, audit.ExportOptions{CraftsmanID: craftsman, AcademyID: academy, RecordedBy: rb,
					Progress: progressBar(env, progress)}, ew)
				if err == nil {
					err = commit()
				}
				return err
			})
		},
	}
}

func credentialCmd() ctl.Command {
	var key, pub, out, craftsman, issuer, keysDir string
	var online bool
	return ctl.Command{
		Name: "credential", Summary: "issue, verify (offline, or online against the ledger) or make keys for portable signed records",
		Usage: "keygen --key FILE | issue --key FILE --craftsman ID [--personal-keys-dir DIR] [--out FILE] | verify --pub FILE [--online --store URL] CREDENTIAL",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&key, "key", os.Getenv("CRAFTLEDGER_CREDENTIAL_KEY_FILE"), "the deployment's Ed25519 private key (PKCS #8 PEM; $CRAFTLEDGER_CREDENTIAL_KEY_FILE)")
			fs.StringVar(&pub, "pub", "", "the issuing deployment's public key: PEM, its private key file, or a did:key in a file")
			fs.StringVar(&out, "out", "", "write the credential to this file instead of stdout")
			fs.StringVar(&craftsman, "craftsman", "", "craftsman whose record to issue")
			fs.StringVar(&issuer, "issuer-name", "craftledger", "the deployment's name in the credential")
			fs.StringVar(&keysDir, "personal-keys-dir", os.Getenv(keyring.EnvDir), "issue: the registry's personal-data keys (make run: data/keys; $CRAFTLEDGER_PERSONAL_KEYS_DIR), to name the worker when their name is sealed; without it a sealed name is left out")
			fs.BoolVar(&online, "online", false, "verify: also check against the ledger (--store) that every claim still stands: cited events unchanged, stream verified, nothing corrected or withdrawn since")
		},
		Run: func(ctx context.Context, env *ctl.Env, args []string) error {
			if len(args) == 0 {
				return usageErr(env, "credential: give keygen, issue or verify")
			}
			switch args[0] {
			case "keygen":
				if key == "" {
					return usageErr(env, "credential keygen: --key FILE is required")
				}
				k, err := credential.GenerateKeyFile(key)
				if err != nil {
					return err
				}
				did := credential.DID(k.Public().(ed25519.PublicKey))
				if env.JSON {
					return env.PrintJSON(map[string]string{"key": key, "publicKey": key + ".pub", "did": did})
				}
				fmt.Fprintf(env.Stdout, "wrote %s (private, 0600) and %s; issuer %s\n", key, key+".pub", did)
				return nil
			case "issue":
				if key == "" || craftsman == "" {
					return usageErr(env, "credential issue: --key FILE and --craftsman ID are required")
				}
				k, err := credential.LoadPrivateKey(key)
				if err != nil {
					return err
				}
				opts := credential.IssueOptions{Key: k, IssuerName: issuer}
				if keysDir != "" {
					keys, err := keyring.OpenDir(keysDir)
					if err != nil {
						return err
					}
					opts.Personal = keys
				}
				return withStore(ctx, env, func(st eventstore.Store) error {
					b, _, err := credential.Issue(ctx, st, craftsman, opts)
					if err != nil {
						return err
					}
					w, commit, abort, err := output(env, out)
					if err != nil {
						return err
					}
					defer abort()
					if _, err := w.Write(b); err != nil {
						return err
					}
					return commit()
				})
			case "verify":
				if pub == "" || len(args) != 2 {
					return usageErr(env, "credential verify: --pub FILE and one CREDENTIAL file are required")
				}
				pk, err := credential.LoadPublicKey(pub)
				if err != nil {
					return err
				}
				b, err := os.ReadFile(args[1])
				if err != nil {
					return err
				}
				res := struct {
					credential.VerifyResult
					Ledger *credential.Currency `json:"ledger,omitempty"`
				}{VerifyResult: credential.Check(b, pk)}
				if online && res.Valid {
					c, err := credential.Verify(b, pk)
					if err != nil {
						return err
					}
					if err := withStore(ctx, env, func(st eventstore.Store) error {
						res.Ledger, err = credential.CheckCurrent(ctx, st, c, time.Now())
						return err
					}); err != nil {
						return err
					}
				}
				if env.JSON {
					if err := env.PrintJSON(res); err != nil {
						return err
					}
				} else if res.Valid {
					fmt.Fprintf(env.Stdout, "VALID: record of craftsman %s, %d claims, issued %s by %s\n", res.CraftsmanID, res.Claims, res.IssuedAt, res.Issuer)
					if l := res.Ledger; l != nil && l.Current {
						fmt.Fprintf(env.Stdout, "CURRENT: every claim still stands in the ledger (head %s@%d, %d events since issuance)\n", l.Head.Stream, l.Head.Revision, l.NewEvents)
					} else if l != nil {
						fmt.Fprintf(env.Stdout, "NOT CURRENT: %d claim(s) or event(s) no longer stand in the ledger:\n", len(l.Problems))
						for _, p := range l.Problems {
							fmt.Fprintf(env.Stdout, "  %s\n", p)
						}
					}
				} else {
					fmt.Fprintf(env.Stdout, "INVALID: %s\n", res.Reason)
				}
				if !res.Valid || res.Ledger != nil && !res.Ledger.Current {
					return ctl.ExitError{Code: 1}
				}
				return nil
			}
			return usageErr(env, "credential: unknown action %q (keygen, issue, verify)", args[0])
		},
	}
}
