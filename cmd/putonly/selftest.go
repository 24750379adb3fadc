package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
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

Asks S3, with the backup key itself, what the key may do. Each run writes
under PREFIX_putonly-selftest/<time>-<random>/ two objects: "canary" (one
PutObject, 60 bytes) and "multipart" (two parts, 5 MiB and 1 KiB), both with
server-side encryption, If-None-Match and a CRC64NVME checksum, as the agent
writes backups; a third, "no-sse", where the store accepts a PutObject
without SSE (reported as a warning); and a fourth, "copy", only if the key
may read the canary (a failure). It also starts and aborts two multipart
uploads ("aborted", "part-copy"), which leave nothing. A lifecycle rule on
_putonly-selftest/ expires them (putonly-policy generate writes one). It
then checks that every call a backup key must not make is refused: reads of the canary (GetObject, ranged
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
without SSE accepted, listing allowed), or the self-test could not run (the
endpoint, the credentials, the region or the bucket: the cause is printed
first, with its fix); 2 a probe got an answer that proves neither (5xx), or
bad flags or config.

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
	backup.RegisterConnFlags(fs, &adhoc, false)
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	format := fs.String("format", "text", "output `format`: text or json")
	if done, err := cli.Parse(fs, selftestUsage, args, stdout, stderr); done {
		return err
	}
	set := flagsSet(fs)
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("selftest takes no arguments (got %q)", fs.Arg(0))}
	}
	if *format != "text" && *format != "json" {
		return &exitError{Code: 2, Err: fmt.Errorf("--format %q: use text or json", *format)}
	}

	cfg, targets, err := selftestTargets(*config, *job, &adhoc, set)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	code := 0
	for i, t := range targets {
		rep, recErr, err := agent.Selftest(ctx, cfg, t)
		if err != nil {
			// No credentials, a wrong or dead endpoint: named, exit 1.
			return failure(err)
		}
		if recErr != nil {
			fmt.Fprintf(stderr, "putonly: selftest: cannot record the result for wal-push: %v\n", recErr)
		}
		if *format == "json" {
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
			return err
		}
		code = worseExit(code, rep.Exit(*strict))
	}
	if code != 0 {
		return &exitError{Code: code}
	}
	return nil
}

// selftestTargets are the tests to run: each distinct target of the
// config's jobs (read once), or the one of the flags.
func selftestTargets(config, job string, adhoc *backup.JobConfig, set map[string]bool) (*backup.Config, []agent.SelftestTarget, error) {
	switch {
	case config != "":
		if err := backup.ConfigFlagsError(set); err != nil {
			return nil, nil, err
		}
		cfg, err := backup.LoadConfig(config)
		if err != nil {
			return nil, nil, err
		}
		cfg.Override(adhoc, set)
		jobs, err := cfg.ResolveJobs(job)
		if err != nil {
			return nil, nil, err
		}
		return cfg, agent.SelftestTargets(jobs, nil), nil
	case job != "":
		return nil, nil, errors.New("--job needs --config")
	case adhoc.Bucket == "":
		return nil, nil, errors.New("selftest needs --config FILE or --bucket B\n\thint: putonly selftest --bucket acme-backups --prefix db1/")
	}
	if err := backup.ValidateFlags(adhoc, set); err != nil {
		return nil, nil, err
	}
	adhoc.SSE = cmp.Or(adhoc.SSE, backup.DefaultSSE)
	return nil, []agent.SelftestTarget{{
		Client: adhoc.ClientOptions(),
		Probe:  policy.ProbeOptions{Bucket: adhoc.Bucket, Prefix: adhoc.Prefix, SSE: adhoc.SSE, KMSKeyID: adhoc.KMSKeyID},
	}}, nil
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
