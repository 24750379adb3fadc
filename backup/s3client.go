package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ClientOptions say how to reach S3. Credentials always come from the
// standard AWS chain (environment, shared profile, SSO, web identity,
// instance role); putonly never reads or logs them itself.
type ClientOptions struct {
	Region      string
	Endpoint    string // S3-compatible stores; AWS_ENDPOINT_URL_S3 also works
	PathStyle   bool
	Profile     string
	MaxAttempts int
}

// NewS3Client builds a client with config.LoadDefaultConfig, so the SDK's
// request checksums, endpoint resolution and credential chain stay on
// (building s3.Options by hand silently turns checksums off).
func NewS3Client(ctx context.Context, o ClientOptions) (*s3.Client, error) {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				// Each request (one part) is retried with jittered
				// exponential backoff on 503 SlowDown, 500s and cut
				// connections. The default client-side retry quota would
				// give up on a throttling storm after a few failures
				// across all parts; S3 asks clients to back off, not to
				// fail, so there is no quota.
				so.MaxAttempts = attempts
				so.MaxBackoff = 20 * time.Second
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		// S3-compatible stores still need a region to sign requests.
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	}), nil
}
