package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/atomicfile"
	"github.com/putonly/putonly/policy"
)

// The gate: before its first upload to a bucket and prefix, 'putonly run'
// runs the self-test (policy.Probe) with its own key and refuses to upload
// if the key can read, delete or escalate: such a key turns a compromised
// database host into a way to steal or destroy every backup. A passing
// result is cached in a small state file, so a run from cron probes once a
// day, not once a run.

// DefaultSelftestCache is how long a passing self-test is trusted.
const DefaultSelftestCache = 24 * time.Hour

// ErrReadableKey means the self-test found that the key can read, delete or
// escalate, and --allow-readable-key was not given.
var ErrReadableKey = errors.New("the backup key has more than write rights")

// ErrSelftestInconclusive means the self-test could not tell whether the
// key can read, delete or escalate (its canary could not be written, or S3
// did not answer): the gate fails closed.
var ErrSelftestInconclusive = errors.New("the self-test could not tell whether the backup key can read or delete")

// selftestTimeout bounds the whole self-test: a store that accepts
// connections and never answers must not hang the job before its own
// timeout even starts.
var selftestTimeout = 5 * time.Minute

// keyGate holds the gate's settings and what it learnt in this process.
type keyGate struct {
	cache         time.Duration
	stateDir      string
	allowReadable bool

	mu   sync.Mutex
	done map[string]error // cache key -> the gate's answer in this process
}

type keyGateCtxKey struct{}

// withKeyGate puts the gate for this run in ctx: the settings of the
// config's selftest section (when configPath is set), and the flag.
func withKeyGate(ctx context.Context, configPath string, allowReadable bool) (context.Context, error) {
	g := &keyGate{cache: DefaultSelftestCache, allowReadable: allowReadable}
	if configPath != "" {
		cfg, err := backup.LoadConfig(configPath)
		if err != nil {
			return ctx, err
		}
		if c := cfg.Selftest.Cache; c != nil {
			g.cache = time.Duration(*c)
		}
		g.stateDir = cfg.Selftest.StateDir
		g.allowReadable = g.allowReadable || cfg.Selftest.AllowReadableKey
	}
	return context.WithValue(ctx, keyGateCtxKey{}, g), nil
}

// defaultGate is the gate of a caller that set none: on, with the defaults.
var defaultGate = &keyGate{cache: DefaultSelftestCache}

func keyGateFrom(ctx context.Context) *keyGate {
	if g, ok := ctx.Value(keyGateCtxKey{}).(*keyGate); ok {
		return g
	}
	return defaultGate
}

// checkKey is the gate of one job: nil to go ahead, ErrReadableKey (wrapped,
// naming the rights and the fix) to refuse.
func checkKey(ctx context.Context, client *s3.Client, job *backup.Job, log *slog.Logger) error {
	return keyGateFrom(ctx).check(ctx, client, job, log)
}

func (g *keyGate) check(ctx context.Context, client *s3.Client, job *backup.Job, log *slog.Logger) error {
	id := gateCacheKey(ctx, client, job)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err, ok := g.done[id]; ok {
		return err
	}
	err := g.checkUncached(ctx, client, job, id, log)
	if g.done == nil {
		g.done = map[string]error{}
	}
	g.done[id] = err
	return err
}

func (g *keyGate) checkUncached(ctx context.Context, client *s3.Client, job *backup.Job, id string, log *slog.Logger) error {
	where := "s3://" + job.Bucket + "/" + job.Prefix
	if g.allowReadable {
		log.Warn("--allow-readable-key: uploading even if the key can read or delete backups", "job", job.Name, "target", where)
	}
	state := g.statePath()
	if e, ok := readGateCache(state, id); ok && g.cache > 0 && time.Since(e.Time) < g.cache && time.Since(e.Time) >= 0 {
		if len(e.Rights) == 0 {
			log.Debug("self-test passed earlier", "job", job.Name, "target", where, "at", e.Time)
			return nil
		}
		if g.allowReadable {
			log.Warn("self-test found that the key can read or delete", "job", job.Name, "target", where, "rights", strings.Join(e.Rights, "; "), "at", e.Time)
			return nil
		}
		// A failure is never trusted from the cache: the admin may have
		// fixed the policy since.
	}
	log.Info("self-test of the backup key", "job", job.Name, "target", where)
	pctx, cancel := context.WithTimeoutCause(ctx, selftestTimeout, fmt.Errorf("self-test took longer than %s", selftestTimeout))
	defer cancel()
	rep, err := policy.Probe(pctx, client, policy.ProbeOptions{Bucket: job.Bucket, Prefix: job.Prefix, SSE: job.SSE, KMSKeyID: job.KMSKeyID, Checksum: job.Checksum})
	if err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	rights, fix := rep.Rights()
	var writes []string
	for _, p := range rep.Violations() {
		if p.Expected == policy.ProbeAllowed {
			writes = append(writes, p.Probe+" ("+p.Got+")")
		}
	}
	for _, p := range rep.Warnings() {
		log.Warn("self-test: "+p.Probe+": "+p.Verdict, "job", job.Name, "got", p.Got, "fix", p.Fix)
	}
	if len(writes) > 0 {
		// The upload itself will fail and say why; the gate does not
		// add a second error.
		log.Warn("self-test: the key could not write the canary", "job", job.Name, "probes", strings.Join(writes, "; "))
	}
	if n := len(rep.Unknown()); n > 0 {
		log.Warn("self-test could not tell", "job", job.Name, "probes", n, "first", rep.Unknown()[0].Probe+": "+rep.Unknown()[0].Got)
	}
	if len(rights) > 0 {
		if err := writeGateCache(state, id, gateCacheEntry{Time: time.Now().UTC(), Rights: rights}); err != nil {
			log.Warn("self-test: cannot record the result", "state", state, "err", err.Error())
		}
		if g.allowReadable {
			log.Warn("self-test found that the key can read or delete", "job", job.Name, "target", where, "rights", strings.Join(rights, "; "))
			return nil
		}
		return fmt.Errorf("%w: refusing to upload to %s with a key that can:\n\t%s\n\thint: %s\n\thint: putonly selftest shows every probe; --allow-readable-key uploads anyway",
			ErrReadableKey, where, strings.Join(rights, "\n\t"), fix)
	}
	// Fail closed: a probe of a read, delete or escalation that could not
	// tell (the canary could not be written, a preparation was refused, S3
	// did not answer) is not a pass. Not cached: the next run asks again.
	var blind []string
	for _, p := range rep.Unknown() {
		if p.Expected == policy.ProbeRefused && (p.Class == policy.ClassRead || p.Class == policy.ClassDestroy || p.Class == policy.ClassEscalate) {
			blind = append(blind, p.Probe+": "+p.Got)
		}
	}
	if len(blind) > 0 {
		if g.allowReadable {
			log.Warn("self-test could not tell whether the key can read or delete", "job", job.Name, "target", where, "probes", len(blind), "first", blind[0])
			return nil
		}
		if len(writes) > 0 {
			return fmt.Errorf("%w at %s: the key could not write the self-test's canary (%s), so %d read and delete probes could not run\n\thint: the key must be able to put objects under %s%s (the generated policy allows PutObject on the whole prefix); 'putonly selftest' shows every probe\n\thint: --allow-readable-key uploads anyway",
				ErrSelftestInconclusive, where, writes[0], len(blind), where, policy.SelftestPrefix)
		}
		return fmt.Errorf("%w at %s: %d probes could not run or got no answer, first %s\n\thint: check the endpoint and the network; 'putonly selftest' shows every probe\n\thint: --allow-readable-key uploads anyway",
			ErrSelftestInconclusive, where, len(blind), blind[0])
	}
	if len(writes) == 0 && len(rep.Unknown()) == 0 {
		if err := writeGateCache(state, id, gateCacheEntry{Time: time.Now().UTC()}); err != nil {
			log.Warn("self-test: cannot record the result", "state", state, "err", err.Error())
		}
		log.Info("self-test passed: the key can write and cannot read or delete", "job", job.Name, "target", where, "warnings", len(rep.Warnings()))
	}
	return nil
}

// gateCacheKey names what a self-test result holds for: the store, the
// bucket and prefix, the SSE settings and the key. The access key id is
// hashed, so the state file names no credential.
func gateCacheKey(ctx context.Context, client *s3.Client, job *backup.Job) string {
	keyID := ""
	if cp := client.Options().Credentials; cp != nil {
		if c, err := cp.Retrieve(ctx); err == nil {
			keyID = c.AccessKeyID
		}
	}
	h := sha256.New()
	for _, s := range []string{job.Client.Endpoint, job.Client.Region, job.Client.Profile, job.Bucket, job.Prefix, job.SSE, job.KMSKeyID, keyID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// selftestStateDir is where the cache lives unless the config says:
// $PUTONLY_STATE_DIR, else systemd's StateDirectory= ($STATE_DIRECTORY),
// else /var/lib/putonly as root, else $XDG_STATE_HOME/putonly
// (~/.local/state/putonly). The daemon's state file defaults to the same
// directory.
func selftestStateDir() string {
	if d := os.Getenv("PUTONLY_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return strings.Split(d, ":")[0]
	}
	if os.Geteuid() == 0 {
		return "/var/lib/putonly"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "putonly")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "putonly")
	}
	return filepath.Join(os.TempDir(), "putonly-"+fmt.Sprint(os.Getuid()))
}

func (g *keyGate) statePath() string {
	dir := g.stateDir
	if dir == "" {
		dir = selftestStateDir()
	}
	return filepath.Join(dir, "selftest.json")
}

// gateCacheEntry is one self-test result; Rights lists what the key could
// do that it must not (empty: passed).
type gateCacheEntry struct {
	Time   time.Time `json:"time"`
	Rights []string  `json:"rights,omitempty"`
}

func readGateCache(path, id string) (gateCacheEntry, bool) {
	all := map[string]gateCacheEntry{}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &all) != nil {
		return gateCacheEntry{}, false
	}
	e, ok := all[id]
	return e, ok
}

// writeGateCache records e under id, dropping entries older than a week,
// and replaces the file atomically.
func writeGateCache(path, id string, e gateCacheEntry) error {
	all := map[string]gateCacheEntry{}
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &all) // a damaged cache is rebuilt
	}
	for k, old := range all {
		if time.Since(old.Time) > 7*24*time.Hour {
			delete(all, k)
		}
	}
	all[id] = e
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}
