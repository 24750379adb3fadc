package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

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

// SelftestArgs are the command line of 'putonly selftest': a config's
// jobs (Source.Config) or the one target of its flags (bucket, prefix,
// sse, kms_key_id and the connection flags, in Source.Flags).
type SelftestArgs struct {
	Source
	Strict bool // warnings fail too
	JSON   bool // one JSON document per test instead of the text tables
}

// Targets are the tests to run: each distinct target of the config's jobs
// (read once, the connection flags over it), or the one of the flags.
func (a *SelftestArgs) Targets() (*backup.Config, []SelftestTarget, error) {
	switch {
	case a.Config != "":
		cfg, jobs, err := a.Jobs()
		if err != nil {
			return nil, nil, err
		}
		return cfg, SelftestTargets(jobs, nil), nil
	case a.Job != "":
		return nil, nil, errors.New("--job needs --config")
	case a.Flags.Bucket == "":
		return nil, nil, errors.New("selftest needs --config FILE or --bucket B\n\thint: putonly selftest --bucket acme-backups --prefix db1/")
	}
	if err := backup.ValidateFlags(&a.Flags, a.Set); err != nil {
		return nil, nil, err
	}
	f := a.Flags
	return nil, []SelftestTarget{{
		Client: f.ClientOptions(),
		Probe:  policy.ProbeOptions{Bucket: f.Bucket, Prefix: f.Prefix, SSE: cmp.Or(f.SSE, backup.DefaultSSE), KMSKeyID: f.KMSKeyID},
	}}, nil
}

// SelftestAll runs the self-test of each target and writes its report to
// stdout (a table each, or JSON documents one after the other); a verdict
// that could not be recorded for wal-push is a warning on stderr. code is
// the worst exit status of the reports (policy.ProbeReport.Exit); err
// says a test could not run at all (no credentials, a dead endpoint).
func SelftestAll(ctx context.Context, cfg *backup.Config, targets []SelftestTarget, a SelftestArgs, stdout, stderr io.Writer) (code int, err error) {
	for i, t := range targets {
		rep, recErr, err := Selftest(ctx, cfg, t)
		if err != nil {
			return 0, err
		}
		if recErr != nil {
			fmt.Fprintf(stderr, "putonly: selftest: cannot record the result for wal-push: %v\n", recErr)
		}
		if a.JSON {
			err = rep.WriteJSON(stdout)
		} else {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			if t.Job != "" {
				fmt.Fprintf(stdout, "job %s: ", t.Job)
			}
			err = rep.WriteText(stdout)
		}
		if err != nil {
			return 0, err
		}
		code = worseExit(code, rep.Exit(a.Strict))
	}
	return code, nil
}

// worseExit combines exit statuses: 1 (the key can read or delete) beats 2
// (could not tell), which beats 0.
func worseExit(a, b int) int {
	if a == 1 || b == 1 {
		return 1
	}
	if a == 2 || b == 2 {
		return 2
	}
	return 0
}
