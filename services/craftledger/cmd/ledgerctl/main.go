// Command ledgerctl is craftledger's command-line tool over the event store
// (the embedded store of `make run` by default, or any KurrentDB with
// --store esdb://…). `ledgerctl --help` lists the commands; every command
// has --help.
//
//	ledgerctl token                       # a development token per role
//	ledgerctl generate --count 5000       # the demo population
//	ledgerctl verify                      # the auditors' commands (docs/audit.md)
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/craftledger/craftledger/services/craftledger/ctl"
)

// commands is ledgerctl's registration table of the runtime commands; the
// auditors' commands (replay, verify, state, diff, export, credential,
// audit_commands.go) are appended to it in main.
func commands() []ctl.Command {
	return []ctl.Command{
		ctl.Generate(),
		ctl.Token(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, append(commands(), auditCommands()...))
	stop()
	os.Exit(code)
}
