package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go/logging"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// awsOptions say how the admin's commands reach AWS or an S3-compatible
// store; credentials come from the standard chain (or the profile).
type awsOptions struct {
	profile, region, endpoint string
	pathStyle                 bool
}

// connect loads the AWS config for selftest and verify --live and builds
// their S3 client on it: the one place putonly-policy does. A request is a
// question here, not a backup to push through: a few attempts, so an
// unreachable store answers in seconds. With no region configured it signs
// for us-east-1 (IAM is global; S3-compatible stores still need one).
func connect(ctx context.Context, o awsOptions) (aws.Config, *s3.Client, error) {
	opts := []func(*config.LoadOptions) error{
		// The SDK's own log lines went to stderr ahead of the named error.
		config.WithLogger(logging.Nop{}),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 3) }),
	}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		// The SDK says "failed to get shared config profile, NAME": name
		// the files and the fix, as putonly does for the same profile.
		return aws.Config{}, nil, fmt.Errorf("profile %q is not in ~/.aws/config or ~/.aws/credentials\n\thint: name a profile the shared files define (--profile, AWS_PROFILE), or leave --profile out for the standard chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", pe.Profile)
	}
	if err != nil {
		return aws.Config{}, nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
		}
		so.UsePathStyle = o.pathStyle
	})
	return cfg, client, nil
}
