package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateScripts runs testdata/generate/*.txt (see cliScript); a
// script may also name a golden file of policy/testdata/generate that stdout
// must equal (stdout-golden) and lines stdout must have (stdout-contains).
func TestGenerateScripts(t *testing.T) {
	runScripts(t, "generate", func(t *testing.T, s *cliScript) (int, string, string) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"generate"}, s.args...), strings.NewReader(""), &stdout, &stderr)
		code := exitCode(err, &stderr)
		return code, stdout.String(), stderr.String()
	}, func(t *testing.T, s *cliScript, code int, stdout, stderr string) {
		if s.golden != "" {
			want, err := os.ReadFile(filepath.Join("..", "..", "policy", "testdata", "generate", s.golden))
			if err != nil {
				t.Fatal(err)
			}
			if stdout != string(want) {
				t.Errorf("stdout differs from policy/testdata/generate/%s:\n%s", s.golden, stdout)
			}
		}
		for _, c := range s.contains {
			if !strings.Contains(stdout, c) {
				t.Errorf("stdout lacks %q", c)
			}
		}
		if code == 0 && s.sections["stderr"] == "" && stderr != "" {
			t.Errorf("unexpected stderr:\n%s", stderr)
		}
	})
}

// TestGenerateHelpDocumentsEveryFlag: each flag the command defines is in
// --help, with an example line.
func TestGenerateHelpDocumentsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runGenerate(context.Background(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	help := stdout.String()
	for _, f := range []string{"bucket", "principal", "output", "prefix", "allow-list", "kms-key", "object-lock", "object-lock-mode",
		"fleet", "preset", "region", "expire", "abort-incomplete", "transition", "noncurrent-days"} {
		if !strings.Contains(help, "  --"+f+" ") {
			t.Errorf("--help does not document --%s", f)
		}
		if !strings.Contains(help, "                           --"+f) {
			t.Errorf("--help has no example of --%s", f)
		}
	}
}

func TestGenCommandLine(t *testing.T) {
	got := genCommandLine([]string{"--bucket", "b", "--principal", "arn:aws:iam::1:user/putonly/*", "--prefix", "it's/"})
	want := `putonly-policy generate --bucket b --principal 'arn:aws:iam::1:user/putonly/*' --prefix 'it'\''s/'`
	if got != want {
		t.Errorf("genCommandLine = %s\nwant %s", got, want)
	}
}
