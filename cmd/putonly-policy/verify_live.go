package main

import (
	"context"
	"errors"
	"fmt"

	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/policy"
	"github.com/putonly/putonly/policy/iam"
)

// verifyLiveOptions say how verify --live reaches the account.
type verifyLiveOptions = awsOptions

// verifyFetchLive reads what verify --live evaluates, with the admin's
// credentials from the standard chain (or the profile).
func verifyFetchLive(ctx context.Context, o verifyLiveOptions, bucket, principal string) (*policy.Live, error) {
	cfg, s3c, err := connect(ctx, o)
	if err != nil {
		// The shared config or the profile: input to fix (exit 2).
		return nil, cli.Usage(fmt.Errorf("verify --live: load AWS config: %w", err))
	}
	l, err := policy.FetchLive(ctx, policy.LiveInput{Bucket: bucket, Principal: principal, S3: s3c, IAM: awsiam.NewFromConfig(cfg)})
	var invalid *iam.ParseError
	switch {
	case errors.As(err, &invalid):
		// A fetched document that is not a valid policy is bad input, as
		// the same document in a file is (exit 2).
		return nil, cli.Usage(fmt.Errorf("verify --live: %w", err))
	case err != nil:
		return nil, fmt.Errorf("verify --live: %w\n\thint: %s", err, liveFix(err, o, bucket))
	}
	return l, nil
}

// liveFix is the hint for a failed fetch. A network fault or a credential,
// region or bucket problem says nothing about the admin's rights, so it
// is named as what it is; only the rest points at the permissions.
func liveFix(err error, o verifyLiveOptions, bucket string) string {
	ce := s3err.Classify(err, s3err.Where{Endpoint: o.endpoint, Bucket: bucket, Region: o.region, Profile: o.profile})
	e, _ := s3err.As(ce)
	switch {
	case errors.Is(ce, s3err.ErrUnreachable) && e != nil:
		return "the request did not reach S3 or IAM (" + e.Detail + "): check this machine's network, and --endpoint (S3) and AWS_ENDPOINT_URL_IAM (IAM) if you point them elsewhere; without the network, verify the documents offline (--bucket-policy, --identity-policy, --bucket-settings)"
	case s3err.Setup(ce):
		return s3err.Fix(ce)
	}
	return "the admin credentials need read access to the bucket's configuration and to IAM (IAMReadOnlyAccess)"
}

// verifyLiveAssumptions says what the live answer rests on. Permissions
// boundaries, SCPs and RCPs can only narrow what the identity and bucket
// policies grant ("Policy evaluation logic", IAM User Guide,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
// an action must be allowed by each that applies), so a fail needs none of
// them, and a pass that did not apply them holds without them.
func verifyLiveAssumptions(l *policy.Live, res *policy.VerifyResult) []string {
	var out []string
	for _, n := range l.Notes {
		out = append(out, "live: "+n)
	}
	boundary := "the principal has no permissions boundary"
	if l.Boundary != "" {
		boundary = "the permissions boundary " + l.Boundary + " was read and not applied"
	}
	if res.Verdict == policy.VerdictFail {
		out = append(out, "live: permissions boundaries, SCPs and RCPs can only narrow: they were not needed for this fail ("+boundary+"; SCPs and RCPs were not read)")
	} else {
		out = append(out, "live: permissions boundaries, SCPs and RCPs can only narrow, so this pass holds without them ("+boundary+"; SCPs and RCPs were not read)")
	}
	return out
}
