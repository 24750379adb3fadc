package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "audit", order: 70, run: runAudit,
		summary: "audit --bucket B --max-age 26h     check that every job's backups keep arriving"})
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
	var ids, jobs stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix`, e.g. db1/")
	maxAge := fs.Duration("max-age", 26*time.Hour, "a job whose newest backup is older is stale")
	fs.Var(&jobs, "job", "a job `name` that must have backups; repeat for several")
	shrink := fs.Float64("shrink", 0.9, "a newest backup this `fraction` smaller than the median of the previous ones is suspicious")
	window := fs.Int("window", 7, "how many previous backups the median covers")
	fs.Var(&ids, "identity", "age identity `file`: also read and check the newest manifests")
	textfile := fs.String("textfile", "", "also write the report as Prometheus metrics to this `file` (atomically)")
	var walf walAuditFlags
	walf.register(fs)
	if done, err := parseFlags(fs, auditUsage, args, stdout, stderr); done {
		return err
	}
	switch {
	case *bucket == "":
		return usageError(fmt.Errorf("audit needs --bucket"), "")
	case *maxAge <= 0:
		return usageError(fmt.Errorf("--max-age %s: must be positive", *maxAge), "")
	case *shrink <= 0 || *shrink >= 1:
		return usageError(fmt.Errorf("--shrink %g: must be between 0 and 1", *shrink), "0.9 flags a backup 90% smaller than usual")
	case *window < 1:
		return usageError(fmt.Errorf("--window %d: must be at least 1", *window), "")
	}
	o := restore.AuditOptions{Bucket: *bucket, Prefix: *prefix, Jobs: jobs, MaxAge: *maxAge, Shrink: *shrink, Window: *window}
	if len(ids) > 0 {
		var err error
		if o.Identities, err = identities(ids); err != nil {
			return err
		}
	}
	client, err := conn.Client(ctx)
	if err != nil {
		return failure(err)
	}
	rep, err := restore.Audit(ctx, client, o)
	if err != nil {
		return failure(err)
	}
	printAudit(stdout, rep)
	walAudits, walBad, err := walf.run(ctx, client, o, stdout)
	if err != nil {
		return failure(err)
	}
	if *textfile != "" {
		var b bytes.Buffer
		rep.WritePrometheus(&b)
		restore.WriteWALPrometheus(&b, *bucket, walAudits)
		if err := writeTextfile(*textfile, b.Bytes()); err != nil {
			return failure(err)
		}
	}
	if len(rep.Jobs) == 0 && len(walAudits) == 0 {
		return failure(fmt.Errorf("no backups under s3://%s/%s", *bucket, *prefix))
	}
	if !rep.OK() || len(walBad) > 0 {
		var bad []string
		for _, j := range rep.Jobs {
			if !j.OK() {
				bad = append(bad, j.Prefix+j.Job)
			}
		}
		bad = append(bad, walBad...)
		return &exitError{Code: 1, Err: fmt.Errorf("audit: %d of %d job(s) need attention: %s", len(bad), len(rep.Jobs)+len(walAudits), strings.Join(bad, ", "))}
	}
	return nil
}

func printAudit(w io.Writer, rep *restore.AuditReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATUS\tNEWEST\tAGE\tSIZE\tMEDIAN BEFORE\tMANIFEST")
	for _, j := range rep.Jobs {
		status := "ok"
		switch {
		case j.Stale:
			status = "STALE"
		case !j.OK():
			status = "SUSPICIOUS"
		}
		newest, age, size, base := "-", "-", "-", "-"
		if j.Newest != nil {
			newest = j.Newest.Time.Format(time.DateTime + "Z")
			age = shortAge(j.Age)
			size = human(j.Newest.Size)
		}
		if j.Baseline > 0 {
			base = human(j.Baseline)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Prefix+j.Job, status, newest, age, size, base, j.Manifest)
	}
	tw.Flush()
	for _, j := range rep.Jobs {
		for _, p := range j.Problems {
			fmt.Fprintf(w, "%s%s: %s\n", j.Prefix, j.Job, p)
		}
	}
}

func shortAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return d.Round(time.Second).String()
}

// writeTextfile replaces path atomically, readable by the exporter.
func writeTextfile(path string, data []byte) error {
	f, err := restore.CreateAtomic(path, true)
	if err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	defer f.Abort()
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	return nil
}
