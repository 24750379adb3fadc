package s3err

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Chain names the sources the AWS SDK's default credential chain tries, in
// its order (config.LoadDefaultConfig; AWS SDKs and Tools Reference Guide,
// "Understand the credential provider chain",
// https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html).
func Chain(profile string) string {
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	p := "the default profile"
	if profile != "" {
		p = fmt.Sprintf("profile %q", profile)
	}
	return "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), " +
		"shared files ~/.aws/credentials and ~/.aws/config (" + p + ": keys, SSO, assume-role, credential_process), " +
		"web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), " +
		"container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI), " +
		"EC2 instance metadata (an instance role)"
}

// CheckCredentials asks provider for credentials once, within timeout, so
// that a host without any fails before its first request, with the chain
// that was tried, instead of on each request after the SDK's instance
// metadata attempts. The credentials are cached by the SDK and never
// printed.
func CheckCredentials(ctx context.Context, provider aws.CredentialsProvider, w Where, timeout time.Duration) error {
	if provider == nil {
		return &Error{Cause: ErrNoCredentials, Detail: "tried " + Chain(w.Profile), Fix: noCredentialsFix}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := provider.Retrieve(ctx)
	if err == nil && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		err = errors.New("the provider returned an empty key")
	}
	if err != nil {
		return &Error{Cause: ErrNoCredentials, Detail: "tried " + Chain(w.Profile) + "; the last said: " + oneLine(err.Error()), Fix: noCredentialsFix, Err: err}
	}
	return nil
}

const noCredentialsFix = "give the job the backup key: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment (systemd: EnvironmentFile=), or a profile in /root/.aws/credentials with --profile / profile:"

// classifyCredentials recognises a request that failed before it was
// sent, because the SDK found no credentials. The SDK wraps that failure
// in text only ("get identity: get credentials: ..."; service/s3/auth.go
// getIdentityMiddleware), so this one test is on the message.
func classifyCredentials(err error, w Where, mk func(*Cause, string, string) *Error) *Error {
	msg := err.Error()
	if !strings.Contains(msg, "get identity: ") {
		return nil
	}
	_, last, _ := strings.Cut(msg, "get identity: ")
	return mk(ErrNoCredentials, "tried "+Chain(w.Profile)+"; the last said: "+oneLine(last), noCredentialsFix)
}
