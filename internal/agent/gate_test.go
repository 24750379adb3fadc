package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/putonly/putonly/backup"
)

// TestGateCache: the rules the cache file is read by. A pass is trusted
// for Cache; a verdict that found rights is never trusted unless readable
// keys are allowed (the admin may have fixed the policy since); an expired,
// future or missing entry makes the gate ask S3 again.
func TestGateCache(t *testing.T) {
	job := &backup.Job{Name: "shop", Bucket: "b", Prefix: "db1/"}
	now := time.Now().UTC()
	for _, tc := range []struct {
		name          string
		entry         *gateCacheEntry
		cache         time.Duration
		allowReadable bool
		trusted       bool
	}{
		{"pass", &gateCacheEntry{Time: now.Add(-time.Hour)}, 24 * time.Hour, false, true},
		{"pass expired", &gateCacheEntry{Time: now.Add(-25 * time.Hour)}, 24 * time.Hour, false, false},
		{"pass from the future", &gateCacheEntry{Time: now.Add(time.Hour)}, 24 * time.Hour, false, false},
		{"cache 0 probes every run", &gateCacheEntry{Time: now}, 0, false, false},
		{"rights found", &gateCacheEntry{Time: now, Rights: []string{"read: s3:GetObject"}}, 24 * time.Hour, false, false},
		{"rights found, allowed", &gateCacheEntry{Time: now, Rights: []string{"read: s3:GetObject"}}, 24 * time.Hour, true, true},
		{"no entry", nil, 24 * time.Hour, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGate(GateOptions{Cache: tc.cache, StateDir: t.TempDir(), AllowReadable: tc.allowReadable})
			if tc.entry != nil {
				if err := writeGateCache(g.statePath(), "id", *tc.entry); err != nil {
					t.Fatal(err)
				}
			}
			done, err := g.cached(job, "id", "s3://b/db1/")
			if done != tc.trusted || err != nil {
				t.Fatalf("cached = %v, %v; want %v", done, err, tc.trusted)
			}
		})
	}
}

// TestGateOptionsFrom: the config's selftest section, or the defaults; the
// command line's --allow-readable-key adds to the file's.
func TestGateOptionsFrom(t *testing.T) {
	if o := GateOptionsFrom(nil, false, nil); o.Cache != DefaultSelftestCache || o.AllowReadable || o.StateDir != "" {
		t.Errorf("no config: %+v", o)
	}
	zero := backup.Duration(0)
	cfg := &backup.Config{Selftest: backup.SelftestConfig{Cache: &zero, StateDir: "/s", AllowReadableKey: true}}
	if o := GateOptionsFrom(cfg, false, nil); o.Cache != 0 || !o.AllowReadable || o.StateDir != "/s" {
		t.Errorf("config: %+v", o)
	}
	if o := GateOptionsFrom(&backup.Config{}, true, nil); !o.AllowReadable {
		t.Errorf("flag: %+v", o)
	}
}

// TestSelftestTargets: jobs sharing a bucket, prefix, SSE and connection
// are tested once; the command line's connection applies to each.
func TestSelftestTargets(t *testing.T) {
	jobs := []*backup.Job{
		{Name: "a", Bucket: "b", Prefix: "db1/", SSE: "AES256"},
		{Name: "b", Bucket: "b", Prefix: "db1/", SSE: "AES256"},
		{Name: "c", Bucket: "b", Prefix: "db2/", SSE: "AES256"},
		{Name: "d", Bucket: "b", Prefix: "db1/", SSE: "aws:kms"},
	}
	got := SelftestTargets(jobs, func(c *backup.ClientOptions) { c.Endpoint = "http://127.0.0.1:1" })
	var names []string
	for _, tg := range got {
		names = append(names, tg.Job)
		if tg.Client.Endpoint != "http://127.0.0.1:1" || tg.Record == nil || tg.Probe.Prefix != tg.Record.Prefix {
			t.Errorf("target %+v", tg)
		}
	}
	if len(names) != 3 || names[0] != "a" || names[1] != "c" || names[2] != "d" {
		t.Errorf("targets %v, want a c d", names)
	}
}

// TestVerdict: what a run's result says of the self-test, for the state
// file: refused is a failure, an upload passed it unless readable keys
// were allowed, anything else says nothing.
func TestVerdict(t *testing.T) {
	refused := fmt.Errorf("job a: %w: refusing to upload", backup.ErrReadableKey)
	if v := Verdict(false)(refused); v == nil || v.OK {
		t.Errorf("refused: %+v", v)
	}
	if v := Verdict(false)(fmt.Errorf("job a: %w", backup.ErrSelftestInconclusive)); v == nil || v.OK {
		t.Errorf("inconclusive: %+v", v)
	}
	if v := Verdict(false)(nil); v == nil || !v.OK {
		t.Errorf("uploaded: %+v", v)
	}
	if v := Verdict(true)(nil); v != nil {
		t.Errorf("uploaded with allow_readable_key: %+v", v)
	}
	if v := Verdict(false)(fmt.Errorf("job a: %w", backup.ErrDumpFailed)); v != nil {
		t.Errorf("dump failed: %+v", v)
	}
}
