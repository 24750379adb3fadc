package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
