package agent

import (
	"context"
	"fmt"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/policy"
)

// SelftestTarget is one self-test: a bucket, prefix, SSE and connection.
type SelftestTarget struct {
	Job    string      // the job it tests (with a config), for the report
	Record *backup.Job // with a config: the job whose gate cache records the verdict (wal-push reads it)
	Probe  policy.ProbeOptions
	Client backup.ClientOptions
}

// SelftestTargets are the self-tests jobs need: jobs sharing a bucket,
// prefix, SSE and connection need one. override applies the command line's
// connection flags (nil: none).
func SelftestTargets(jobs []*backup.Job, override func(*backup.ClientOptions)) []SelftestTarget {
	var targets []SelftestTarget
	seen := map[string]bool{}
	for _, j := range jobs {
		c := j.Client
		if override != nil {
			override(&c)
		}
		k := fmt.Sprintf("%q", []any{j.Bucket, j.Prefix, j.SSE, j.KMSKeyID, c})
		if seen[k] {
			continue
		}
		seen[k] = true
		j.Client = c
		targets = append(targets, SelftestTarget{Job: j.Name, Client: c, Record: j,
			Probe: policy.ProbeOptions{Bucket: j.Bucket, Prefix: j.Prefix, SSE: j.SSE, KMSKeyID: j.KMSKeyID, Checksum: j.Checksum}})
	}
	return targets
}

// Selftest runs the self-test of t with the key of its connection. With a
// Record job, a clear verdict (passed, or rights found) goes to the gate's
// cache of cfg, so wal-push, which never probes, can archive; recordErr says
// when it could not be written.
func Selftest(ctx context.Context, cfg *backup.Config, t SelftestTarget) (rep *policy.ProbeReport, recordErr, err error) {
	// A probe is a question, not a backup: a few attempts are enough, and
	// an unreachable store answers in seconds, not minutes.
	t.Client.MaxAttempts = 3
	// Credentials and the endpoint first: a cause of set-up is the error
	// itself, in seconds, before any probe.
	client, err := backup.Connect(ctx, t.Client, t.Probe.Bucket)
	if err != nil {
		return nil, nil, err
	}
	// The IAM probes ask as the same key; against an S3-compatible
	// endpoint they are reported not applicable.
	if t.Probe.IAMProbes == nil {
		t.Probe.IAMProbes = policy.IAMProbesFromS3(client, "")
	}
	rep, err = policy.Probe(ctx, client, t.Probe)
	if err != nil {
		return nil, nil, err
	}
	if t.Record != nil {
		rights, _ := rep.Rights()
		passed := len(rep.Violations()) == 0 && len(rep.Unknown()) == 0
		recordErr = RecordSelftest(ctx, cfg, client, t.Record, rights, passed)
	}
	return rep, recordErr, nil
}
