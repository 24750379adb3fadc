package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/iamfake"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/policy"
)

// TestVerifyLive runs verify --live with its S3 half against the real local
// S3 server and its IAM half against iamfake, a FAKE of the IAM query API
// (no local IAM server exists). It shows that the documents come from both
// (each listed with its SHA-256, the managed policy at its default version
// only, the groups' policies and the boundary read), that a grant on the
// IAM side fails the key with its statement named, and that only read-only
// IAM calls are made.
func TestVerifyLive(t *testing.T) {
	srv := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	const acct = "111122223333"
	principal := "arn:aws:iam::" + acct + ":user/putonly-db1"
	userPolicy, err := policy.GenerateUserPolicy(policy.GenerateOptions{Bucket: srv.Bucket, Principal: principal, Prefix: "db1/"})
	if err != nil {
		t.Fatal(err)
	}
	managed := "arn:aws:iam::" + acct + ":policy/putonly-backup"
	opsManaged := "arn:aws:iam::" + acct + ":policy/ops-tools"
	boundary := "arn:aws:iam::" + acct + ":policy/putonly-boundary"
	fake := iamfake.Start(&iamfake.Account{
		ID:       acct,
		PageSize: 1, // every list is paged
		Users: map[string]*iamfake.Principal{"putonly-db1": {
			Attached: []string{managed},
			Groups:   []string{"backup-hosts", "ops"},
			Boundary: boundary,
		}},
		Groups: map[string]*iamfake.Principal{
			"backup-hosts": {},
			"ops": {
				Inline:   map[string]string{"helpdesk": `{"Version":"2012-10-17","Statement":[{"Sid":"Helpdesk","Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}`},
				Attached: []string{opsManaged},
			},
		},
		Managed: map[string]*iamfake.Managed{
			// v1 grants everything, but v2 is the default: only v2 counts.
			managed:    {Name: "putonly-backup", Default: "v2", Versions: map[string]string{"v1": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "v2": string(userPolicy)}},
			opsManaged: {Name: "ops-tools", Default: "v1", Versions: map[string]string{"v1": `{"Version":"2012-10-17","Statement":[{"Sid":"Describe","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`}},
			boundary:   {Name: "putonly-boundary", Default: "v1", Versions: map[string]string{"v1": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`}},
		},
	})
	defer fake.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", srv.Admin.ID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.Admin.Secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_IAM", fake.URL)

	code, out, errOut := runVerifyCmd(t, nil, "--live", "--principal", principal, "--bucket", srv.Bucket, "--prefix", "db1/",
		"--endpoint", srv.Endpoint, "--path-style", "--retention-days", "35")
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the ops group's inline policy mints access keys)", code)
	}
	// The bucket policy the local server holds, byte for byte.
	bp := s3local.WriteOnlyPolicy(srv.Bucket, srv.Prefix, srv.Backup.ID)
	sum := sha256.Sum256([]byte(bp))
	for _, want := range []string{
		"evaluated bucket policy: bucket sha256:" + hex.EncodeToString(sum[:]),
		"evaluated managed policy v2 (attached to the user): putonly-backup sha256:" + sha(string(userPolicy)),
		"evaluated inline policy of group ops: group/ops/helpdesk sha256:",
		"evaluated managed policy v1 (attached to group ops): ops-tools sha256:",
		"evaluated permissions boundary (read, not applied: it can only narrow): putonly-boundary sha256:",
		"VIOLATION iam:CreateAccessKey allow group/ops/helpdesk/Helpdesk: escalation: iam:CreateAccessKey mints access keys",
		"VIOLATION ec2:Describe* allow ops-tools/Describe: beyond S3: ec2:Describe* is not a right putonly uses",
		"live: permissions boundaries, SCPs and RCPs can only narrow: they were not needed for this fail (the permissions boundary putonly-boundary was read and not applied; SCPs and RCPs were not read)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(out, "VIOLATION s3:GetObject") {
		t.Error("the managed policy's non-default v1 was evaluated")
	}
	readOnly := map[string]bool{"GetUser": true, "ListUserPolicies": true, "ListAttachedUserPolicies": true, "ListGroupsForUser": true,
		"ListGroupPolicies": true, "GetGroupPolicy": true, "ListAttachedGroupPolicies": true, "GetPolicy": true, "GetPolicyVersion": true}
	paged := 0
	for _, c := range fake.Calls() {
		if !readOnly[c] {
			t.Errorf("verify --live called IAM %s", c)
		}
		if c == "ListGroupsForUser" {
			paged++
		}
	}
	if paged != 2 {
		t.Errorf("ListGroupsForUser called %d times, want 2 (two groups, one per page)", paged)
	}

	// Without the group's grant (a user of the backup-hosts group only),
	// nothing escalates; the settings the local server cannot hold still
	// fail, and the findings say which.
	code, out, _ = runVerifyCmd(t, nil, "--live", "--principal", principal, "--bucket", srv.Bucket, "--prefix", "db1/",
		"--endpoint", srv.Endpoint, "--path-style", "--format", "markdown")
	if code != 1 || !strings.Contains(out, "| bucket policy | `bucket` | bucket |") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}

	// An unreachable IAM is an error, not a pass; and not a usage error
	// (exit 2) either: the command line was right, the network was not.
	t.Setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:1")
	code, _, errOut = runVerifyCmd(t, nil, "--live", "--principal", principal, "--bucket", srv.Bucket, "--endpoint", srv.Endpoint, "--path-style")
	if code != 1 || !strings.Contains(errOut, "get user putonly-db1") {
		t.Errorf("IAM unreachable: exit %d, stderr %s", code, errOut)
	}
	// A network fault is not blamed on the admin's rights.
	if !strings.Contains(errOut, "did not reach S3 or IAM") || strings.Contains(errOut, "IAMReadOnlyAccess") {
		t.Errorf("IAM unreachable: the hint should name the network, not the rights:\n%s", errOut)
	}

	// A fetched document that is not a valid policy is bad input (exit 2),
	// as it is from a file; it names the document and the element.
	bad := iamfake.Start(&iamfake.Account{ID: acct, Users: map[string]*iamfake.Principal{"putonly-db1": {
		Inline: map[string]string{"typo": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"s3:*","Resource":"*"}]}`},
	}}})
	defer bad.Close()
	t.Setenv("AWS_ENDPOINT_URL_IAM", bad.URL)
	code, _, errOut = runVerifyCmd(t, nil, "--live", "--principal", principal, "--bucket", srv.Bucket, "--endpoint", srv.Endpoint, "--path-style")
	if code != 2 || !strings.Contains(errOut, "inline user policy user/typo is not a valid policy") || !strings.Contains(errOut, "Actions") {
		t.Errorf("invalid fetched policy: exit %d, stderr %s", code, errOut)
	}
	_ = context.Background
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
