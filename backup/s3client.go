package backup

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/smithy-go/logging"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3err"
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
	// ConnectTimeout bounds each TCP connect and TLS handshake (default
	// s3err.DefaultConnectTimeout, 5 s), apart from the transfer's
	// retries: a wrong or dead endpoint is named in seconds.
	ConnectTimeout time.Duration
	// MaxRetryTime bounds how long one request keeps retrying (0:
	// DefaultMaxRetryTime); the job's deadline bounds it too.
	MaxRetryTime time.Duration
}

func (o ClientOptions) connectTimeout() time.Duration {
	if o.ConnectTimeout > 0 {
		return o.ConnectTimeout
	}
	return s3err.DefaultConnectTimeout
}

// Where is what the error classifier is told about the connection.
func (o ClientOptions) Where(bucket string) s3err.Where {
	return s3err.Where{Endpoint: o.Endpoint, Bucket: bucket, Region: o.Region, Profile: o.Profile}
}

// Connect is NewS3Client for a job that is about to talk to the store: it
// also checks, in seconds and without any S3 request, that credentials are
// found and that the endpoint accepts a connection in the protocol its URL
// names, and returns the classified cause (s3err) otherwise.
func Connect(ctx context.Context, o ClientOptions, bucket string) (*s3.Client, error) {
	client, err := NewS3Client(ctx, o)
	if err != nil {
		return nil, err
	}
	w := o.Where(bucket)
	if w.Endpoint == "" {
		w.Endpoint = aws.ToString(client.Options().BaseEndpoint)
		w.Region = client.Options().Region
	}
	if err := s3err.CheckCredentials(ctx, client.Options().Credentials, w, o.connectTimeout()); err != nil {
		return nil, err
	}
	if err := s3err.Preflight(ctx, w, o.connectTimeout()); err != nil {
		return nil, err
	}
	return client, nil
}

// NewS3Client builds a client with config.LoadDefaultConfig, so the SDK's
// request checksums, endpoint resolution and credential chain stay on
// (building s3.Options by hand silently turns checksums off).
func NewS3Client(ctx context.Context, o ClientOptions) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	// The SDK's own log lines (the IMDS client's "falling back to IMDSv1"
	// when no credentials are found, a response without a checksum) went
	// to stderr ahead of putonly's error, which names the cause itself
	// (internal/s3err): they are dropped.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	// The connection set-up has a timeout of its own, short, apart from
	// the transfer's: the SDK's default dialer waits 30 s per attempt.
	ct := o.connectTimeout()
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = ct }).
		WithTransportOptions(func(tr *http.Transport) { tr.TLSHandshakeTimeout = ct })))
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return nil, &s3err.Error{Cause: s3err.ErrNoCredentials, Detail: fmt.Sprintf("profile %q is not in ~/.aws/config or ~/.aws/credentials", pe.Profile),
				Fix: "name a profile the shared files define (--profile / profile:, AWS_PROFILE), or unset it to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", Err: err}
		}
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		// S3-compatible stores still need a region to sign requests.
		cfg.Region = "us-east-1"
	}
	// The retryer is set on the client, not on cfg: see retryOptions.
	return s3.NewFromConfig(cfg, retryOptions(o.MaxAttempts, o.MaxRetryTime), func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	}), nil
}
