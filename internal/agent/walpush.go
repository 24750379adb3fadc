package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
)

// WALPushArgs are 'putonly wal-push': the job (Source.Config and Job,
// the connection flags in Source.Flags), the WAL file and the bounds.
type WALPushArgs struct {
	Source
	Path      string
	Timeout   time.Duration // at most this long, or the job's timeout if shorter
	NoRefresh bool          // never start a self-test in the background
	Log       *slog.Logger
}

// PushWAL archives one WAL file as PostgreSQL's archive_command: the
// config read once (an error there is a [cli.UsageError]), the key gate
// from its cache only (renewed in the background when its verdict is
// missing or half expired), then [backup.PushWAL], logged with the time
// each phase took.
func PushWAL(ctx context.Context, a WALPushArgs) error {
	start := time.Now()
	cfg, jobs, err := a.Jobs()
	if err != nil {
		return cli.Usage(err)
	}
	job := jobs[0]
	// A job's timeout is sized for a dump (12h by default); a segment that
	// cannot be stored in minutes should fail so PostgreSQL retries it and
	// the failure shows in pg_stat_archiver.
	if a.Timeout > 0 && (job.Timeout <= 0 || a.Timeout < job.Timeout) {
		job.Timeout = a.Timeout
	}
	gate := NewGate(GateOptionsFrom(cfg, false, a.Log))
	loaded := time.Now()
	client, err := backup.NewS3Client(ctx, job.Client)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.Name, err)
	}
	gerr := gate.CheckCached(ctx, client, job, a.Config)
	if !a.NoRefresh && gate.NeedsRefresh(ctx, client, job) {
		gerr = a.refreshSelftest(gate, job, gerr)
	}
	if gerr != nil {
		return fmt.Errorf("job %s: wal-push %s: %w", job.Name, a.Path, gerr)
	}
	ready := time.Now()
	res, err := backup.PushWAL(ctx, client, job, a.Path)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.Name, err)
	}
	msg := "wal archived"
	if res.Already {
		msg = "wal already archived (same content), nothing sent"
	}
	a.Log.Info(msg, "job", job.Name, "file", res.File, "object", "s3://"+res.Bucket+"/"+res.Key,
		"bytes_in", res.Size, "bytes_out", res.Stored,
		"config_ms", ms(loaded.Sub(start)), "gate_ms", ms(ready.Sub(loaded)), "push_ms", ms(res.Duration),
		"total_ms", ms(time.Since(start)))
	return nil
}

// refreshSelftest renews the gate's verdict in the background, before it
// expires (or, refused now, so that PostgreSQL's retry finds one): this
// segment does not wait for it. It returns gerr, the gate's answer now,
// with a hint when a self-test was started.
func (a *WALPushArgs) refreshSelftest(gate *Gate, job *backup.Job, gerr error) error {
	self, err := os.Executable()
	if err == nil {
		argv := append([]string{self, "selftest", "--config", a.Config, "--job", job.Name}, a.Flags.ConnArgs()...)
		var logPath string
		var started bool
		logPath, started, err = gate.RefreshInBackground(argv)
		if started {
			a.Log.Info("started the key self-test in the background", "job", job.Name, "log", logPath)
			if gerr != nil {
				gerr = fmt.Errorf("%w\n\thint: a self-test is running in the background (log %s); PostgreSQL's next attempt archives once it passed", gerr, logPath)
			}
		}
	}
	if err != nil {
		a.Log.Warn("cannot start the key self-test in the background", "job", job.Name, "err", err.Error())
	}
	return gerr
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
