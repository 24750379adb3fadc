package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	app.Register(&cli.Command{Name: "selftest", Order: 30,
		Summary: "selftest --config FILE | --bucket B [--prefix P]   prove with S3 that the key can write and cannot read or delete",
		Run:     runSelftest})
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
	var a agent.SelftestArgs
	fs.StringVar(&a.Config, "config", "", "read bucket, prefix, SSE and connection of every job from this YAML `file`")
	fs.StringVar(&a.Job, "job", "", "with --config: test only the job with this `name`")
	// The ad-hoc target's settings, as run takes them (the canaries go
	// under PREFIX_putonly-selftest/).
	backup.RegisterFlagsOf(fs, &a.Flags, "bucket", "prefix", "sse", "kms_key_id")
	backup.RegisterConnFlags(fs, &a.Flags, false)
	fs.BoolVar(&a.Strict, "strict", false, "exit 1 on warnings too")
	format := fs.String("format", "text", "output `format`: text or json")
	if done, err := cli.Parse(fs, selftestUsage, args, stdout, stderr); done {
		return err
	}
	a.Set, a.JSON = cli.FlagsSet(fs), *format == "json"
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("selftest takes no arguments (got %q)", fs.Arg(0))}
	}
	if *format != "text" && *format != "json" {
		return &exitError{Code: 2, Err: fmt.Errorf("--format %q: use text or json", *format)}
	}
	cfg, targets, err := a.Targets()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	code, err := agent.SelftestAll(ctx, cfg, targets, a, stdout, stderr)
	switch {
	case err != nil:
		// No credentials, a wrong or dead endpoint: named, exit 1.
		return failure(err)
	case code != 0:
		return &exitError{Code: code}
	}
	return nil
}
