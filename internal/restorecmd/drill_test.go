package restorecmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/restore"
)

// TestDrillReports: a drill into a command reports OK with the verdict in
// text, the same evidence in JSON, and the textfile; a job without backups
// fails naming the prefix it looked under, after its report.
func TestDrillReports(t *testing.T) {
	f := newFixture(t)
	key := f.backup(t, "shop", []byte("CREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\n"))
	prom := filepath.Join(t.TempDir(), "drill.prom")
	o := DrillOptions{Bucket: f.s.Bucket, Prefix: "db1/", Job: "shop", Identities: []string{f.idFile}, Into: "cat > /dev/null",
		Format: "text", Progress: "never", Textfile: prom, Timeout: time.Minute, Connect: f.connect, Stdout: &f.stdout, Stderr: &f.stderr}
	if err := Drill(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if want := "drill shop: OK s3://" + f.s.Bucket + "/" + key + ": 50 bytes, SHA-256 "; !strings.HasPrefix(f.stdout.String(), want) || !strings.Contains(f.stdout.String(), "match the manifest") {
		t.Fatalf("stdout %q, want %q...", f.stdout.String(), want)
	}
	if m, _ := os.ReadFile(prom); !strings.Contains(string(m), "putonly_drill_ok{") {
		t.Errorf("textfile:\n%s", m)
	}
	f.stdout.Reset()
	o.Format, o.Textfile = "json", ""
	var rep restore.DrillReport
	if err := Drill(t.Context(), o); err != nil || json.Unmarshal(f.stdout.Bytes(), &rep) != nil || !rep.OK || rep.Key != key || !rep.Verified {
		t.Fatalf("%v: %s", err, f.stdout.String())
	}
	f.stdout.Reset()
	o.Format, o.Job = "text", "none"
	err := Drill(t.Context(), o)
	if !errors.Is(err, restore.ErrNoBackup) || !strings.HasPrefix(f.stdout.String(), "drill none: FAILED s3://"+f.s.Bucket+"/db1/: ") {
		t.Fatalf("%v: %s", err, f.stdout.String())
	}
	o.Timeout = 0
	var ue *cli.UsageError
	if err := Drill(t.Context(), o); !errors.As(err, &ue) || err.Error() != "--timeout 0s: must be positive" {
		t.Errorf("timeout 0: %v", err)
	}
}

// TestDrillChecksFlagsFirst: contradictory flags are usage errors before
// any request (Connect fails the test).
func TestDrillChecksFlagsFirst(t *testing.T) {
	for _, tc := range []struct {
		o    DrillOptions
		want string
	}{
		{DrillOptions{Bucket: "acme-a", Key: "s3://acme-b/k", Into: "cat"}, "--bucket acme-a and --key s3://acme-b/k disagree"},
		{DrillOptions{Key: "k", Into: "cat"}, "drill needs --bucket"},
		{DrillOptions{Bucket: "acme-b", Job: "j", Key: "k", Into: "cat"}, "exactly one of --job and --key"},
		{DrillOptions{Bucket: "acme-b", Job: "j"}, "drill needs --into-database NAME or --into COMMAND"},
		{DrillOptions{Bucket: "acme-b", Prefix: "db1", Job: "j", Into: "cat"}, "--prefix \"db1\": must end in /"},
	} {
		tc.o.Connect = func(context.Context) (restore.API, error) { t.Fatalf("%s: connected", tc.want); return nil, nil }
		tc.o.Timeout, tc.o.Format = time.Minute, "text"
		err := Drill(t.Context(), tc.o)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a usage error %q", tc.o, err, tc.want)
		}
	}
}
