package restorecmd

import (
	"bytes"
	"errors"
	"github.com/putonly/putonly/internal/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditReport: the job table, a job named with --job that never wrote
// a backup is STALE and fails the audit by name, the WAL table follows,
// and the textfile holds both; an empty prefix is a failure.
func TestAuditReport(t *testing.T) {
	f := newFixture(t)
	f.backup(t, "shop", []byte("shop\n"))
	f.pushWAL(t, "pg", "000000010000000000000001", bytes.Repeat([]byte{1}, 16<<20))
	prom := filepath.Join(t.TempDir(), "audit.prom")
	o := AuditOptions{Bucket: f.s.Bucket, Prefix: "db1/", Jobs: []string{"shop", "gone"}, MaxAge: 26 * time.Hour, Shrink: 0.9, Window: 7,
		WALJobs: []string{"pg"}, WALMaxAge: time.Hour, Textfile: prom, Connect: f.connect, Stdout: &f.stdout}
	err := Audit(t.Context(), o)
	if err == nil || err.Error() != "audit: 1 of 3 job(s) need attention: db1/gone" {
		t.Errorf("audit: %v", err)
	}
	out := f.stdout.String()
	for _, want := range []string{"JOB       STATUS  NEWEST", "\ndb1/gone  STALE   -", "\ndb1/shop  ok      ", "\n\nWAL JOB  STATUS  NEWEST", "\ndb1/pg   ok      000000010000000000000001"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if m, _ := os.ReadFile(prom); !strings.Contains(string(m), `putonly_backup_ok{bucket="`+f.s.Bucket+`",prefix="db1/",job="gone"} 0`) || !strings.Contains(string(m), "putonly_wal_") {
		t.Errorf("textfile:\n%s", m)
	}
	o = AuditOptions{Bucket: f.s.Bucket, Prefix: "none/", MaxAge: time.Hour, Shrink: 0.5, Window: 1, Connect: f.connect, Stdout: &f.stdout}
	if err := Audit(t.Context(), o); err == nil || err.Error() != "no backups under s3://"+f.s.Bucket+"/none/" {
		t.Errorf("empty prefix: %v", err)
	}
	o.Shrink = 1
	var ue *cli.UsageError
	if err := Audit(t.Context(), o); !errors.As(err, &ue) || !strings.Contains(err.Error(), "90% smaller") {
		t.Errorf("shrink 1: %v", err)
	}
}

func TestShortAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * time.Second:              "1m30s",
		3*time.Hour + 5*time.Minute:   "3h05m",
		50*time.Hour + 20*time.Minute: "2d2h",
		1500 * time.Millisecond:       "2s",
	} {
		if got := shortAge(d); got != want {
			t.Errorf("shortAge(%s) = %s, want %s", d, got, want)
		}
	}
}
