package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

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

// failWriter is a stdout that cannot be written (a closed pipe, a full disk).
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestGenerateExitCodes: 2 only when the options are wrong; a policy that
// could not be written is a failure of its own (1), not "fix the flags".
func TestGenerateExitCodes(t *testing.T) {
	ok := []string{"generate", "--bucket", "acme-db-backups", "--principal", "arn:aws:iam::123456789012:user/putonly-db1"}
	for _, tc := range []struct {
		name   string
		args   []string
		stdout io.Writer
		code   int
	}{
		{"written", ok, io.Discard, 0},
		{"stdout fails", ok, failWriter{}, 1},
		{"bad option", append(ok, "--object-lock-mode", "strict"), io.Discard, 2},
		{"unknown output", append(ok, "--output", "pulumi"), io.Discard, 2},
		{"bad flag", append(ok, "--expire", "daily"), io.Discard, 2},
	} {
		var errb bytes.Buffer
		if code := exitCode(run(context.Background(), tc.args, strings.NewReader(""), tc.stdout, &errb), &errb); code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.code, errb.String())
		}
	}
}
