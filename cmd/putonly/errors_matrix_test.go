package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// TestRunFailureCauses is issue #16's matrix: 'putonly run' against the
// local server (or a closed port) with each cause of set-up a new user
// meets. Each must be named as the error itself, with its fix, before any
// self-test verdict, with exit 1 (2 for a bucket name the agent refuses
// before connecting) and nothing written. The time each takes is logged
// (go test -v -run TestRunFailureCauses), never asserted.
func TestRunFailureCauses(t *testing.T) {
	plain := s3test.Start(t, s3local.Options{})
	tlsSrv := s3test.Start(t, s3local.Options{TLS: true})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	good := map[string]string{"AWS_ACCESS_KEY_ID": plain.Backup.ID, "AWS_SECRET_ACCESS_KEY": plain.Backup.Secret}
	cases := []struct {
		name     string
		endpoint string
		bucket   string
		creds    map[string]string
		region   string
		exit     int
		want     []string // in stderr, in this order
	}{
		{name: "closed port", endpoint: closed, exit: 1,
			want: []string{"connection refused: nothing listens on " + strings.TrimPrefix(closed, "http://"), "hint: check the endpoint's host and port"}},
		{name: "https to an http server", endpoint: "https" + strings.TrimPrefix(plain.Endpoint, "http"), exit: 1,
			want: []string{"TLS mismatch: https:// spoken to", "which answers plain HTTP", "hint: use http://"}},
		{name: "http to an https server", endpoint: "http" + strings.TrimPrefix(tlsSrv.Endpoint, "https"), exit: 1,
			want: []string{"TLS mismatch: http:// spoken to", "which speaks HTTPS", "hint: use https://"}},
		{name: "no such bucket", bucket: "putonly-errors-nosuchbucket", exit: 1,
			want: []string{"no such bucket: 404 NoSuchBucket", "hint: create putonly-errors-nosuchbucket"}},
		{name: "invalid bucket name", bucket: "Bad_Bucket!", exit: 2,
			want: []string{"--bucket \"Bad_Bucket!\""}},
		{name: "no credentials", creds: map[string]string{}, exit: 1,
			want: []string{"no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", "EC2 instance metadata", "hint: give the job the backup key"}},
		{name: "wrong secret", creds: map[string]string{"AWS_ACCESS_KEY_ID": plain.Backup.ID, "AWS_SECRET_ACCESS_KEY": "wrong-secret-0123456789"}, exit: 1,
			want: []string{"the store does not accept these credentials: 403 SignatureDoesNotMatch", "hint: check the access key id and secret"}},
		{name: "unknown key", creds: map[string]string{"AWS_ACCESS_KEY_ID": "nosuchkey", "AWS_SECRET_ACCESS_KEY": "wrong-secret-0123456789"}, exit: 1,
			want: []string{"the store does not accept these credentials: 403 InvalidAccessKeyId"}},
		{name: "wrong region", region: "eu-west-3", exit: 1,
			want: []string{"wrong region: 400 AuthorizationHeaderMalformed", `expecting "us-east-1"`, "hint: set the bucket's region"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.endpoint == "" {
				c.endpoint = plain.Endpoint
			}
			if c.bucket == "" {
				c.bucket = plain.Bucket
			}
			if c.creds == nil {
				c.creds = good
			}
			if c.region == "" {
				c.region = "us-east-1"
			}
			home := t.TempDir()
			env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "PUTONLY_STATE_DIR=" + t.TempDir(),
				"AWS_REGION=" + c.region, "AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none"}
			for k, v := range c.creds {
				env = append(env, k+"="+v)
			}
			cmd := exec.Command(putonlyBin, "run", "--bucket", c.bucket, "--prefix", "db1/", "--recipient", id.Recipient().String(),
				"--endpoint", c.endpoint, "--path-style", "--log-format", "text", "--", "sh", "-c", "echo putonly-errors-matrix")
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-24s exit %d after %s", c.name, code, took.Round(time.Millisecond))
			out := stderr.String()
			if code != c.exit {
				t.Errorf("exit %d, want %d\n%s", code, c.exit, out)
			}
			rest := out
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			// "SDK 2026/... WARN falling back to IMDSv1": the SDK's own log
			// lines, ahead of the named cause, are not putonly's to print.
			for _, bad := range []string{"--allow-readable-key", "could not tell", "more than write rights", "verdict", "SDK ", "WARN falling back"} {
				if strings.Contains(out, bad) {
					t.Errorf("stderr blames the key or runs the self-test (%q):\n%s", bad, out)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout names an object: %s", stdout.String())
			}
			if keys := s3test.Keys(t, plain); len(keys) != 0 {
				t.Errorf("objects written: %v", keys)
			}
		})
	}
}

// The one-line summary cron mails holds the dump's own last stderr line.
func TestRunSummaryNamesDumpError(t *testing.T) {
	m := newKeyMatrix(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := m.putonly(t, "good", t.TempDir(), "run", "--bucket", m.s.Bucket, "--prefix", matrixPrefix, "--path-style",
		"--recipient", id.Recipient().String(), "--name", "shop", "--",
		"sh", "-c", `echo 'pg_dump: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "nosuchdb" does not exist' >&2; exit 1`)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.HasPrefix(last, "putonly: job shop: ") || !strings.Contains(last, `database \"nosuchdb\" does not exist`) {
		t.Fatalf("exit %d, summary %q\n%s", code, last, stderr)
	}
}
