package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/restorecmd"
)

// listEntry is what list --json prints (restore_e2e_test.go decodes it).
type listEntry = restorecmd.ListEntry

// TestRestoreCommandsUsage: bad flags are exit status 2 with a message that
// says what to do, before any request; --help is exit 0 on stdout.
func TestRestoreCommandsUsage(t *testing.T) {
	dir := t.TempDir()
	id := filepath.Join(dir, "id.txt")
	os.WriteFile(id, []byte("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"), 0o600)
	notID := filepath.Join(dir, "recipient.txt")
	os.WriteFile(notID, []byte("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"), 0o600)
	exists := filepath.Join(dir, "exists.dump")
	os.WriteFile(exists, []byte("x"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"list"}, 2, "list needs --bucket"},
		{[]string{"list", "--bucket", "acme-b", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"restore", "--bucket", "acme-b", "--identity", id, "-o", "-"}, 2, "exactly one of --key and --latest"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "--latest", "--job", "j", "--identity", id, "-o", "-"}, 2, "exactly one of --key and --latest"},
		{[]string{"restore", "--bucket", "acme-b", "--latest", "--identity", id, "-o", "-"}, 2, "--latest needs --job"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "--job", "j", "--identity", id, "-o", "-"}, 2, "--job goes with --latest"},
		{[]string{"restore", "--bucket", "a", "--key", "s3://b/k", "--identity", id, "-o", "-"}, 2, "disagree"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "-o", "-"}, 2, "no --identity"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "--identity", notID, "-o", "-"}, 2, "unknown identity type"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "--identity", filepath.Join(dir, "nope"), "-o", "-"}, 2, "no such file or directory\n\thint: check the path"},
		{[]string{"decrypt", "--identity", filepath.Join(dir, "nope")}, 2, "no such file or directory\n\thint: check the path"},
		{[]string{"restore", "--bucket", "acme-b", "--key", "k", "--identity", id, "-o", exists}, 2, "output file exists"},
		{[]string{"decrypt", "--identity", id, "--compression", "lz4"}, 2, `compression "lz4"`},
		{[]string{"decrypt", "--identity", id, "a", "b"}, 2, `unexpected argument "b"`},
		{[]string{"decrypt"}, 2, "no --identity"},
		{[]string{"drill", "--bucket", "acme-b", "--job", "j", "--identity", id}, 2, "drill needs --into"},
		{[]string{"drill", "--bucket", "acme-b", "--into", "true", "--identity", id}, 2, "exactly one of --job and --key"},
		{[]string{"audit"}, 2, "audit needs --bucket"},
		{[]string{"audit", "--bucket", "acme-b", "--max-age", "0s"}, 2, "--max-age 0s"},
		{[]string{"audit", "--bucket", "acme-b", "--shrink", "1.5"}, 2, "--shrink 1.5"},
		{[]string{"audit", "--bucket", "acme-b", "--nope"}, 2, "flag provided but not defined: -nope"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := exitCode(run(context.Background(), tc.args, &stdout, &stderr), &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) || stdout.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "AGE-SECRET-KEY") {
				t.Fatal("a message echoes the identity")
			}
		})
	}
	for _, cmd := range []string{"list", "restore", "decrypt", "drill", "audit"} {
		var stdout, stderr bytes.Buffer
		code := exitCode(run(context.Background(), []string{cmd, "--help"}, &stdout, &stderr), &stderr)
		if code != 0 || !strings.HasPrefix(stdout.String(), "Usage:\n  putonly "+cmd) || !strings.Contains(stdout.String(), "Exit status") {
			t.Errorf("%s --help: exit %d\n%s%s", cmd, code, stdout.String(), stderr.String())
		}
	}
}
