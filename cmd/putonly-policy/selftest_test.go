package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// putonly-policy selftest from an admin machine: the backup key in a
// shared-credentials profile, the local S3 server as the store.
func TestSelftestFromAdminMachine(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[backup]\naws_access_key_id = "+s.Backup.ID+"\naws_secret_access_key = "+s.Backup.Secret+"\n"+
		"[admin]\naws_access_key_id = "+s.Admin.ID+"\naws_secret_access_key = "+s.Admin.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	base := []string{"selftest", "--bucket", s.Bucket, "--prefix", "db1/", "--endpoint", s.Endpoint, "--path-style", "--region", "us-east-1"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"backup key", []string{"--profile", "backup"}, 0, []string{"GetObject canary", "403 AccessDenied", "verdict: warn"}},
		{"backup key strict", []string{"--profile", "backup", "--strict"}, 1, []string{"verdict: warn"}},
		{"admin key", []string{"--profile", "admin"}, 1, []string{"FAIL GetObject canary: allowed", "FAIL PutBucketPolicy (invalid body): allowed", "verdict: fail"}},
		{"json", []string{"--profile", "backup", "--format", "json"}, 0, []string{`"verdict": "warn"`, `"probe": "HeadObject canary"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), append(base, tc.args...), nil, &out, &errb)
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.Code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	for _, args := range [][]string{{"selftest"}, {"selftest", "--bucket", "b", "--format", "xml"}, {"selftest", "--bucket", "b", "--sse", "DES"}} {
		var out, errb bytes.Buffer
		var ee *exitError
		if err := run(context.Background(), args, nil, &out, &errb); !errors.As(err, &ee) || ee.Code != 2 {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
	}
}
