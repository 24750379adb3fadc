package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
)

// ErrNoRecentSelftest means wal-push found no passing self-test of its key
// in the gate's cache. It never runs the self-test itself: a segment must
// not wait for a dozen probes.
var ErrNoRecentSelftest = errors.New("no recent self-test of the backup key")

// CheckCached is the gate from its cache alone: nil when a self-test of
// this key, bucket, prefix and SSE passed within the cache period (or found
// rights that allow_readable_key accepts); otherwise an error naming the
// command that records one. A failure in the cache is a refusal.
func (g *Gate) CheckCached(ctx context.Context, client *s3.Client, job *backup.Job, configPath string) error {
	id := gateCacheKey(ctx, client, job)
	state := g.statePath()
	where := "s3://" + job.Bucket + "/" + job.Prefix
	e, ok := readGateCache(state, id)
	age := time.Since(e.Time)
	run := fmt.Sprintf("putonly selftest --config %s --job %s", configPath, job.Name)
	switch {
	case !ok:
		return fmt.Errorf("%w for %s in %s\n\thint: run '%s' as the user PostgreSQL runs as (or set selftest.state_dir); wal-push trusts a passing result for selftest.cache (%s)",
			ErrNoRecentSelftest, where, state, run, g.o.Cache)
	case len(e.Rights) > 0 && !g.o.AllowReadable:
		return fmt.Errorf("%w: refusing to archive to %s with a key that can:\n\t%s\n\thint: fix the policy, then run '%s'",
			backup.ErrReadableKey, where, strings.Join(e.Rights, "\n\t"), run)
	case g.o.Cache <= 0 || age >= g.o.Cache || age < 0:
		return fmt.Errorf("%w for %s: the last one is from %s, older than selftest.cache (%s)\n\thint: run '%s' (the daily base backup's 'putonly run' also records one)",
			ErrNoRecentSelftest, where, e.Time.Format(time.RFC3339), g.o.Cache, run)
	case len(e.Rights) > 0:
		g.o.Log.Warn("self-test found that the key can read or delete (allow_readable_key)", "job", job.Name, "target", where, "rights", strings.Join(e.Rights, "; "))
	}
	return nil
}

// RecordSelftest stores a self-test's verdict where the gate reads it, so
// wal-push (which reads only the cache) can archive after 'putonly
// selftest'. Only a clear verdict is recorded: passed, or rights found.
func RecordSelftest(ctx context.Context, cfg *backup.Config, client *s3.Client, job *backup.Job, rights []string, passed bool) error {
	if !passed && len(rights) == 0 {
		return nil
	}
	g := NewGate(GateOptionsFrom(cfg, false, nil))
	return writeGateCache(g.statePath(), gateCacheKey(ctx, client, job), gateCacheEntry{Time: time.Now().UTC(), Rights: rights})
}

// NeedsRefresh tells whether wal-push should have the self-test run again:
// no passing result for this key and target, or one older than half the
// cache period (so it is renewed before the gate starts refusing).
func (g *Gate) NeedsRefresh(ctx context.Context, client *s3.Client, job *backup.Job) bool {
	e, ok := readGateCache(g.statePath(), gateCacheKey(ctx, client, job))
	age := time.Since(e.Time)
	return !ok || len(e.Rights) > 0 || g.o.Cache <= 0 || age < 0 || age > g.o.Cache/2
}

// refreshEvery bounds how often wal-push starts a background self-test:
// PostgreSQL calls it for every segment, and retries a refused one within
// seconds.
const refreshEvery = 15 * time.Minute

// RefreshInBackground starts argv (putonly selftest for the job) in its own
// session, detached, with its output in the state directory, unless one
// was started within the last 15 minutes. The caller does not wait: a
// segment is never held up by the self-test. It returns the log's path and
// whether a self-test was started.
func (g *Gate) RefreshInBackground(argv []string) (string, bool, error) {
	dir := filepath.Dir(g.statePath())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, err
	}
	logPath := filepath.Join(dir, "selftest-refresh.log")
	lock := filepath.Join(dir, "selftest-refresh.started")
	if st, err := os.Stat(lock); err == nil && time.Since(st.ModTime()) < refreshEvery && time.Since(st.ModTime()) >= 0 {
		return logPath, false, nil
	}
	// O_EXCL on a fresh name, then rename over the old marker: of two
	// pushes racing here, one starts the self-test.
	tmp := fmt.Sprintf("%s.%d", lock, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return logPath, false, err
	}
	f.Close()
	if err := os.Link(tmp, lock); err != nil {
		os.Remove(tmp)
		if st, serr := os.Stat(lock); serr == nil && time.Since(st.ModTime()) < refreshEvery {
			return logPath, false, nil // another push won the race
		}
		if err := os.Rename(tmp, lock); err != nil {
			return logPath, false, err
		}
	} else {
		os.Remove(tmp)
	}
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return logPath, false, err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return logPath, false, err
	}
	go cmd.Wait() // reaped if this process outlives it; otherwise init does
	return logPath, true, nil
}
