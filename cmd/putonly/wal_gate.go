package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
)

// ErrNoRecentSelftest means wal-push found no passing self-test of its key
// in the gate's cache. It never runs the self-test itself: a segment must
// not wait for a dozen probes.
var ErrNoRecentSelftest = errors.New("no recent self-test of the backup key")

// newKeyGate is the gate of a config (its selftest section).
func newKeyGate(cfg *backup.Config, allowReadable bool) (*keyGate, error) {
	g := &keyGate{cache: DefaultSelftestCache, allowReadable: allowReadable}
	if c := cfg.Selftest.Cache; c != nil {
		g.cache = time.Duration(*c)
	}
	g.stateDir = cfg.Selftest.StateDir
	g.allowReadable = g.allowReadable || cfg.Selftest.AllowReadableKey
	return g, nil
}

// checkCached is the gate from its cache alone: nil when a self-test of
// this key, bucket, prefix and SSE passed within the cache period (or found
// rights that allow_readable_key accepts); otherwise an error naming the
// command that records one. A failure in the cache is a refusal.
func (g *keyGate) checkCached(ctx context.Context, client *s3.Client, job *backup.Job, configPath string, log *slog.Logger) error {
	id := gateCacheKey(ctx, client, job)
	state := g.statePath()
	where := "s3://" + job.Bucket + "/" + job.Prefix
	e, ok := readGateCache(state, id)
	age := time.Since(e.Time)
	run := fmt.Sprintf("putonly selftest --config %s --job %s", configPath, job.Name)
	switch {
	case !ok:
		return fmt.Errorf("%w for %s in %s\n\thint: run '%s' as the user PostgreSQL runs as (or set selftest.state_dir); wal-push trusts a passing result for selftest.cache (%s)",
			ErrNoRecentSelftest, where, state, run, g.cache)
	case len(e.Rights) > 0 && !g.allowReadable:
		return fmt.Errorf("%w: refusing to archive to %s with a key that can:\n\t%s\n\thint: fix the policy, then run '%s'",
			ErrReadableKey, where, strings.Join(e.Rights, "\n\t"), run)
	case g.cache <= 0 || age >= g.cache || age < 0:
		return fmt.Errorf("%w for %s: the last one is from %s, older than selftest.cache (%s)\n\thint: run '%s' (the daily base backup's 'putonly run' also records one)",
			ErrNoRecentSelftest, where, e.Time.Format(time.RFC3339), g.cache, run)
	case len(e.Rights) > 0:
		log.Warn("self-test found that the key can read or delete (allow_readable_key)", "job", job.Name, "target", where, "rights", strings.Join(e.Rights, "; "))
	}
	return nil
}

// recordSelftest stores a self-test's verdict where the gate reads it, so
// wal-push (which reads only the cache) can archive after 'putonly
// selftest'. Only a clear verdict is recorded: passed, or rights found.
func recordSelftest(ctx context.Context, cfg *backup.Config, client *s3.Client, job *backup.Job, rights []string, passed bool) error {
	if !passed && len(rights) == 0 {
		return nil
	}
	g, _ := newKeyGate(cfg, false)
	return writeGateCache(g.statePath(), gateCacheKey(ctx, client, job), gateCacheEntry{Time: time.Now().UTC(), Rights: rights})
}
