package restorecmd

import (
	"context"
	"errors"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/restore"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreChecksFlagsFirst: contradictory input is a *cli.UsageError,
// before any request (Connect fails the test) and before the output file.
func TestRestoreChecksFlagsFirst(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	os.WriteFile(exists, []byte("x"), 0o600)
	id := filepath.Join(dir, "id.txt")
	os.WriteFile(id, []byte("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"), 0o600)
	for _, tc := range []struct {
		o    RestoreOptions
		want string
	}{
		{RestoreOptions{Key: "k", Out: "-"}, "restore needs --bucket"},
		{RestoreOptions{Bucket: "acme-a", Key: "s3://acme-b/k", Out: "-"}, "--bucket acme-a and --key s3://acme-b/k disagree"},
		{RestoreOptions{Bucket: "acme-b", Out: "-"}, "exactly one of --key and --latest\n\thint: putonly list"},
		{RestoreOptions{Bucket: "acme-b", Latest: true, Out: "-"}, "--latest needs --job"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Job: "j", Out: "-"}, "--job goes with --latest"},
		// The same contradictions with a database or command target: the
		// target does not make a key from another bucket, or a job that is
		// not used, any less of a mistake.
		{RestoreOptions{Bucket: "acme-a", Key: "s3://acme-b/k", IntoDatabase: "scratch"}, "--bucket acme-a and --key s3://acme-b/k disagree"},
		{RestoreOptions{Bucket: "acme-a", Key: "s3://acme-b/k", Into: "cat"}, "--bucket acme-a and --key s3://acme-b/k disagree"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Job: "j", IntoDatabase: "scratch"}, "--job goes with --latest"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Job: "j", Into: "cat"}, "--job goes with --latest"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Out: "-"}, "no --identity"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Out: exists, Identities: []string{id}}, "output file exists"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Into: "cat", IntoDatabase: "x"}, "--into and --into-database exclude each other"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Into: "cat", Out: "f"}, "-o goes without --into"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", Into: "cat", Type: "postgres"}, "--type goes with --into-database"},
		{RestoreOptions{Bucket: "acme-b", Key: "k", IntoDatabase: "no-dash"}, `--into-database: database name "no-dash"`},
		// A name the agent never writes to: a prefix without its / would
		// be read as db1shop/, a bucket name S3 refuses would exit 1.
		{RestoreOptions{Bucket: "acme-b", Prefix: "db1", Latest: true, Job: "shop", Out: "-"}, "--prefix \"db1\": must end in /"},
		{RestoreOptions{Key: "s3://Acme_B/k", Out: "-"}, "--bucket \"Acme_B\": bucket names use only"},
	} {
		tc.o.Connect = func(context.Context) (restore.API, error) { t.Fatalf("%s: connected", tc.want); return nil, nil }
		err := Restore(t.Context(), tc.o)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a usage error %q", tc.o, err, tc.want)
		}
	}
}

// TestRestoreToFileAndStdout: a real backup restores to a file (renamed
// into place only when verified) and to stdout, each with its summary line.
func TestRestoreToFileAndStdout(t *testing.T) {
	f := newFixture(t)
	data := []byte(strings.Repeat("row\n", 100000))
	key := f.backup(t, "shop", data)
	out := filepath.Join(t.TempDir(), "shop.dump")
	o := RestoreOptions{Bucket: f.s.Bucket, Prefix: "db1/", Latest: true, Job: "shop", Identities: []string{f.idFile},
		Out: out, Progress: "never", Connect: f.connect, Stdout: &f.stdout, Stderr: &f.stderr}
	if err := Restore(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != string(data) {
		t.Fatalf("restored %d bytes, want %d", len(got), len(data))
	}
	want := "putonly: restored s3://" + f.s.Bucket + "/" + key + " to " + out + ": 400000 bytes, SHA-256 "
	if !strings.HasPrefix(f.stderr.String(), want) || !strings.Contains(f.stderr.String(), "match the manifest") {
		t.Errorf("stderr %q, want %q...", f.stderr.String(), want)
	}
	f.stderr.Reset()
	o.Latest, o.Job, o.Key, o.Out = false, "", "s3://"+f.s.Bucket+"/"+key, ""
	if err := Restore(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if f.stdout.String() != string(data) || !strings.Contains(f.stderr.String(), " to stdout: 400000 bytes") {
		t.Errorf("stdout %d bytes, stderr %q", f.stdout.Len(), f.stderr.String())
	}
	o.Out = out // exists now
	if err := Restore(t.Context(), o); err == nil {
		t.Error("replaced an existing output without Force")
	}
}
