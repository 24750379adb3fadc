package policy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// genStubAWS is an aws command that logs its arguments and answers the
// read-only calls of the set-up script as a fresh account would.
const genStubAWS = `#!/bin/sh
printf '%s\n' "$*" >> "$AWS_LOG"
case "$*" in
"sts get-caller-identity"*) echo "${AWS_STUB_ACCOUNT:-123456789012}" ;;
"configure get region") echo eu-west-1 ;;
*list-access-keys*) echo 0 ;;
*get-login-profile*) echo "NoSuchEntity" >&2; exit 254 ;;
*create-access-key*) printf 'AKIAIOSFODNN7EXAMPLE\twJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' ;;
esac
`

// runSetup runs a generated set-up script with the stub aws in a fresh
// directory and returns the directory and the logged aws calls.
func runSetup(t *testing.T, script []byte, args ...string) (string, []string) {
	t.Helper()
	dir, calls, err := runSetupEnv(t, script, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return dir, calls
}

// runSetupEnv is runSetup with extra environment, returning the script's
// failure instead of failing the test.
func runSetupEnv(t *testing.T, script []byte, env []string, args ...string) (string, []string, error) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir, bin := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(genStubAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "setup.sh"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(bin, "log")
	cmd := exec.Command(sh, append([]string{"setup.sh"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin", "AWS_LOG=" + log}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	if runErr != nil {
		runErr = fmt.Errorf("setup.sh: %v\n%s", runErr, stderr.String())
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.Split(strings.TrimSpace(string(calls)), "\n"), runErr
}

// TestSetupScriptRefusesOtherAccount: credentials for another account stop
// the script before it creates anything.
func TestSetupScriptRefusesOtherAccount(t *testing.T) {
	script, err := GenerateSetup(goldBase(), "putonly-policy generate --output setup")
	if err != nil {
		t.Fatal(err)
	}
	_, calls, err := runSetupEnv(t, script, []string{"AWS_STUB_ACCOUNT=999988887777"})
	if err == nil {
		t.Fatal("the script ran with credentials of another account")
	}
	for _, c := range calls {
		if c != "configure get region" && !strings.HasPrefix(c, "sts get-caller-identity") {
			t.Errorf("called aws %s before checking the account", c)
		}
	}
}

func TestSetupScriptRuns(t *testing.T) {
	o := goldBase()
	o.KMSKeyARN, o.ObjectLockDays = goldKMS, 35
	o.Lifecycle.Expire = []ExpireRule{{"daily", 35}}
	script, err := GenerateSetup(o, "putonly-policy generate --output setup")
	if err != nil {
		t.Fatal(err)
	}
	dir, calls := runSetup(t, script)

	// The documents the script applies are exactly the generated ones.
	for file, gen := range map[string]func(GenerateOptions) ([]byte, error){
		"putonly-bucket-policy.json": GenerateBucketPolicy,
		"putonly-user-policy.json":   GenerateUserPolicy,
		"putonly-lifecycle.json":     GenerateLifecycle,
	} {
		want, _ := gen(o)
		if got, err := os.ReadFile(filepath.Join(dir, file)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generated document (%v)", file, err)
		}
	}

	// The calls, in order: the user exists before the bucket policy names
	// it, the checks come before the one access key.
	want := []string{
		"sts get-caller-identity",
		"s3api create-bucket --bucket acme-db-backups --region eu-west-1 --create-bucket-configuration LocationConstraint=eu-west-1 --object-lock-enabled-for-bucket",
		"s3api put-public-access-block",
		"s3api put-bucket-ownership-controls",
		`s3api put-bucket-encryption --bucket acme-db-backups --server-side-encryption-configuration {"Rules":[{"ApplyServerSideEncryptionByDefault":{"KMSMasterKeyID":"` + goldKMS + `","SSEAlgorithm":"aws:kms"},"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]},"BucketKeyEnabled":true}]}`,
		`s3api put-object-lock-configuration --bucket acme-db-backups --object-lock-configuration {"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Days":35,"Mode":"GOVERNANCE"}}}`,
		"s3api put-bucket-lifecycle-configuration --bucket acme-db-backups --lifecycle-configuration file://putonly-lifecycle.json",
		"iam create-policy --policy-name putonly-acme-db-backups-putonly-db1 --policy-document file://putonly-user-policy.json",
		"iam create-user --user-name putonly-db1 --path /",
		"iam attach-user-policy --user-name putonly-db1 --policy-arn arn:aws:iam::123456789012:policy/putonly-acme-db-backups-putonly-db1",
		"s3api put-bucket-policy --bucket acme-db-backups --policy file://putonly-bucket-policy.json",
		"iam get-login-profile --user-name putonly-db1",
		"iam list-access-keys --user-name putonly-db1",
		"iam create-access-key --user-name putonly-db1",
	}
	var got []string
	for _, c := range calls {
		if c != "configure get region" {
			got = append(got, c)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d aws calls, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("call %d:\n got  %s\n want %s...", i+1, got[i], want[i])
		}
	}

	// The key is a credentials file only the admin can read.
	key := filepath.Join(dir, "putonly-db1.key")
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", key, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(key)
	if string(b) != "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n" {
		t.Errorf("key file:\n%s", b)
	}
}

func TestFleetSetupScriptRuns(t *testing.T) {
	o := goldBase()
	o.Fleet, o.Principal, o.Prefix = true, goldFleet, "hosts/"
	script, err := GenerateSetup(o, "putonly-policy generate --output setup --fleet")
	if err != nil {
		t.Fatal(err)
	}
	dir, calls := runSetup(t, script, "db1", "db2")
	var users []string
	for _, c := range calls {
		if strings.HasPrefix(c, "iam create-user") {
			users = append(users, c)
		}
	}
	if len(users) != 2 || users[0] != "iam create-user --user-name db1 --path /putonly/" {
		t.Errorf("create-user calls: %q", users)
	}
	for _, h := range []string{"db1", "db2"} {
		if _, err := os.Stat(filepath.Join(dir, h+".key")); err != nil {
			t.Error(err)
		}
	}
}
