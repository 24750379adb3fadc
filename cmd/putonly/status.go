package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	app.Register(&cli.Command{Name: "status", Order: 14, Run: runStatus,
		Summary: "status --config FILE               what each job last did and when it runs next"})
}

const statusUsage = `Usage:
  putonly status [--config FILE | --state FILE] [--json]

Prints what each job last did and when it runs next, from the state file the
daemon (and 'run' with --state or --textfile) keeps. It makes no request to
S3: the backup key could not read the bucket anyway.

Exit status: 0 when no job's last run failed; 1 when one did; 2 when there
is no state file or it cannot be read.

Flags:
`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := agent.StatusOptions{Stdout: stdout}
	fs.StringVar(&o.Config, "config", "", "take the state file's path from this config (daemon.state_file)")
	fs.StringVar(&o.State, "state", "", "state `file` (default: $PUTONLY_STATE_DIR/state.json, "+backup.DefaultStateFile+" as root)")
	fs.BoolVar(&o.JSON, "json", false, "print the state file as JSON")
	if done, err := cli.ParseFlags(fs, cli.FlagUsage(fs, statusUsage), args, stdout, stderr); done {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("status takes no arguments (got %q)", fs.Arg(0))}
	}
	err := agent.Status(o)
	var se *agent.StateError
	switch {
	case errors.Is(err, agent.ErrLastRunFailed):
		return &exitError{Code: 1}
	case errors.As(err, &se):
		return &exitError{Code: 2, Err: err}
	}
	return err
}
