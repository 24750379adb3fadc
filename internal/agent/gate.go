// Package agent is what the putonly command runs: the key gate in front of
// every upload ([Gate]), one pass over a config's jobs ([RunJobs]) and the
// daemon that runs them on their schedules ([Daemon]). cmd/putonly parses
// flags into these options and calls in; the pipeline itself is package
// backup.
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/policy"
)

// The gate: before its first upload to a bucket and prefix, a run asks the
// self-test (policy.Probe) with its own key and refuses to upload if the key
// can read, delete or escalate: such a key turns a compromised database host
// into a way to steal or destroy every backup. A passing result is cached in
// a small state file, so a run from cron probes once a day, not once a run.

// DefaultSelftestCache is how long a passing self-test is trusted.
const DefaultSelftestCache = 24 * time.Hour

// SelftestTimeout bounds the self-test inside the job's own timeout: a
// store that accepts connections and never answers must not take the whole
// of a long job's time before its dump even starts.
var SelftestTimeout = 5 * time.Minute

// GateOptions are the gate's settings: the config's selftest section and
// the command line's --allow-readable-key.
type GateOptions struct {
	Cache         time.Duration // how long a pass is trusted; 0 probes every run
	StateDir      string        // where the cache lives (default StateDir())
	AllowReadable bool          // upload even with a key that can read or delete
	Log           *slog.Logger
}

// GateOptionsFrom reads the settings of cfg's selftest section (cfg may be
// nil: the defaults); allowReadable is the command line's.
func GateOptionsFrom(cfg *backup.Config, allowReadable bool, log *slog.Logger) GateOptions {
	o := GateOptions{Cache: DefaultSelftestCache, AllowReadable: allowReadable, Log: log}
	if cfg != nil {
		if c := cfg.Selftest.Cache; c != nil {
			o.Cache = time.Duration(*c)
		}
		o.StateDir = cfg.Selftest.StateDir
		o.AllowReadable = o.AllowReadable || cfg.Selftest.AllowReadableKey
	}
	return o
}

// Gate is the key gate of one run: a [backup.KeyChecker]. It asks once per
// store, bucket, prefix, SSE and key in its lifetime; make a new one per
// run so that the cache file's expiry holds.
type Gate struct {
	o GateOptions

	mu   sync.Mutex
	done map[string]error // cache key -> the gate's answer in this process
}

// NewGate returns the gate with o's settings.
func NewGate(o GateOptions) *Gate {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Gate{o: o, done: map[string]error{}}
}

// AllowReadable reports whether the gate lets a readable key upload.
func (g *Gate) AllowReadable() bool { return g.o.AllowReadable }

// CheckKey is the gate of one job: nil to go ahead, an error wrapping
// backup.ErrReadableKey or backup.ErrSelftestInconclusive (naming the rights
// and the fix) to refuse.
func (g *Gate) CheckKey(ctx context.Context, job *backup.Job) error {
	client, err := backup.NewS3Client(ctx, job.Client)
	if err != nil {
		return err
	}
	id := gateCacheKey(ctx, client, job)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err, ok := g.done[id]; ok {
		return err
	}
	err = g.check(ctx, client, job, id)
	g.done[id] = err
	return err
}

func (g *Gate) check(ctx context.Context, client *s3.Client, job *backup.Job, id string) error {
	log := g.o.Log
	where := "s3://" + job.Bucket + "/" + job.Prefix
	if g.o.AllowReadable {
		log.Warn("--allow-readable-key: uploading even if the key can read or delete backups", "job", job.Name, "target", where)
	}
	if done, err := g.cached(job, id, where); done {
		return err
	}
	log.Info("self-test of the backup key", "job", job.Name, "target", where)
	pctx, cancel := context.WithTimeoutCause(ctx, SelftestTimeout, fmt.Errorf("self-test took longer than %s", SelftestTimeout))
	defer cancel()
	// The IAM probes (policy/probe_iam.go) ask IAM as the same key whether
	// it may mint access keys or rewrite a user's policy: a key that can
	// escalate is refused like one that can read.
	rep, err := policy.Probe(pctx, client, policy.ProbeOptions{Bucket: job.Bucket, Prefix: job.Prefix, SSE: job.SSE, KMSKeyID: job.KMSKeyID, Checksum: job.Checksum,
		IAMProbes: policy.IAMProbesFromS3(client, "")})
	if err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	if ctx.Err() != nil {
		// The job's own deadline or a shutdown cut the probes: that, not
		// the key, is why they could not tell.
		return fmt.Errorf("self-test of %s: %w", where, context.Cause(ctx))
	}
	if rep.Cause != nil {
		// A cause of set-up (network, credentials, region, bucket): the
		// self-test proves nothing about the key, so the gate neither
		// blames it nor offers --allow-readable-key; the cause is the
		// error, with its fix. Not cached.
		return fmt.Errorf("self-test of %s: %w", where, rep.Cause)
	}
	return g.verdict(rep, job, id, where)
}

// cached answers from the cache file when it holds a pass (or, with
// AllowReadable, any verdict) younger than Cache.
func (g *Gate) cached(job *backup.Job, id, where string) (bool, error) {
	e, ok := readGateCache(g.statePath(), id)
	if !ok || g.o.Cache <= 0 || time.Since(e.Time) >= g.o.Cache || time.Since(e.Time) < 0 {
		return false, nil
	}
	if len(e.Rights) == 0 {
		g.o.Log.Debug("self-test passed earlier", "job", job.Name, "target", where, "at", e.Time)
		return true, nil
	}
	if g.o.AllowReadable {
		g.o.Log.Warn("self-test found that the key can read or delete", "job", job.Name, "target", where, "rights", strings.Join(e.Rights, "; "), "at", e.Time)
		return true, nil
	}
	// A failure is never trusted from the cache: the admin may have fixed
	// the policy since.
	return false, nil
}

// verdict turns the self-test's report into the gate's answer.
func (g *Gate) verdict(rep *policy.ProbeReport, job *backup.Job, id, where string) error {
	log := g.o.Log
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
		g.record(id, gateCacheEntry{Time: time.Now().UTC(), Rights: rights})
		if g.o.AllowReadable {
			log.Warn("self-test found that the key can read or delete", "job", job.Name, "target", where, "rights", strings.Join(rights, "; "))
			return nil
		}
		return fmt.Errorf("%w: refusing to upload to %s with a key that can:\n\t%s\n\thint: %s\n\thint: putonly selftest shows every probe; --allow-readable-key uploads anyway",
			backup.ErrReadableKey, where, strings.Join(rights, "\n\t"), fix)
	}
	if err := g.blind(rep, job, where, writes); err != nil {
		return err
	}
	if len(writes) == 0 && len(rep.Unknown()) == 0 {
		g.record(id, gateCacheEntry{Time: time.Now().UTC()})
		log.Info("self-test passed: the key can write and cannot read or delete", "job", job.Name, "target", where, "warnings", len(rep.Warnings()))
	}
	return nil
}

// blind fails closed: a probe of a read, delete or escalation that could not
// tell (the canary could not be written, a preparation was refused, S3 did
// not answer) is not a pass. Not cached: the next run asks again.
func (g *Gate) blind(rep *policy.ProbeReport, job *backup.Job, where string, writes []string) error {
	var blind []string
	for _, p := range rep.Unknown() {
		if p.Expected == policy.ProbeRefused && (p.Class == policy.ClassRead || p.Class == policy.ClassDestroy || p.Class == policy.ClassEscalate) {
			blind = append(blind, p.Probe+": "+p.Got)
		}
	}
	switch {
	case len(blind) == 0:
		return nil
	case g.o.AllowReadable:
		g.o.Log.Warn("self-test could not tell whether the key can read or delete", "job", job.Name, "target", where, "probes", len(blind), "first", blind[0])
		return nil
	case len(writes) > 0:
		return fmt.Errorf("%w at %s: the key could not write the self-test's canary (%s), so %d read and delete probes could not run\n\thint: the key must be able to put objects under %s%s (the generated policy allows PutObject on the whole prefix); 'putonly selftest' shows every probe",
			backup.ErrSelftestInconclusive, where, writes[0], len(blind), where, policy.SelftestPrefix)
	}
	return fmt.Errorf("%w at %s: %d probes got answers that prove neither, first %s\n\thint: the store answered in a way the self-test cannot read; 'putonly selftest' shows every probe and what the store said",
		backup.ErrSelftestInconclusive, where, len(blind), blind[0])
}

func (g *Gate) record(id string, e gateCacheEntry) {
	state := g.statePath()
	if err := writeGateCache(state, id, e); err != nil {
		g.o.Log.Warn("self-test: cannot record the result", "state", state, "err", err.Error())
	}
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

// Verdict reads the key gate's verdict in a run's result, for the state
// file (backup.Reporter.Selftest): refused is a failed self-test; an upload
// without allowReadable means the gate passed. Otherwise nothing is known.
func Verdict(allowReadable bool) func(error) *backup.SelftestState {
	return func(err error) *backup.SelftestState {
		switch {
		case errors.Is(err, backup.ErrReadableKey), errors.Is(err, backup.ErrSelftestInconclusive):
			return &backup.SelftestState{OK: false, Detail: cli.OneLine(err)}
		case err == nil && !allowReadable:
			return &backup.SelftestState{OK: true}
		}
		return nil
	}
}
