// Package ctl is ledgerctl: a command-line tool over craftledger's event
// store (the embedded one or a real KurrentDB, through the official client).
//
// Commands are values in a registration table (see cmd/ledgerctl): each has
// a name, a one-line summary, its own flag set with --help, and a Run
// function. Every command also accepts the common flags --store (the
// esdb:// connection string) and --json (machine-readable output), before
// or after its name. Commands of other packages (the auditors' replay,
// verify, state, diff, export, credential) are added to the table without
// touching this package.
package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/gctune"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Env is what a command runs with: the common flags and the output streams.
type Env struct {
	Stdout, Stderr io.Writer
	// Store is the connection string (--store, $CRAFTLEDGER_STORE).
	Store string
	// JSON asks for machine-readable output (--json).
	JSON bool
}

// OpenStore connects to env.Store.
func (e *Env) OpenStore(ctx context.Context) (*eventstore.Client, error) {
	st, err := eventstore.Open(ctx, eventstore.Config{URL: e.Store})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// PrintJSON writes v as indented JSON on stdout.
func (e *Env) PrintJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Command is one subcommand of ledgerctl.
type Command struct {
	Name    string
	Summary string // one line, for the command list
	// Usage is the synopsis after "ledgerctl NAME" ("[flags] FILE").
	Usage string
	// Flags registers the command's own flags; Run receives their values
	// through the closure. May be nil.
	Flags func(fs *flag.FlagSet)
	// Run does the work with the remaining positional arguments.
	Run func(ctx context.Context, env *Env, args []string) error
}

// ExitError carries a process exit code (e.g. 1 for "verification failed")
// without printing anything more.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// GCPercent is the garbage collector's target ledgerctl runs with unless
// $GOGC says otherwise: its long commands (verify, replay, export over
// millions of events) allocate per event and keep little, and at Go's
// default of 100 a verify spends ~10 % more CPU per event (the audit
// benchmarks: 7.9–8.6 against 6.9–7.4 CPU-µs per event with GOGC=400).
// A soft memory limit (GCMemoryLimit, unless $GOMEMLIMIT is set) keeps
// the larger heap bounded.
const (
	GCPercent     = 400
	GCMemoryLimit = 4 << 30
)

func tuneGC() { gctune.Apply(os.LookupEnv, GCPercent, GCMemoryLimit) }

func common(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&env.Store, "store", env.Store, "event store connection string (esdb://…; $CRAFTLEDGER_STORE)")
	// --help shows the default without the credentials it may carry.
	fs.Lookup("store").DefValue = servicekit.RedactURL(env.Store)
	fs.BoolVar(&env.JSON, "json", env.JSON, "machine-readable JSON output")
}

// Main runs ledgerctl with args (without the program name) and returns the
// process exit code: 0 success, 1 a failed command, 2 a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, cmds []Command) int {
	tuneGC()
	env := &Env{Stdout: stdout, Stderr: stderr, Store: servicekit.DefaultStore}
	if v := os.Getenv("CRAFTLEDGER_STORE"); v != "" {
		env.Store = v
	}
	byName := map[string]Command{}
	for _, c := range cmds {
		byName[c.Name] = c
	}
	top := flag.NewFlagSet("ledgerctl", flag.ContinueOnError)
	top.SetOutput(stderr)
	common(top, env)
	top.Usage = func() { usage(stderr, top, cmds) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := top.Args()
	if len(rest) == 0 {
		usage(stderr, top, cmds)
		return 2
	}
	if rest[0] == "help" {
		if len(rest) > 1 {
			rest = []string{rest[1], "--help"}
		} else {
			usage(stdout, top, cmds)
			return 0
		}
	}
	c, ok := byName[rest[0]]
	if !ok {
		fmt.Fprintf(stderr, "ledgerctl: unknown command %q\n\n", rest[0])
		usage(stderr, top, cmds)
		return 2
	}
	fs := flag.NewFlagSet("ledgerctl "+c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	common(fs, env)
	if c.Flags != nil {
		c.Flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "ledgerctl %s — %s\n\nUsage: ledgerctl %s %s\n\nFlags:\n", c.Name, c.Summary, c.Name, c.Usage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := c.Run(ctx, env, pos); err != nil {
		var ex ExitError
		if errors.As(err, &ex) {
			return ex.Code
		}
		fmt.Fprintf(stderr, "ledgerctl %s: %v\n", c.Name, err)
		return 1
	}
	return 0
}

// parseInterspersed parses fs's flags wherever they stand among the
// command's arguments (`credential keygen --key F` as well as
// `credential --key F keygen`) and returns the arguments that are not
// flags, in order. Everything after "--" is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func usage(w io.Writer, top *flag.FlagSet, cmds []Command) {
	fmt.Fprintln(w, "ledgerctl — craftledger's tool over the event store\n\nUsage: ledgerctl [--store URL] [--json] COMMAND [flags] [args]\n\nCommands:")
	sorted := append([]Command(nil), cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	width := 0
	for _, c := range sorted {
		width = max(width, len(c.Name))
	}
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Name, c.Summary)
	}
	fmt.Fprintln(w, "\nCommon flags:")
	top.SetOutput(w)
	top.PrintDefaults()
	fmt.Fprintln(w, "\n"+strings.TrimSpace("Run 'ledgerctl COMMAND --help' for a command's flags."))
}
