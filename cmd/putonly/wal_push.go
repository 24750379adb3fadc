package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	register(&command{name: "wal-push", order: 50, run: runWALPush,
		summary: "wal-push --config FILE --job NAME PATH   archive one WAL file (archive_command)"})
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
	config := fs.String("config", "", "YAML config `file`")
	jobName := fs.String("job", "", "the `job` whose bucket, prefix, recipients and settings apply")
	logFormat := fs.String("log-format", "text", "log `format`: text (what PostgreSQL's log shows best), json")
	noRefresh := fs.Bool("no-selftest-refresh", false, "do not start 'putonly selftest' in the background when the gate's verdict is missing or half expired")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up on this file after this `duration` (and the job's timeout, if shorter); PostgreSQL retries it")
	var conn backup.JobConfig
	backup.RegisterConnFlags(fs, &conn, false)
	pos, done, err := parseFlagsArgs(fs, walPushUsage, args, 1, stdout, stderr)
	if done {
		return err
	}
	set := flagsSet(fs)
	switch {
	case len(pos) != 1:
		return usageError(errors.New("wal-push needs the path of one WAL file"), "archive_command = 'putonly wal-push --config FILE --job NAME %p'")
	case *config == "" || *jobName == "":
		return usageError(errors.New("wal-push needs --config FILE and --job NAME"), "archive_command = 'putonly wal-push --config FILE --job NAME %p'")
	}
	log, err := cli.NewLogger(*logFormat, stderr)
	if err != nil {
		return usageError(err, "")
	}
	start := time.Now()
	cfg, err := backup.LoadConfig(*config)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	cfg.Override(&conn, set)
	jobs, err := cfg.ResolveJobs(*jobName)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	job := jobs[0]
	// A job's timeout is sized for a dump (12h by default); a segment that
	// cannot be stored in minutes should fail so PostgreSQL retries it and
	// the failure shows in pg_stat_archiver.
	if *timeout > 0 && (job.Timeout <= 0 || *timeout < job.Timeout) {
		job.Timeout = *timeout
	}
	gate := agent.NewGate(agent.GateOptionsFrom(cfg, false, log))
	loaded := time.Now()
	client, err := backup.NewS3Client(ctx, job.Client)
	if err != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("job %s: %w", job.Name, err)}
	}
	gerr := gate.CheckCached(ctx, client, job, *config)
	if !*noRefresh && gate.NeedsRefresh(ctx, client, job) {
		gerr = refreshSelftest(gate, job, *config, conn.ConnArgs(), log, gerr)
	}
	if gerr != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("job %s: wal-push %s: %w", job.Name, pos[0], gerr)}
	}
	ready := time.Now()
	res, err := backup.PushWAL(ctx, client, job, pos[0])
	if err != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("job %s: %w", job.Name, err)}
	}
	msg := "wal archived"
	if res.Already {
		msg = "wal already archived (same content), nothing sent"
	}
	log.Info(msg, "job", job.Name, "file", res.File, "object", "s3://"+res.Bucket+"/"+res.Key,
		"bytes_in", res.Size, "bytes_out", res.Stored,
		"config_ms", ms(loaded.Sub(start)), "gate_ms", ms(ready.Sub(loaded)), "push_ms", ms(res.Duration),
		"total_ms", ms(time.Since(start)))
	return nil
}

// refreshSelftest renews the gate's verdict in the background, before it
// expires (or, refused now, so that PostgreSQL's retry finds one): this
// segment does not wait for it. It returns gerr, the gate's answer now,
// with a hint when a self-test was started.
func refreshSelftest(gate *agent.Gate, job *backup.Job, config string, conn []string, log *slog.Logger, gerr error) error {
	argv := append([]string{"selftest", "--config", config, "--job", job.Name}, conn...)
	self, err := os.Executable()
	if err == nil {
		var logPath string
		var started bool
		logPath, started, err = gate.RefreshInBackground(append([]string{self}, argv...))
		if started {
			log.Info("started the key self-test in the background", "job", job.Name, "log", logPath)
			if gerr != nil {
				gerr = fmt.Errorf("%w\n\thint: a self-test is running in the background (log %s); PostgreSQL's next attempt archives once it passed", gerr, logPath)
			}
		}
	}
	if err != nil {
		log.Warn("cannot start the key self-test in the background", "job", job.Name, "err", err.Error())
	}
	return gerr
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
