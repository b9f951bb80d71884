// Command ledgerctl is craftledger's command-line tool over the event store
// (the embedded store of `make run` by default, or any KurrentDB with
// --store esdb://…). `ledgerctl --help` lists the commands; every command
// has --help.
//
//	ledgerctl token                       # a development token per role
//	ledgerctl generate --count 5000       # the demo population
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/craftledger/craftledger/services/craftledger/ctl"
)

// commands is ledgerctl's registration table. The auditors' commands
// (replay, verify, state, diff, export, credential) live in their own
// package and are appended here, one line each.
func commands() []ctl.Command {
	return []ctl.Command{
		ctl.Generate(),
		ctl.Token(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, commands())
	stop()
	os.Exit(code)
}
