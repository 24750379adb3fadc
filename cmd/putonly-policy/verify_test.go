package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

func runVerifyCmd(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"verify"}, args...), bytes.NewReader(stdin), &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

const (
	verifyPrincipal = "arn:aws:iam::111122223333:user/putonly-db1"
	verifyPolicies  = "testdata/verify/policies/"
)

// TestVerifyExitCodes runs the exit-code contract over each format.
func TestVerifyExitCodes(t *testing.T) {
	base := func(bucketPolicy string, extra ...string) []string {
		return append([]string{"--bucket-policy", bucketPolicy, "--principal", verifyPrincipal, "--bucket", "acme-db-backups", "--prefix", "db1/"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"hardened", base(verifyPolicies + "hardened.json"), 0},
		{"hardened strict", base(verifyPolicies+"hardened.json", "--strict"), 0},
		{"hardened with user policy", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-policy.json", "--strict"), 0},
		{"seed warns", base(verifyPolicies + "seed.json"), 0},
		{"seed strict", base(verifyPolicies+"seed.json", "--strict"), 1},
		{"bad", base(verifyPolicies + "bad.json"), 1},
		// The bucket policy cannot deny account-level actions (s3:CreateJob,
		// s3:PutAccessPointPolicy): the generated user policy does.
		{"broad identity policy", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-s3-all.json"), 1},
		{"broad identity policy and the user policy", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-s3-all.json", "--identity-policy", verifyPolicies+"user-policy.json"), 0},
		{"broad identity policy and the user policy, strict", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-s3-all.json", "--identity-policy", verifyPolicies+"user-policy.json", "--strict"), 1},
		{"broad identity policy, seed", base(verifyPolicies+"seed.json", "--identity-policy", verifyPolicies+"user-s3-all.json"), 1},
		{"cross-account, identity lacks reads", base(verifyPolicies+"cross-account-bucket.json", "--bucket-account", "444455556666", "--identity-policy", verifyPolicies+"user-policy.json"), 0},
		{"cross-account, identity has reads", base(verifyPolicies+"cross-account-bucket.json", "--bucket-account", "444455556666", "--identity-policy", verifyPolicies+"user-s3-all.json"), 1},
		{"duplicate key", base(verifyPolicies + "duplicate-key.json"), 2},
		{"unknown element", base(verifyPolicies + "unknown-element.json"), 2},
		{"missing file", base(verifyPolicies + "nope.json"), 2},
		{"identity policy as bucket policy", base(verifyPolicies + "user-policy.json"), 2},
		{"bucket policy as identity policy", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"seed.json"), 2},
		{"no bucket policy", []string{"--principal", verifyPrincipal, "--bucket", "b"}, 2},
		{"no principal", []string{"--bucket-policy", verifyPolicies + "seed.json", "--bucket", "b"}, 2},
		{"no bucket", []string{"--bucket-policy", verifyPolicies + "seed.json", "--principal", verifyPrincipal}, 2},
		{"bad principal", []string{"--bucket-policy", verifyPolicies + "seed.json", "--principal", "putonly-db1", "--bucket", "b"}, 2},
		{"bad account", base(verifyPolicies+"seed.json", "--bucket-account", "12345"), 2},
		{"bad format", base(verifyPolicies+"seed.json", "--format", "yaml"), 2},
		{"unknown flag", base(verifyPolicies+"seed.json", "--output", "x"), 2},
		{"stray argument", base(verifyPolicies+"seed.json", "extra"), 2},
		{"stdin twice", base("-", "--identity-policy", "-"), 2},
		{"identity policies after one flag", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-s3-all.json", verifyPolicies+"user-policy.json", "--strict"), 1},
		{"identity policies after one flag, last", append([]string{"--strict"}, base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-s3-all.json", verifyPolicies+"user-policy.json")...), 1},
		{"identity policy missing file after one flag", base(verifyPolicies+"hardened.json", "--identity-policy", verifyPolicies+"user-policy.json", "nope.json"), 2},
		{"help", []string{"--help"}, 0},
	} {
		for _, format := range []string{"text", "json", "markdown"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				args := append([]string{"--format", format}, tc.args...)
				code, stdout, stderr := runVerifyCmd(t, []byte("{}"), args...)
				if code != tc.want {
					t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
				}
				if code == 2 && tc.name != "help" && !strings.HasPrefix(stderr, "putonly-policy: ") {
					t.Errorf("exit 2 without a message: %q", stderr)
				}
				if code != 2 && tc.name != "help" && format == "json" {
					var r verifyJSONReport
					if err := json.Unmarshal([]byte(stdout), &r); err != nil {
						t.Fatalf("json output: %v\n%s", err, stdout)
					}
					if r.Exit != code {
						t.Errorf("json exit %d, process exit %d", r.Exit, code)
					}
				}
			})
		}
	}
}

// TestVerifyJSONFields: the findings carry exactly the documented fields.
func TestVerifyJSONFields(t *testing.T) {
	code, stdout, _ := runVerifyCmd(t, nil, "--bucket-policy", verifyPolicies+"bad.json", "--principal", verifyPrincipal, "--bucket", "acme-db-backups", "--prefix", "db1/", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r struct {
		Verdict  string           `json:"verdict"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Verdict != "fail" || len(r.Findings) == 0 {
		t.Fatalf("verdict %q, %d findings", r.Verdict, len(r.Findings))
	}
	for _, f := range r.Findings {
		for _, k := range []string{"action", "effect", "statement", "reason", "severity"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %q: %v", k, f)
			}
		}
		if len(f) != 5 {
			t.Errorf("finding has extra fields: %v", f)
		}
	}
}

// TestVerifyHelpDocumentsEveryFlag: each flag is in --help with an example.
func TestVerifyHelpDocumentsEveryFlag(t *testing.T) {
	code, stdout, _ := runVerifyCmd(t, nil, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"--bucket-policy", "--principal", "--bucket", "--prefix", "--identity-policy", "--bucket-account", "--format", "--strict"} {
		if !strings.Contains(stdout, "\n  "+f+" ") {
			t.Errorf("--help does not document %s", f)
		}
	}
}

// TestVerifyDocsExample keeps the run shown in the README true: it is the
// output of testdata/verify/readme-bad.txt.
func TestVerifyDocsExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := txtar.ParseFile(filepath.Join("testdata", "verify", "readme-bad.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, f := range script.Files {
		if f.Name == "want-stdout" {
			want = string(f.Data)
		}
	}
	if want == "" || !strings.Contains(string(doc), "\n"+want+"$ echo $?\n1\n") {
		t.Errorf("README.md does not show the output of readme-bad.txt:\n%s", want)
	}
}

func TestVerifyExpandIdentity(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"--identity-policy a b --strict", "--identity-policy a --identity-policy b --strict"},
		{"--identity-policy a --identity-policy b", "--identity-policy a --identity-policy b"},
		{"--identity-policy - a", "--identity-policy - --identity-policy a"},
		{"--identity-policy=a b", "--identity-policy=a b"},
		{"--strict --identity-policy a", "--strict --identity-policy a"},
		{"--identity-policy", "--identity-policy"},
	} {
		if got := strings.Join(verifyExpandIdentity(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
