package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/putonly/putonly/policy"
)

type verifyLiveOptions struct {
	profile, region, endpoint string
	pathStyle                 bool
}

// verifyFetchLive reads what verify --live evaluates, with the admin's
// credentials from the standard chain (or the profile).
func verifyFetchLive(ctx context.Context, o verifyLiveOptions, bucket, principal string) (*policy.Live, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 3) }),
	}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify --live: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM is global; S3-compatible stores still sign with one
	}
	s3c := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
		}
		so.UsePathStyle = o.pathStyle
	})
	l, err := policy.FetchLive(ctx, policy.LiveInput{Bucket: bucket, Principal: principal, S3: s3c, IAM: awsiam.NewFromConfig(cfg)})
	if err != nil {
		return nil, fmt.Errorf("verify --live: %w\n\thint: the admin credentials need read access to the bucket's configuration and to IAM (IAMReadOnlyAccess)", err)
	}
	return l, nil
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
