package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/internal/s3name"
	"github.com/putonly/putonly/policy"
)

const selftestUsage = `Usage:
  putonly-policy selftest --profile PROFILE --bucket B [--prefix P] [options]

Runs the live self-test of 'putonly selftest' from an admin machine, with
the backup key's credentials in a shared-config profile (or the standard
AWS chain without --profile): the same canaries under
PREFIX_putonly-selftest/, the same probes, the same table and exit status.
Where 'verify' proves offline what the policies say, this asks S3 what it
does with the key, and IAM whether the key may mint access keys or rewrite
a user's policy (requests naming a user that cannot exist: nothing
changes), and who the key is (--principal: say when it is another). Against
an S3-compatible --endpoint the IAM probes are not applicable.

Exit status: 0 every write succeeded and every read, delete and escalation
was refused (warnings allowed); 1 the key can read, delete or escalate, or
cannot write (with --strict, also on a warning), or the self-test could
not run (the endpoint, the credentials, the region or the bucket: the cause
is printed first, with its fix); 2 a probe got an answer that proves
neither, or bad flags, or an AWS config or profile that does not load.

Example:
  putonly-policy selftest --profile backup --bucket acme-backups --prefix db1/

Options:
`

// checkNames refuses, before any request, a bucket or prefix that generate
// and the agent refuse (internal/s3name): a malformed bucket name otherwise
// reached S3 and came back as a table of "could not tell" (exit 1), or as
// "no AWS credentials" where none were set, and a prefix without its /
// put the canaries beside the prefix the policy grants.
func checkNames(bucket, prefix string) error {
	for _, n := range []struct {
		flag, value string
		check       func(string) error
	}{{"--bucket", bucket, s3name.CheckBucket}, {"--prefix", prefix, s3name.CheckPrefix}} {
		if err := n.check(n.value); err != nil {
			var p *s3name.Problem
			if errors.As(err, &p) && p.Fix != "" {
				return cli.Usage(fmt.Errorf("%s %q: %w\n\thint: %s", n.flag, n.value, err, p.Fix))
			}
			return cli.Usage(fmt.Errorf("%s %q: %w", n.flag, n.value, err))
		}
	}
	return nil
}

func runSelftest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly-policy selftest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "shared AWS config `profile` holding the backup key (default: the standard chain)")
	bucket := fs.String("bucket", "", "S3 `bucket` the backup key writes to (required)")
	prefix := fs.String("prefix", "", "key `prefix` the policy grants; the canaries go under PREFIX_putonly-selftest/")
	sse := fs.String("sse", "AES256", "server-side encryption of the canaries, as the agent writes: AES256 or aws:kms")
	kms := fs.String("kms-key-id", "", "KMS key `id` or ARN for --sse aws:kms")
	region := fs.String("region", "", "AWS `region` (default: from the profile)")
	endpoint := fs.String("endpoint", "", "S3-compatible endpoint `URL` (also AWS_ENDPOINT_URL_S3)")
	pathStyle := fs.Bool("path-style", false, "path-style addressing (most S3-compatible stores)")
	principal := fs.String("principal", "", "the backup key's expected IAM user or role `ARN`: the IAM probes say when the key is another")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	format := fs.String("format", "text", "output `format`: text or json")
	if done, err := cli.ParseFlags(fs, cli.FlagUsage(fs, selftestUsage), args, stdout, stderr); done {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usage(fmt.Errorf("selftest takes no arguments (got %q)", fs.Arg(0)))
	case *bucket == "":
		return cli.Usage(errors.New("selftest needs --bucket\n\thint: putonly-policy selftest --profile backup --bucket acme-backups --prefix db1/"))
	case *format != "text" && *format != "json":
		return cli.Usage(fmt.Errorf("--format %q: use text or json", *format))
	case *sse != "AES256" && *sse != "aws:kms":
		return cli.Usage(fmt.Errorf("--sse %q: use AES256 or aws:kms", *sse))
	}
	if err := checkNames(*bucket, *prefix); err != nil {
		return err
	}

	cfg, client, err := connect(ctx, awsOptions{profile: *profile, region: *region, endpoint: *endpoint, pathStyle: *pathStyle})
	if err != nil {
		return cli.Usage(fmt.Errorf("load AWS config: %w", err)) // the shared config or the profile
	}
	// Credentials and the endpoint first: a cause of set-up is named in
	// seconds, as the error itself (exit 1), before any probe.
	w := s3err.Where{Endpoint: aws.ToString(client.Options().BaseEndpoint), Bucket: *bucket, Region: cfg.Region, Profile: *profile}
	if err := s3err.CheckCredentials(ctx, cfg.Credentials, w, s3err.DefaultConnectTimeout); err != nil {
		return err
	}
	if err := s3err.Preflight(ctx, w, s3err.DefaultConnectTimeout); err != nil {
		return err
	}
	// Against AWS the IAM probes also ask whether the key may mint access
	// keys or rewrite a user's policy, and who it is; against an
	// S3-compatible --endpoint they are not applicable.
	rep, err := policy.Probe(ctx, client, policy.ProbeOptions{Bucket: *bucket, Prefix: *prefix, SSE: *sse, KMSKeyID: *kms,
		IAMProbes: policy.IAMProbesFromS3(client, *principal)})
	if err != nil {
		return cli.Usage(err) // Probe refuses only its options
	}
	if *format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if code := rep.Exit(*strict); code != 0 {
		return &exitError{Code: code}
	}
	return nil
}
