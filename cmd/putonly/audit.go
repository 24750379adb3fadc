package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
)

func init() {
	app.Register(&cli.Command{Name: "audit", Order: 70, Run: runAudit,
		Summary: "audit --bucket B --max-age 26h     check that every job's backups keep arriving"})
}

const auditUsage = `Usage:
  putonly audit --bucket B [--prefix P] [--max-age 26h] [--job J]... [--identity FILE] [--textfile FILE]

The database host never lists its bucket, so someone else must check that
backups keep arriving. audit lists the bucket (s3:ListBucket) and, for each
job, reports the newest backup's age and size against the median of the
backups before it, and whether its manifest is there. With --identity it
also reads that manifest (s3:GetObject) and checks the dump's recorded exit
status and the object's size. It never downloads a backup.

A job is a problem when its newest backup is older than --max-age (stale),
is at least --shrink smaller than the median of the previous --window
backups (a dump that shrank by 90% is suspicious), or has no good manifest.
Jobs named with --job must exist: one that never wrote a backup is stale.

With --wal JOB it also checks the job's WAL archive (putonly wal-push): on
each timeline, every segment from the newest base backup's first one (with
--identity; else from the oldest archived) to the newest, no WAL name
archived with two contents, a .history file for each timeline after the
first, and the newest file younger than --wal-max-age (the recovery point).

With --textfile the report is also written, atomically, for node_exporter's
textfile collector; alert on putonly_backup_ok == 0 or on
putonly_audit_timestamp_seconds not advancing.

Examples:
  putonly audit --bucket acme-backups --prefix db1/ --max-age 26h
  putonly audit --bucket acme-backups --max-age 26h --job shop --job wiki \
      --textfile /var/lib/node_exporter/textfile/putonly.prom

Exit status: 0 every job is fine; 1 a job is stale or suspicious (or the
listing failed); 2 bad flags.

Flags:
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly audit", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	o := restorecmd.AuditOptions{Connect: reader(&conn), Stdout: stdout}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix`, e.g. db1/")
	fs.DurationVar(&o.MaxAge, "max-age", 26*time.Hour, "a job whose newest backup is older is stale")
	fs.Var((*stringList)(&o.Jobs), "job", "a job `name` that must have backups; repeat for several")
	fs.Float64Var(&o.Shrink, "shrink", 0.9, "a newest backup this `fraction` smaller than the median of the previous ones is suspicious")
	fs.IntVar(&o.Window, "window", 7, "how many previous backups the median covers")
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file`: also read and check the newest manifests")
	fs.StringVar(&o.Textfile, "textfile", "", "also write the report as Prometheus metrics to this `file` (atomically)")
	fs.Var((*stringList)(&o.WALJobs), "wal", "also check the WAL archive of this `job` (wal-push --job): continuity from the newest base backup, conflicting contents, .history files, age; repeat for several")
	fs.DurationVar(&o.WALMaxAge, "wal-max-age", time.Hour, "with --wal: the newest archived WAL file older than this means archiving stalled (keep it well above archive_timeout)")
	if done, err := parseFlags(fs, auditUsage, args, stdout, stderr); done {
		return err
	}
	return readSideExit(restorecmd.Audit(ctx, o))
}
