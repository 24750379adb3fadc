package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	app.Register(&cli.Command{Name: "wal-push", Order: 50, Run: runWALPush,
		Summary: "wal-push --config FILE --job NAME PATH   archive one WAL file (archive_command)"})
}

const walPushUsage = `Usage:
  putonly wal-push --config FILE --job NAME [connection flags] PATH

For PostgreSQL's archive_command:

  archive_mode = on
  archive_command = 'putonly wal-push --config /etc/putonly/putonly.yaml --job shop %p'
  archive_timeout = 60s     # the most writes you can lose (the RPO) on a quiet server

Archives one WAL segment (or .history, .backup or .partial file) under
s3://BUCKET/PREFIX<job>/wal/<file>.<sha256>.zst.age: zstd, then age to the
job's recipients, then one PutObject with the job's server-side encryption,
checksum and If-None-Match: *. The SHA-256 of the file is part of the name,
so S3's 412 can only mean that this exact content is already archived: a
retried push exits 0 and sends nothing new. Different content under the same
WAL name is archived beside it ('putonly audit' reports it). It never reads,
lists or heads the bucket: the backup key cannot.

The key gate applies from its cache only: wal-push never waits for the full
self-test, so a segment is never held up by it. It needs a passing self-test
of this key, bucket and prefix within selftest.cache (24h), recorded by
'putonly selftest --config FILE --job NAME' or by 'putonly run' of the base
backup, run as the same user as PostgreSQL (or with selftest.state_dir set
to a directory both use). When that verdict is missing, refused or older
than half selftest.cache, wal-push starts 'putonly selftest' in the
background (at most every 15 minutes, output in the state directory's
selftest-refresh.log), so the verdict is renewed before it expires, and a
push refused for want of one succeeds on PostgreSQL's next attempt.

Exit status: 0 archived (or already archived); 1 not archived (PostgreSQL
keeps the file and retries); 2 bad flags or config.

Flags:
`

func runWALPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly wal-push", flag.ContinueOnError)
	var a agent.WALPushArgs
	fs.StringVar(&a.Config, "config", "", "YAML config `file`")
	fs.StringVar(&a.Job, "job", "", "the `job` whose bucket, prefix, recipients and settings apply")
	logFormat := fs.String("log-format", "text", "log `format`: text (what PostgreSQL's log shows best), json")
	fs.BoolVar(&a.NoRefresh, "no-selftest-refresh", false, "do not start 'putonly selftest' in the background when the gate's verdict is missing or half expired")
	fs.DurationVar(&a.Timeout, "timeout", 10*time.Minute, "give up on this file after this `duration` (and the job's timeout, if shorter); PostgreSQL retries it")
	backup.RegisterConnFlags(fs, &a.Flags, false)
	pos, done, err := cli.ParseArgs(fs, walPushUsage, args, 1, stdout, stderr)
	if done {
		return err
	}
	const hint = "archive_command = 'putonly wal-push --config FILE --job NAME %p'"
	switch {
	case len(pos) != 1:
		return usageError(errors.New("wal-push needs the path of one WAL file"), hint)
	case a.Config == "" || a.Job == "":
		return usageError(errors.New("wal-push needs --config FILE and --job NAME"), hint)
	}
	if a.Log, err = cli.NewLogger(*logFormat, stderr); err != nil {
		return usageError(err, "")
	}
	a.Path, a.Set = pos[0], cli.FlagsSet(fs)
	err = agent.PushWAL(ctx, a)
	// Never above 125, even for a shutdown (130 elsewhere): PostgreSQL's
	// archiver aborts on such a status and pg_stat_archiver does not count
	// the failure (https://www.postgresql.org/docs/current/continuous-archiving.html,
	// "terminated by a signal ... or an error by the shell with an exit
	// status greater than 125").
	var ue *cli.UsageError
	switch {
	case errors.As(err, &ue):
		return &exitError{Code: 2, Err: err}
	case err != nil:
		return &exitError{Code: 1, Err: err}
	}
	return nil
}
