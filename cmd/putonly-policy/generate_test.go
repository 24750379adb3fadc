package main

import (
	"bytes"
	"context"
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
