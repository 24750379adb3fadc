package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
		{"backup key", []string{"--profile", "backup"}, 0, []string{"GetObject canary", "403 AccessDenied", "verdict: warn", "not applicable: the S3 endpoint"}},
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
		if code := exitCode(run(context.Background(), args, nil, &out, &errb), &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errb.String())
		}
	}
}

// TestSelftestIAMProbes: with IAM and STS endpoints given, the self-test
// asks them as the backup key; a key IAM lets mint access keys fails. IAM
// and STS here are a FAKE answering the query API (no local IAM exists);
// S3 is the real local server.
func TestSelftestIAMProbes(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.Form.Get("Action") {
		case "GetCallerIdentity":
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/admin</Arn><UserId>AIDAFAKE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case "CreateAccessKey":
			w.WriteHeader(404)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>fake</Message></Error><RequestId>fake</RequestId></ErrorResponse>`)
		default:
			w.WriteHeader(403)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>fake</Message></Error><RequestId>fake</RequestId></ErrorResponse>`)
		}
	}))
	defer fake.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", s.Backup.ID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Backup.Secret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_IAM", fake.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", fake.URL)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"selftest", "--bucket", s.Bucket, "--prefix", "db1/", "--endpoint", s.Endpoint, "--path-style", "--region", "us-east-1",
		"--principal", "arn:aws:iam::111122223333:user/putonly-db1"}, nil, &out, &errb)
	var ee *exitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("exit %v, want 1\n%s%s", err, out.String(), errb.String())
	}
	for _, w := range []string{"FAIL CreateAccessKey for a user that cannot exist: allowed (404 NoSuchEntity)", "the key is arn:aws:iam::111122223333:user/admin, but the config expects arn:aws:iam::111122223333:user/putonly-db1"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}
