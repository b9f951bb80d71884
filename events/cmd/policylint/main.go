// Command policylint checks promotion policy documents (docs/policy.md)
// and prints each rejection as file:line:column: field: message, the way
// compilers do, so an academy can author its policy with any editor.
//
//	policylint my-policy.json other.json
//	policylint -defaults template-a   # print a built-in default policy
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/craftledger/craftledger/events/policy"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command with its arguments and outputs; it returns the exit
// code: 0 all valid, 1 a policy was rejected, 2 a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policylint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaults := fs.String("defaults", "", "print the built-in default policy with this name (template-a, template-b, upper-grades) and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: policylint [-defaults name] file.json...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // --help printed the usage
		}
		return 2
	}
	if *defaults != "" {
		b, err := policy.TemplateJSON(*defaults)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		stdout.Write(b)
		return 0
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		p, err := policy.ParseNamed(name, b)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		routes := 0
		for _, l := range p.Levels {
			routes += len(l.Routes)
		}
		fmt.Fprintf(stdout, "%s: %s v%d from %s: %d target levels, %d routes\n", name, p.Name, p.Version, p.EffectiveFrom, len(p.Levels), routes)
	}
	return code
}
