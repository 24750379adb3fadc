package s3err_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// closedPort is a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestClassifyLocalServer sends a PutObject as the agent would for each
// cause, to the real local server (or a closed port), and checks that the
// classifier names the cause and that FailFast keeps the SDK from retrying
// it.
func TestClassifyLocalServer(t *testing.T) {
	plain := s3test.Start(t, s3local.Options{})
	tlsSrv := s3test.Start(t, s3local.Options{TLS: true})
	key := plain.Backup
	cases := []struct {
		name               string
		endpoint, bucket   string
		id, secret, region string
		want               error
		detail             string
	}{
		{name: "closed port", endpoint: "http://" + closedPort(t), want: s3err.ErrRefused, detail: "nothing listens on"},
		{name: "https to http", endpoint: "https" + strings.TrimPrefix(plain.Endpoint, "http"), want: s3err.ErrTLSMismatch, detail: "answers plain HTTP"},
		{name: "http to https", endpoint: "http" + strings.TrimPrefix(tlsSrv.Endpoint, "https"), want: s3err.ErrTLSMismatch, detail: "speaks HTTPS"},
		{name: "dns", endpoint: "http://nosuchhost.invalid:9000", want: s3err.ErrDNS, detail: "nosuchhost.invalid"},
		{name: "no such bucket", bucket: "putonly-errors-nosuchbucket", want: s3err.ErrNoSuchBucket, detail: "NoSuchBucket"},
		{name: "invalid bucket name", bucket: "Bad_Bucket!", want: s3err.ErrInvalidBucketName, detail: "InvalidBucketName"},
		{name: "wrong secret", secret: "wrong", want: s3err.ErrInvalidCredentials, detail: "SignatureDoesNotMatch"},
		{name: "unknown key", id: "nosuchkey", want: s3err.ErrInvalidCredentials, detail: "InvalidAccessKeyId"},
		{name: "wrong region", region: "eu-west-3", want: s3err.ErrWrongRegion, detail: "AuthorizationHeaderMalformed"},
		{name: "access denied", bucket: plain.Bucket, id: plain.Admin.ID, secret: plain.Admin.Secret, want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.endpoint == "" {
				c.endpoint = plain.Endpoint
			}
			if c.bucket == "" {
				c.bucket = plain.Bucket
			}
			if c.id == "" {
				c.id = key.ID
			}
			if c.secret == "" {
				c.secret = key.Secret
			}
			if c.region == "" {
				c.region = "us-east-1"
			}
			attempts := 0
			client := s3.New(s3.Options{
				Region: c.region, BaseEndpoint: aws.String(c.endpoint), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider(c.id, c.secret, ""),
				Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts = 5
					o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { attempts++; return time.Millisecond, nil })
				}),
			})
			w := s3err.Where{Endpoint: c.endpoint, Bucket: c.bucket, Region: c.region}
			_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String("errors-test/x"),
				Body: bytes.NewReader([]byte("x")), IfNoneMatch: aws.String("*")}, s3err.FailFast(w))
			got := s3err.Classify(err, w)
			if c.want == nil {
				if err != nil {
					t.Fatalf("admin put: %v", err)
				}
				return
			}
			if !errors.Is(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if !strings.Contains(got.Error(), c.detail) || !strings.Contains(got.Error(), "\n\thint: ") {
				t.Errorf("message %q: want %q and a hint", got, c.detail)
			}
			if !s3err.Setup(got) {
				t.Errorf("%v: not a set-up cause", got)
			}
			if attempts != 0 {
				t.Errorf("FailFast: retried %d times", attempts)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	plain := s3test.Start(t, s3local.Options{})
	tlsSrv := s3test.Start(t, s3local.Options{TLS: true})
	ctx := context.Background()
	for _, c := range []struct {
		endpoint string
		want     error
	}{
		{plain.Endpoint, nil},
		{tlsSrv.Endpoint, nil},
		{"http://" + closedPort(t), s3err.ErrRefused},
		{"https" + strings.TrimPrefix(plain.Endpoint, "http"), s3err.ErrTLSMismatch},
		{"http://nosuchhost.invalid", s3err.ErrDNS},
		{"http" + strings.TrimPrefix(tlsSrv.Endpoint, "https"), s3err.ErrTLSMismatch},
	} {
		err := s3err.Preflight(ctx, s3err.Where{Endpoint: c.endpoint}, time.Second)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Preflight(%s) = %v, want %v", c.endpoint, err, c.want)
		}
		if c.want != nil && !errors.Is(err, s3err.ErrUnreachable) {
			t.Errorf("Preflight(%s) = %v: not ErrUnreachable", c.endpoint, err)
		}
	}
}

type noCreds struct{}

func (noCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("no EC2 IMDS role found")
}

func TestCheckCredentials(t *testing.T) {
	err := s3err.CheckCredentials(context.Background(), noCreds{}, s3err.Where{Profile: "backup"}, time.Second)
	if !errors.Is(err, s3err.ErrNoCredentials) || !strings.Contains(err.Error(), `profile "backup"`) || !strings.Contains(err.Error(), "EC2 instance metadata") {
		t.Fatalf("got %v", err)
	}
	if !s3err.Setup(err) || s3err.Fix(err) == "" {
		t.Fatalf("%v: want a set-up cause with a fix", err)
	}
	ok := credentials.NewStaticCredentialsProvider("id", "secret", "")
	if err := s3err.CheckCredentials(context.Background(), ok, s3err.Where{}, time.Second); err != nil {
		t.Fatal(err)
	}
}

// A 403 AccessDenied is about the key's rights: classified, not set-up.
func TestAccessDenied(t *testing.T) {
	srv := s3test.Start(t, s3local.Options{})
	client := srv.Client(srv.Backup)
	_, err := client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(srv.Bucket), Policy: aws.String("{}")})
	got := s3err.Classify(err, s3err.Where{Bucket: srv.Bucket})
	if !errors.Is(got, s3err.ErrAccessDenied) || s3err.Setup(got) {
		t.Fatalf("got %v (setup %v)", got, s3err.Setup(got))
	}
	var ae interface{ ErrorCode() string }
	if !errors.As(got, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("the SDK error is not in the chain: %v", got)
	}
}

func TestClassifyLeavesOthers(t *testing.T) {
	for _, err := range []error{nil, errors.New("boom"), context.Canceled, context.DeadlineExceeded} {
		if got := s3err.Classify(err, s3err.Where{}); got != err {
			t.Errorf("Classify(%v) = %v", err, got)
		}
	}
}
