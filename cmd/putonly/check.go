package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

const checkUsage = `Usage:
  putonly check --config FILE [--job NAME] [--connect]

Validates the config (strictly: unknown fields are errors; every setting
within its range) and the recipients, checks that each job's dump program
exists and is executable, that the identity file of each drill and audit
holds an age identity, and prints what each job would run and where it
would write. It runs no dump and makes no request to S3.

With --connect, each job's dump program also reaches its database, reading
no data: pg_dump --schema-only (output discarded), mariadb-dump --no-data,
sqlite3 PATH 'select count(*) from sqlite_master', with the job's arguments
and putonly's environment.
Command and mongodb sources are not connected to.

Exit status: 0 valid (and, with --connect, every database reached); 1 a
database could not be reached; 2 the config is invalid, or a dump program
or an identity file is missing.

Flags:
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly check", flag.ContinueOnError)
	var o agent.CheckOptions
	fs.StringVar(&o.Config, "config", "", "YAML config `file`")
	fs.StringVar(&o.Job, "job", "", "check only the job with this `name`")
	fs.BoolVar(&o.Connect, "connect", false, "also connect each job's dump program to its database (reads no data)")
	if done, err := parseFlags(fs, checkUsage, args, stdout, stderr); done {
		return err
	}
	err := agent.CheckConfig(ctx, o, stdout)
	var ue *cli.UsageError
	switch {
	case errors.As(err, &ue), errors.Is(err, backup.ErrNoDumpProgram):
		return &exitError{Code: 2, Err: err}
	case err != nil:
		return &exitError{Code: 1, Err: err}
	}
	return nil
}
