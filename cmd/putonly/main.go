// Command putonly is the backup agent for database hosts. It runs a dump,
// compresses it with zstd, encrypts it with age to public recipients, and
// streams it into S3 with a key that may only put objects.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
)

// Set by the release build (-ldflags "-X main.version=...").
var (
	version = ""
	commit  = ""
	date    = ""
)

var app = &cli.App{Name: "putonly", Title: "putonly: encrypted, write-only database backups to S3", Footer: `
'run' exits 0 when every job uploaded and 1 otherwise, with one line per
failed job on stderr. It needs only s3:PutObject (and s3:AbortMultipartUpload
to clean up a failed upload); its uploads never read, list or delete. Before
the first upload (then daily) it checks that S3 refuses the key every read,
list and delete, and refuses to upload with a key that can.

Run 'putonly COMMAND --help' for the flags of a command.
`}

// Each command lives in its own file and registers itself with app in
// init, so adding one touches no other file.
func init() {
	app.Register(&cli.Command{Name: "run", Order: 10, Summary: "run [flags] -- COMMAND [ARG...]    back up the stdout of COMMAND once\n  putonly run --config FILE [--job NAME]     run every job in FILE (or one) once", Run: runRun})
	app.Register(&cli.Command{Name: "check", Order: 20, Summary: "check --config FILE                validate a config and show what each job runs", Run: runCheck})
	app.Register(&cli.Command{Name: "version", Order: 1000, Summary: "version                            print version, commit, date and Go version", Run: runVersion})
}

// exitError carries an exit status out of a subcommand (internal/cli).
type exitError = cli.ExitError

func main() {
	// The one owner of SIGTERM and SIGINT: the first cancels ctx with a
	// cause wrapping backup.ErrShutdown ('run' kills the dump and aborts
	// the upload, the daemon drains), a second exits 130.
	ctx := cli.NotifyShutdown("putonly", backup.ErrShutdown)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// reported is an error the command has already printed (one line per
// failed job); exitCode only maps it to a status.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }

// exitCode is the one place an error becomes an exit status: 0 for nil, an
// exitError's own code, 130 for a shutdown by signal, 2 for a usage or
// config error (cli.UsageError, backup.FieldError), 1 for any other
// failure. It prints the error unless the command did.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	var rep reported
	var ue *cli.UsageError
	var cfgErr *backup.FieldError
	switch {
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintf(stderr, "putonly: %v\n", ee.Err)
		}
		return ee.Code
	case errors.As(err, &ue) && ue.Err == nil:
		// The usage is printed, and says it all.
	case !errors.As(err, &rep):
		fmt.Fprintf(stderr, "putonly: %v\n", err)
	}
	switch {
	case errors.Is(err, backup.ErrShutdown):
		return 130
	case errors.As(err, &ue), errors.As(err, &cfgErr):
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	backup.Version = build().Version
	return app.Run(ctx, args, stdout, stderr)
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	build().Print(stdout, "putonly")
	return nil
}

// build is what the release stamped, completed from Go's build info.
func build() cli.Build { return cli.Build{Version: version, Commit: commit, Date: date}.Resolve() }
