package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/restore"
)

// connFlags are the connection flags of the commands that read a bucket
// (list, restore, drill, audit); the same names and meanings as run's.
// Credentials come from the standard AWS chain, never from a flag.
type connFlags struct {
	endpoint, region, profile string
	pathStyle                 bool
	maxAttempts               int
	connectTimeout            time.Duration
}

func (c *connFlags) register(fs *flag.FlagSet) {
	c.registerEndpoint(fs)
	fs.IntVar(&c.maxAttempts, "max-attempts", 0, "attempts per request on throttling, 5xx and cut connections (default 20)")
}

// registerEndpoint registers where to connect, without --max-attempts
// (run and daemon take that as a job setting).
func (c *connFlags) registerEndpoint(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "S3-compatible endpoint `URL` (also AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&c.region, "region", "", "AWS `region` (default: from the AWS config)")
	fs.StringVar(&c.profile, "profile", "", "shared AWS config `profile` (also AWS_PROFILE)")
	fs.BoolVar(&c.pathStyle, "path-style", false, "path-style addressing (most S3-compatible stores)")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 0, "give up on a connection (TCP connect, TLS handshake) after this `duration`, apart from the transfer's retries (default 5s)")
}

// options are the connection the flags describe.
func (c *connFlags) options() backup.ClientOptions {
	return backup.ClientOptions{Region: c.region, Endpoint: c.endpoint, PathStyle: c.pathStyle, Profile: c.profile, MaxAttempts: c.maxAttempts, ConnectTimeout: c.connectTimeout}
}

// override replaces in o what the command line set (set: flagsSet), so the
// flags win over a config file.
func (c *connFlags) override(o *backup.ClientOptions, set map[string]bool) {
	if set["endpoint"] {
		o.Endpoint = c.endpoint
	}
	if set["path-style"] {
		o.PathStyle = c.pathStyle
	}
	if set["region"] {
		o.Region = c.region
	}
	if set["profile"] {
		o.Profile = c.profile
	}
	if set["connect-timeout"] && c.connectTimeout > 0 {
		o.ConnectTimeout = c.connectTimeout
	}
	if set["max-attempts"] && c.maxAttempts > 0 {
		o.MaxAttempts = c.maxAttempts
	}
}

func (c *connFlags) client(ctx context.Context) (*s3.Client, error) {
	return backup.Connect(ctx, c.options(), "")
}

// The commands' shared helpers (internal/cli).
type stringList = cli.StringList

var (
	parseFlagsArgs = cli.ParseArgs
	flagsSet       = cli.FlagsSet
	isTerminal     = cli.IsTerminal
	progressLine   = cli.ProgressLine
	plural         = cli.Plural
	oneLine        = cli.OneLine
	human          = cli.Human
	rate           = cli.Rate
)

func usageError(err error, hint string) error { return &exitError{Code: 2, Err: cli.Hint(err, hint)} }

// parseFlags parses args, which must hold flags only; --help prints the
// usage on stdout and returns done. Bad flags are exit status 2 (the flag
// package has printed why).
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (done bool, err error) {
	_, done, err = cli.ParseArgs(fs, usage, args, 0, stdout, stderr)
	return done, err
}

// identities loads the --identity files.
func identities(files []string) ([]age.Identity, error) {
	if len(files) == 0 {
		return nil, usageError(errors.New("no --identity"), "pass the age identity file the backups are encrypted to (age-keygen -y FILE prints its recipient)")
	}
	ids, err := restore.LoadIdentities(files...)
	if err != nil {
		return nil, usageError(err, "")
	}
	return ids, nil
}

// failure is a failed operation: exit status 1, with a hint for the errors
// a user can act on.
func failure(err error) error {
	// Refused, no such bucket, wrong credentials...: the cause and its fix.
	c := s3err.Classify(err, s3err.Where{})
	if s3err.Setup(c) {
		return &exitError{Code: 1, Err: c}
	}
	var hint string
	switch {
	case errors.Is(err, restore.ErrWrongIdentity):
		hint = "use the identity whose recipient the job encrypts to (age-keygen -y IDENTITY prints it; the object metadata putonly-recipient-types names its type)"
	case errors.Is(err, restore.ErrCorrupt):
		hint = "the object is damaged or incomplete: restore an older backup (putonly list)"
	case errors.Is(err, restore.ErrMismatch):
		hint = "the restored data is not what the dump produced: restore an older backup (putonly list)"
	case errors.Is(c, s3err.ErrAccessDenied):
		hint = "these credentials cannot read the bucket: restore with read credentials, never with the backup key"
	}
	if hint != "" && !strings.Contains(err.Error(), "\thint:") {
		err = fmt.Errorf("%w\n\thint: %s", err, hint)
	}
	return &exitError{Code: 1, Err: err}
}

// splitS3URL accepts s3://bucket/key for --key.
func splitS3URL(s string) (bucket, key string, ok bool) {
	rest, found := strings.CutPrefix(s, "s3://")
	if !found {
		return "", s, false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
}
