package backup

import (
	"context"
	"flag"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// RegisterConnFlags registers on fs the flags of where to connect
// (--endpoint, --region, --profile, --path-style, --connect-timeout, and with
// maxAttempts --max-attempts) for the commands that are not a job run: they
// read a bucket (list, restore, drill, audit) or only probe or push to it
// (selftest, wal-push). The names and values are the table's and write into
// j, so [ValidateFlags], [Config.Override] and [Settings.ClientOptions] work
// on them as on run's; the help is shorter than run's, where these sit among
// every job setting.
func RegisterConnFlags(fs *flag.FlagSet, j *JobConfig, maxAttempts bool) {
	fs.StringVar(&j.Endpoint, setting("endpoint").Flag, "", "S3-compatible endpoint `URL` (also AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&j.Region, setting("region").Flag, "", "AWS `region` (default: from the AWS config)")
	fs.StringVar(&j.Profile, setting("profile").Flag, "", "shared AWS config `profile` (also AWS_PROFILE)")
	fs.Var(&optBoolFlag{&j.PathStyle}, setting("path_style").Flag, "path-style addressing (most S3-compatible stores)")
	fs.DurationVar((*time.Duration)(&j.ConnectTimeout), setting("connect_timeout").Flag, 0, "give up on a connection (TCP connect, TLS handshake) after this `duration`, apart from the transfer's retries (default 5s)")
	if maxAttempts {
		fs.IntVar(&j.MaxAttempts, setting("max_attempts").Flag, 0, "attempts per request on throttling, 5xx and cut connections (default 20)")
	}
}

// ClientOptions are the connection the settings describe; zero values are
// the client's defaults.
func (s *Settings) ClientOptions() ClientOptions {
	return ClientOptions{
		Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle != nil && *s.PathStyle,
		Profile: s.Profile, MaxAttempts: s.MaxAttempts, ConnectTimeout: time.Duration(s.ConnectTimeout), MaxRetryTime: time.Duration(s.MaxRetryTime),
	}
}

// ConnFlags are the connection flags of a command that reads a bucket
// (list, restore, drill, audit): [RegisterConnFlags] with --max-attempts.
type ConnFlags struct{ JobConfig }

// Register adds the flags to fs.
func (c *ConnFlags) Register(fs *flag.FlagSet) { RegisterConnFlags(fs, &c.JobConfig, true) }

// Options are the connection the flags describe.
func (c *ConnFlags) Options() ClientOptions { return c.ClientOptions() }

// Client connects to S3 as the flags say ([Connect]: credentials and
// endpoint are checked first).
func (c *ConnFlags) Client(ctx context.Context) (*s3.Client, error) {
	return Connect(ctx, c.Options(), "")
}

// ConnArgs are the connection flags that rebuild s's endpoint, region,
// profile and path style on another command's line (the wal-fetch of a
// restore_command, a self-test started in the background); empty values
// are left out.
func (s *Settings) ConnArgs() []string {
	var args []string
	for _, a := range []struct{ yaml, v string }{{"endpoint", s.Endpoint}, {"region", s.Region}, {"profile", s.Profile}} {
		if a.v != "" {
			args = append(args, "--"+setting(a.yaml).Flag, a.v)
		}
	}
	if s.PathStyle != nil && *s.PathStyle {
		args = append(args, "--"+setting("path_style").Flag)
	}
	return args
}
