// Package clitest holds what the CLI scripts of putonly and putonly-policy
// share: commands and conditions for testscript
// (github.com/rogpeppe/go-internal/testscript). Only tests import it.
//
// Commands:
//
//	exits STATUS PROGRAM [ARGS...]
//	    run PROGRAM as exec does and check its exit status is STATUS
//	    (exec alone tells only zero from non-zero; the commands promise
//	    1 for a failed job and 2 for bad usage).
//	s3 start [-prefix P]
//	    start a fresh local S3 server (versitygw, internal/s3local) for this
//	    script and point the environment at it with the PutObject-only
//	    backup key: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
//	    AWS_ENDPOINT_URL_S3; and BUCKET, PREFIX, ADMIN_KEY_ID and
//	    ADMIN_SECRET for the read side. The server stops when the script ends.
//	waitfor [-timeout D] FILE
//	    wait until FILE exists (default timeout 60s), e.g. the state file of
//	    a daemon started in the background.
//
// Conditions:
//
//	[s3]  the local S3 server can be started. Without it a script skips,
//	      unless PUTONLY_REQUIRE_INTEGRATION=1, where the condition fails
//	      the script: a suite that silently skips proves nothing.
package clitest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/rogpeppe/go-internal/testscript"
)

// Commands are the script commands above.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exits":   exits,
		"s3":      s3,
		"waitfor": waitfor,
	}
}

// Condition answers the conditions above; others are an error.
func Condition(cond string) (bool, error) {
	switch cond {
	case "s3":
		if _, err := versitygw(); err != nil {
			if os.Getenv("PUTONLY_REQUIRE_INTEGRATION") == "1" {
				return false, fmt.Errorf("required and PUTONLY_REQUIRE_INTEGRATION=1: versitygw: %v", err)
			}
			return false, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits (name the status instead)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: status %q: %v", args[0], err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

func versitygw() (string, error) {
	bin, err := s3local.FindVersitygw("", nil)
	if err == nil {
		return bin, nil
	}
	if root := s3test.RepoRoot(); root != "" {
		p := filepath.Join(root, ".cache", "bin", "versitygw")
		if st, serr := os.Stat(p); serr == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", err
}

func s3(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 || args[0] != "start" {
		ts.Fatalf("usage: s3 start [-prefix P]")
	}
	fs := flag.NewFlagSet("s3 start", flag.ContinueOnError)
	prefix := fs.String("prefix", "", "the backup key's prefix")
	if err := fs.Parse(args[1:]); err != nil {
		ts.Fatalf("s3 start: %v", err)
	}
	bin, err := versitygw()
	if err != nil {
		ts.Fatalf("s3 start: versitygw: %v (guard the script with [!s3] skip)", err)
	}
	dir, err := os.MkdirTemp("", "putonly-script-s3-")
	if err != nil {
		ts.Fatalf("s3 start: %v", err)
	}
	s, err := s3local.Start(context.Background(), bin, s3local.Options{Dir: dir, Prefix: *prefix})
	if err != nil {
		os.RemoveAll(dir)
		ts.Fatalf("s3 start: %v", err)
	}
	ts.Defer(func() {
		s.Stop()
		os.RemoveAll(dir)
	})
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":     s.Backup.ID,
		"AWS_SECRET_ACCESS_KEY": s.Backup.Secret,
		"AWS_REGION":            "us-east-1",
		"AWS_ENDPOINT_URL_S3":   s.Endpoint,
		"BUCKET":                s.Bucket,
		"PREFIX":                s.Prefix,
		"ADMIN_KEY_ID":          s.Admin.ID,
		"ADMIN_SECRET":          s.Admin.Secret,
	} {
		ts.Setenv(k, v)
	}
}

func waitfor(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("waitfor", flag.ContinueOnError)
	timeout := fs.Duration("timeout", time.Minute, "how long to wait")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || neg {
		ts.Fatalf("usage: waitfor [-timeout D] FILE")
	}
	path := ts.MkAbs(fs.Arg(0))
	deadline := time.Now().Add(*timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not appear within %s", fs.Arg(0), *timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Setup returns a Params.Setup that isolates each script from the machine's
// AWS configuration and from each other's variables.
func Setup(extra func(env *testscript.Env) error) func(env *testscript.Env) error {
	return func(env *testscript.Env) error {
		var keep []string
		for _, kv := range env.Vars {
			if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PUTONLY_S3_") {
				keep = append(keep, kv)
			}
		}
		env.Vars = append(keep,
			// No shared config or credentials from the developer's machine.
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true",
		)
		if extra != nil {
			return extra(env)
		}
		return nil
	}
}
