package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/policy"
)

const generateUsage = `Usage: putonly-policy generate --bucket B --principal ARN [options]

Prints one document to stdout: the write-only bucket policy by default.
Run it on an admin's workstation; apply the result with the AWS CLI, or run
--output setup to get the commands that do it all.

Required:
  --bucket NAME          the S3 bucket.
                           --bucket acme-db-backups
  --principal ARN        the backup user putonly runs as.
                           --principal arn:aws:iam::123456789012:user/putonly-db1
                         With --fleet: the IAM path of all backup users, then /*.
                           --principal arn:aws:iam::123456789012:user/putonly/*

Options:
  --output KIND          what to print (default bucket-policy):
                           bucket-policy   the bucket policy (JSON)
                           user-policy     the backup user's IAM policy (JSON), as a
                                           customer managed policy
                           lifecycle       the lifecycle rules (JSON) for
                                           aws s3api put-bucket-lifecycle-configuration
                           setup           a shell script of AWS CLI commands: bucket,
                                           defences, user with no console password,
                                           policies, and exactly one access key
                           cloudformation  a CloudFormation template (JSON) for the same,
                                           without the access key
                           terraform       a Terraform configuration (HCL, hashicorp/aws)
                                           for the same; the access key only with
                                           -var create_access_key=true
                           terraform-module  the same, with the bucket made by the
                                           terraform-aws-modules/s3-bucket module
                           --output setup > setup.sh
  --prefix P             confine writes to keys under P (ends in /).
                           --prefix db1/
  --allow-list           also allow s3:ListBucket, as the seed policy does. The
                         key can then tell whether a backup exists (404, not 403).
                           --allow-list
  --kms-key ARN          require SSE-KMS with this key instead of SSE-S3 (AES256).
                         Configure putonly with the same ARN, not an ID or alias.
                           --kms-key arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
  --object-lock DAYS     lock every new backup for DAYS (needs a new bucket: set-up
                         creates it with object lock), and deny requests that ask for
                         longer.
                           --object-lock 35
  --object-lock-mode M   governance (default; admins with s3:BypassGovernanceRetention
                         can delete early) or compliance (nobody can, not even root).
                           --object-lock-mode compliance
  --sns-topic ARN        the user policy also allows sns:Publish on this topic, for
                         the daemon's sns: notifications (repeat for several).
                           --sns-topic arn:aws:sns:eu-west-1:123456789012:backups-prod
  --fleet                one policy for many hosts: each user writes only under
                         PREFIX<its user name>/. --principal is then a path pattern.
                           --fleet --principal arn:aws:iam::123456789012:user/putonly/*
  --preset seed          print exactly the two-statement seed policy (GetBucketLocation
                         and ListBucket on the bucket, PutObject on its objects) and
                         nothing else; bucket-policy only.
                           --preset seed
  --region R             the bucket's Region, for set-up (default: the AWS CLI's).
                           --region eu-west-1

Lifecycle (--output lifecycle, setup, cloudformation, terraform):
  --expire DAYS          expire every backup after DAYS.
                           --expire 35
  --expire JOB=DAYS      expire the backups of putonly job JOB after DAYS; repeat
                         per job.
                           --expire daily=14 --expire weekly=60 --expire monthly=400
  --abort-incomplete N   abort multipart uploads left by a crash after N days, 1-7
                         (default 3).
                           --abort-incomplete 2
  --transition C=DAYS    move backups to storage class C after DAYS.
                           --transition GLACIER_IR=30
  --noncurrent-days N    with --object-lock: keep an expired version N more days
                         (default 7).
                           --noncurrent-days 3

Example:
  putonly-policy generate --bucket acme-db-backups \
      --principal arn:aws:iam::123456789012:user/putonly-db1 --prefix db1/ > bucket-policy.json
`

// runGenerate implements 'putonly-policy generate'.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; --help prints generateUsage
	var (
		o              policy.GenerateOptions
		output, preset string
	)
	fs.StringVar(&o.Bucket, "bucket", "", "")
	fs.StringVar(&o.Principal, "principal", "", "")
	fs.StringVar(&o.Prefix, "prefix", "", "")
	fs.BoolVar(&o.AllowList, "allow-list", false, "")
	fs.StringVar(&o.KMSKeyARN, "kms-key", "", "")
	fs.IntVar(&o.ObjectLockDays, "object-lock", 0, "")
	fs.StringVar(&o.ObjectLockMode, "object-lock-mode", "", "")
	fs.BoolVar(&o.Fleet, "fleet", false, "")
	fs.StringVar(&o.Region, "region", "", "")
	fs.StringVar(&output, "output", "bucket-policy", "")
	fs.StringVar(&preset, "preset", "", "")
	fs.Func("expire", "", func(s string) error {
		r, err := policy.ParseExpire(s)
		if err != nil {
			return err
		}
		o.Lifecycle.Expire = append(o.Lifecycle.Expire, r)
		return nil
	})
	fs.IntVar(&o.Lifecycle.AbortIncompleteDays, "abort-incomplete", 0, "")
	fs.Func("transition", "", func(s string) error {
		t, err := policy.ParseTransition(s)
		o.Lifecycle.Transition = t
		return err
	})
	fs.IntVar(&o.Lifecycle.NoncurrentDays, "noncurrent-days", 0, "")
	fs.Func("sns-topic", "", func(s string) error {
		o.SNSTopics = append(o.SNSTopics, s)
		return nil
	})

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, generateUsage)
			return nil
		}
		return genUsageError(err)
	}
	if fs.NArg() > 0 {
		return genUsageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if o.Bucket == "" || o.Principal == "" {
		return genUsageError(errors.New("--bucket and --principal are required"))
	}
	if preset != "" && preset != "seed" {
		return cli.Usage(&policy.OptionError{Flag: "--preset", Value: preset, Msg: "the only preset is seed", Fix: "--preset seed"})
	}
	if preset == "seed" && output != "bucket-policy" {
		return cli.Usage(&policy.OptionError{Flag: "--output", Value: output, Msg: "--preset seed prints only a bucket policy",
			Fix: "drop --output, or drop --preset seed"})
	}

	doc, err := generateDoc(o, output, preset, args)
	var optErr *policy.OptionError
	switch {
	case errors.As(err, &optErr):
		// The generators fail only on the options (each an OptionError,
		// joined); anything else is ours and exits 1.
		return cli.Usage(err)
	case err != nil:
		return err
	}
	if _, err := stdout.Write(doc); err != nil {
		return fmt.Errorf("write %s: %w", output, err)
	}
	return nil
}

// generateDoc is the document --output names, from o (args, the command
// line, is written into the set-up documents).
func generateDoc(o policy.GenerateOptions, output, preset string, args []string) (doc []byte, err error) {
	switch output {
	case "bucket-policy":
		if preset == "seed" {
			doc, err = policy.GenerateSeedPolicy(o)
		} else {
			doc, err = policy.GenerateBucketPolicy(o)
		}
	case "user-policy":
		doc, err = policy.GenerateUserPolicy(o)
	case "lifecycle":
		doc, err = policy.GenerateLifecycle(o)
	case "setup":
		doc, err = policy.GenerateSetup(o, genCommandLine(args))
	case "cloudformation":
		doc, err = policy.GenerateCloudFormation(o)
	case "terraform":
		doc, err = policy.GenerateTerraform(o, genCommandLine(args))
	case "terraform-module":
		doc, err = policy.GenerateTerraformModule(o, genCommandLine(args))
	default:
		err = &policy.OptionError{Flag: "--output", Value: output, Msg: "unknown kind",
			Fix: "one of bucket-policy, user-policy, lifecycle, setup, cloudformation, terraform, terraform-module"}
	}
	return doc, err
}

// genUsageError is a command line that does not parse, with the hint.
func genUsageError(err error) error {
	return cli.Usage(fmt.Errorf("generate: %w\n\tsee putonly-policy generate --help", err))
}

// genCommandLine is the command as a shell would take it back, for the
// set-up script's header.
func genCommandLine(args []string) string {
	q := []string{"putonly-policy", "generate"}
	for _, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,@+") == "" {
			q = append(q, a)
			continue
		}
		q = append(q, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(q, " ")
}
