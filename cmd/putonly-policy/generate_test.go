package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var genUpdate = flag.Bool("update", false, "rewrite the stdout/stderr sections of testdata/generate/*.txt")

// A generate script (testdata/generate/*.txt) is one run of the command:
//
//	# what it checks
//	args: --bucket acme-db-backups --principal arn:...
//	exit: 2
//	stdout-golden: bucket-policy.json      (a file of policy/testdata/generate)
//	stdout-contains: a line stdout must have (repeatable)
//	-- stdout --
//	exact stdout
//	-- stderr --
//	exact stderr
//
// Arguments are split on spaces. A missing section is not checked; -update
// rewrites the sections present.
type genScript = cliScript

func parseGenScript(t *testing.T, data string) *genScript { return parseCLIScript(t, data) }

func TestGenerateScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "generate", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := parseGenScript(t, string(data))
			var stdout, stderr bytes.Buffer
			err = run(context.Background(), append([]string{"generate"}, s.args...), strings.NewReader(""), &stdout, &stderr)
			code := exitCode(err, &stderr)
			got := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}

			if *genUpdate {
				var b strings.Builder
				for _, h := range s.header {
					b.WriteString(h + "\n")
				}
				for _, sec := range s.order {
					fmt.Fprintf(&b, "-- %s --\n%s", sec, got[sec])
				}
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if code != s.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, s.exit, stderr.String())
			}
			for _, sec := range s.order {
				if !*genUpdate && got[sec] != s.sections[sec] {
					t.Errorf("%s differs (go test ./cmd/putonly-policy -run Scripts -update rewrites it):\ngot:\n%s\nwant:\n%s", sec, got[sec], s.sections[sec])
				}
			}
			if s.golden != "" {
				want, err := os.ReadFile(filepath.Join("..", "..", "policy", "testdata", "generate", s.golden))
				if err != nil {
					t.Fatal(err)
				}
				if stdout.String() != string(want) {
					t.Errorf("stdout differs from policy/testdata/generate/%s:\n%s", s.golden, stdout.String())
				}
			}
			for _, c := range s.contains {
				if !strings.Contains(stdout.String(), c) {
					t.Errorf("stdout lacks %q", c)
				}
			}
			if code == 0 && s.sections["stderr"] == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr:\n%s", stderr.String())
			}
		})
	}
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
