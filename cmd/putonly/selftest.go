package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/policy"
)

func init() {
	register(&command{name: "selftest", order: 30,
		summary: "selftest --config FILE | --bucket B [--prefix P]   prove with S3 that the key can write and cannot read or delete",
		run:     runSelftest})
}

const selftestUsage = `Usage:
  putonly selftest --config FILE [--job NAME] [connection flags] [--strict] [--format text|json]
  putonly selftest --bucket B [--prefix P] [--endpoint URL --path-style --region R --profile P] [--strict]

Asks S3, with the backup key itself, what the key may do. It writes two
canaries under PREFIX_putonly-selftest/ (one object, and one multipart upload
of two parts, both with server-side encryption, If-None-Match and a CRC64NVME
checksum, as the agent writes backups) and checks that every call a backup
key must not make is refused: reads of the canary (GetObject, ranged
GetObject, HeadObject, GetObjectAttributes, GetObjectAcl, GetObjectTagging,
CopyObject and UploadPartCopy from it), listings, deletes, tagging and ACL
changes, and bucket-level reads and writes (policy, ACL, versioning,
lifecycle, replication). Bucket-level writes carry a body S3 must reject, so
S3 answers 403 without the right and 400 with it, and the bucket never
changes. A probe that succeeds can change only the canary it targets.

With --config, jobs that share a bucket, prefix, SSE and connection are
tested once; each test prints its own table (--format json: one JSON document
per test, one after the other).

Exit status: 0 every write succeeded and every read, delete and escalation
was refused (warnings allowed); 1 the key can read, delete or escalate, or
cannot write (or, with --strict, a warning: overwrite possible, PutObject
without SSE accepted, listing allowed); 2 a probe could not tell (network,
5xx), or bad flags or config.

Flags:
`

func runSelftest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly selftest", flag.ContinueOnError)
	config := fs.String("config", "", "read bucket, prefix, SSE and connection of every job from this YAML `file`")
	job := fs.String("job", "", "with --config: test only the job with this `name`")
	// The ad-hoc target's settings, as run takes them (the canaries go
	// under PREFIX_putonly-selftest/).
	var adhoc backup.JobConfig
	backup.RegisterFlagsOf(fs, &adhoc, "bucket", "prefix", "sse", "kms_key_id")
	var conn connFlags
	conn.registerEndpoint(fs)
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	format := fs.String("format", "text", "output `format`: text or json")
	if done, err := parseCommandFlags(fs, selftestUsage, args, stdout, stderr); done {
		return err
	}
	set := flagsSet(fs)
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("selftest takes no arguments (got %q)", fs.Arg(0))}
	}
	if *format != "text" && *format != "json" {
		return &exitError{Code: 2, Err: fmt.Errorf("--format %q: use text or json", *format)}
	}

	type target struct {
		job    string
		rec    *backup.Job // with --config: where the verdict is recorded for the gate (wal-push)
		opts   policy.ProbeOptions
		client backup.ClientOptions
	}
	var targets []target
	var cfg *backup.Config
	switch {
	case *config != "":
		if err := backup.ConfigFlagsError(set); err != nil {
			return &exitError{Code: 2, Err: err}
		}
		var err error
		if cfg, err = backup.LoadConfig(*config); err != nil {
			return &exitError{Code: 2, Err: err}
		}
		jobs, err := cfg.ResolveJobs(*job)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		seen := map[string]bool{}
		for _, j := range jobs {
			c := j.Client
			conn.override(&c, set)
			// Jobs sharing a bucket, prefix, SSE and connection need one run.
			k := fmt.Sprintf("%q", []any{j.Bucket, j.Prefix, j.SSE, j.KMSKeyID, c})
			if seen[k] {
				continue
			}
			seen[k] = true
			j.Client = c
			targets = append(targets, target{job: j.Name, client: c, rec: j,
				opts: policy.ProbeOptions{Bucket: j.Bucket, Prefix: j.Prefix, SSE: j.SSE, KMSKeyID: j.KMSKeyID, Checksum: j.Checksum}})
		}
	case *job != "":
		return &exitError{Code: 2, Err: errors.New("--job needs --config")}
	case adhoc.Bucket == "":
		return &exitError{Code: 2, Err: errors.New("selftest needs --config FILE or --bucket B\n\thint: putonly selftest --bucket acme-backups --prefix db1/")}
	default:
		if err := backup.ValidateFlags(&adhoc, set); err != nil {
			return &exitError{Code: 2, Err: err}
		}
		if adhoc.SSE == "" {
			adhoc.SSE = backup.DefaultSSE
		}
		targets = append(targets, target{
			client: conn.options(),
			opts:   policy.ProbeOptions{Bucket: adhoc.Bucket, Prefix: adhoc.Prefix, SSE: adhoc.SSE, KMSKeyID: adhoc.KMSKeyID},
		})
	}

	code := 0
	for i, t := range targets {
		// A probe is a question, not a backup: a few attempts are enough,
		// and an unreachable store answers in seconds, not minutes.
		t.client.MaxAttempts = 3
		client, err := backup.NewS3Client(ctx, t.client)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		rep, err := policy.Probe(ctx, client, t.opts)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		if *format == "json" {
			err = rep.WriteJSON(stdout)
		} else {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			if t.job != "" {
				fmt.Fprintf(stdout, "job %s: ", t.job)
			}
			err = rep.WriteText(stdout)
		}
		if err != nil {
			return err
		}
		if t.rec != nil {
			// The gate's cache: wal-push archives only after a passing
			// self-test, and never runs one itself (internal/agent/walgate.go).
			rights, _ := rep.Rights()
			passed := len(rep.Violations()) == 0 && len(rep.Unknown()) == 0
			if err := agent.RecordSelftest(ctx, cfg, client, t.rec, rights, passed); err != nil {
				fmt.Fprintf(stderr, "putonly: selftest: cannot record the result for wal-push: %v\n", err)
			}
		}
		code = worseExit(code, rep.Exit(*strict))
	}
	if code != 0 {
		return &exitError{Code: code}
	}
	return nil
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
