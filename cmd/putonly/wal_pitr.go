package main

import (
	"context"
	"flag"
	"io"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
)

func init() {
	app.Register(&cli.Command{Name: "pitr", Order: 54, Run: runPITR,
		Summary: "pitr --bucket B --job J --identity FILE --data-dir DIR --target-time T | --target-lsn L | --latest\n                                             prepare a data directory for point-in-time recovery"})
}

const pitrUsage = `Usage:
  putonly pitr --bucket B [--prefix P] --job J --identity FILE --data-dir DIR
               (--target-time TIME | --target-lsn LSN | --latest) [connection flags]

On the restore host, with read credentials and the age identity: picks the
newest base backup of job J (source mode: base) that ended before the target,
unpacks it into DIR (which must be empty or missing; it is never
overwritten), checks it against the backup's manifest, and writes
recovery.signal and the recovery settings into DIR/postgresql.auto.conf:
restore_command (putonly wal-fetch, with the same bucket, job, identity and
connection flags), the target, recovery_target_timeline = 'latest', and
archive_mode = off (unless --keep-archiving), so the copy never archives
into the original's archive. Then it prints how to start the server.

TIME is RFC 3339 (2026-12-01T20:35:04Z, 2026-12-01T21:35:04+01:00) or
"2026-12-01 20:35:04" in UTC. Recovery replays every transaction committed
up to TIME and stops there (recovery_target_action, default promote).

With --drill it proves the archive restores: it prepares a scratch
directory (a temporary one unless --data-dir), to the latest unless a target
is given, starts the server on --port (socket in the scratch directory, no
TCP), waits until it replayed the WAL and promoted, reports the timeline, the
last replayed transaction and the databases, then stops it and removes the
directory (--keep keeps it). As root, the server and restore_command run as
--run-as (postgres), with copies of the identities in the scratch directory
and the read credentials from the environment.

Exit status: 0 the directory is ready (with --drill: it replayed); 1 no base backup fits, or the restore
failed (the directory is left empty); 2 bad flags, or DIR is not empty.

Flags:
`

func runPITR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly pitr", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	o := restorecmd.PITROptions{Connect: reader(&conn), Stdout: stdout, Stderr: stderr}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix` of the job, e.g. db1/")
	fs.StringVar(&o.Job, "job", "", "the `job` of the base backups and of wal-push")
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file`; repeat for several")
	fs.StringVar(&o.DataDir, "data-dir", "", "the new data `directory` (empty or missing)")
	fs.StringVar(&o.TargetTime, "target-time", "", "recover to this `time`")
	fs.StringVar(&o.TargetLSN, "target-lsn", "", "recover to this `LSN` (X/Y)")
	fs.BoolVar(&o.Latest, "latest", false, "recover to the end of the archived WAL")
	fs.StringVar(&o.TargetAction, "target-action", "promote", "at the target: promote, pause or shutdown (recovery_target_action)")
	fs.BoolVar(&o.KeepArchiving, "keep-archiving", false, "leave archive_mode as the backup has it (the copy then archives with its archive_command)")
	d := &o.Drill
	fs.BoolVar(&d.Drill, "drill", false, "replay into a scratch data directory (default: a temporary one) on --port, report, stop and remove it; --latest unless a target is given")
	fs.IntVar(&d.Port, "port", 5499, "with --drill: the scratch server's `port` (its socket is in the scratch directory; it listens on no TCP address)")
	fs.StringVar(&d.PGBin, "pg-bin", "", "with --drill: `directory` of pg_ctl and psql, of the backup's major version (default: PATH, else the newest /usr/lib/postgresql/*/bin)")
	fs.StringVar(&d.RunAs, "run-as", "", "with --drill: run the server as this `user` (default postgres when run as root: the server refuses root)")
	fs.BoolVar(&d.Keep, "keep", false, "with --drill: keep the scratch directory")
	if done, err := parseFlags(fs, pitrUsage, args, stdout, stderr); done {
		return err
	}
	o.ConnArgs = conn.ConnArgs()
	return readSideExit(restorecmd.PITR(ctx, o))
}
