package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3test"
)

func TestDrill(t *testing.T) {
	f := newFixture(t)
	data := compressible(1 << 20)
	key := f.backup(t, "shop", data, "default")
	ids := []age.Identity{f.id}
	dir := t.TempDir()
	out := filepath.Join(dir, "restored")
	done := filepath.Join(dir, "done")
	into := fmt.Sprintf("cat > %q && touch %q", out, done)

	res, err := Drill(context.Background(), f.admin(), DrillOptions{Bucket: f.s.Bucket, Prefix: "db1/", Job: "shop", Identities: ids, Into: into})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backup.Key != key || res.Restore.PlaintextBytes != int64(len(data)) || res.Total <= 0 {
		t.Errorf("result %+v", res)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatalf("the target got %d bytes, want %d", len(got), len(data))
	}

	for _, tc := range []struct {
		name   string
		into   string
		spoil  bool
		target error
		msg    string
	}{
		{"target-fails", "cat > /dev/null; exit 3", false, ErrTarget, "exit status 3"},
		{"target-stops-reading", "head -c 10 > /dev/null; exit 4", false, ErrTarget, "stopped reading"},
		{"target-ignores-input", "true", false, ErrTarget, ""},
		{"corrupt-backup", into, true, ErrCorrupt, "corrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			os.Remove(done)
			k := key
			if tc.spoil {
				k = f.backup(t, "spoilt", data, "default")
				ct := s3test.Get(t, f.s, k)
				ct[len(ct)-100] ^= 1
				f.put(t, k, ct)
			}
			var stderr bytes.Buffer
			_, err := Drill(context.Background(), f.admin(), DrillOptions{Bucket: f.s.Bucket, Key: k, Identities: ids, Into: tc.into, Stderr: &stderr})
			if err == nil {
				t.Fatal("drill passed")
			}
			if !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v saying %q", err, tc.target, tc.msg)
			}
			if tc.spoil {
				if _, err := os.Stat(done); err == nil {
					t.Fatal("the target finished on a corrupt dump")
				}
			}
		})
	}
}

// TestDrillTimeout: a target that never reads is killed when the drill's
// context ends, and the drill says why.
func TestDrillTimeout(t *testing.T) {
	f := newFixture(t)
	key := f.backup(t, "slow", random(t, 1<<20), "none")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 500*time.Millisecond, errors.New("drill timeout of 500ms reached"))
	defer cancel()
	_, err := Drill(ctx, f.admin(), DrillOptions{Bucket: f.s.Bucket, Key: key, Identities: []age.Identity{f.id}, Into: "sleep 60"})
	if err == nil || !strings.Contains(err.Error(), "drill timeout of 500ms reached") {
		t.Fatalf("error %v", err)
	}
}

func TestAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := []age.Identity{f.id}
	t0 := time.Now().Add(-4 * time.Hour)
	for i := range 3 {
		f.backupAt(t, "shop", random(t, 100<<10), "none", t0.Add(time.Duration(i)*time.Hour))
	}
	shrunk := f.backup(t, "shop", random(t, 5<<10), "none")
	f.backupAt(t, "wiki", random(t, 10<<10), "none", t0)
	f.backup(t, "wiki", random(t, 9<<10), "none")
	noManifest := f.backup(t, "app", []byte("x"), "none")
	_, err := f.admin().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.s.Bucket), Key: aws.String(layout.ManifestKey(noManifest))})
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	rep, err := Audit(ctx, f.admin(), AuditOptions{Bucket: f.s.Bucket, Prefix: "db1/", MaxAge: 26 * time.Hour, Jobs: []string{"shop", "gone"}, Identities: ids, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*JobAudit{}
	for _, j := range rep.Jobs {
		got[j.Job] = j
	}
	if len(rep.Jobs) != 4 || rep.OK() {
		t.Fatalf("jobs %d, ok %v", len(rep.Jobs), rep.OK())
	}
	if j := got["shop"]; j.Newest.Key != shrunk || !j.Shrunk || j.Stale || j.Manifest != "ok" || j.Count != 4 {
		t.Errorf("shop: %+v", j)
	}
	if j := got["wiki"]; !j.OK() || j.Manifest != "ok" || j.Baseline == 0 {
		t.Errorf("wiki: %+v", j)
	}
	// Just written: its manifest may still be on its way.
	if j := got["app"]; !j.OK() || j.Manifest != "pending" {
		t.Errorf("app: %+v", j)
	}
	if j := got["gone"]; j.Newest != nil || !j.Stale || j.OK() {
		t.Errorf("gone: %+v", j)
	}

	// A day and a half later, without an identity.
	rep, err = Audit(ctx, f.admin(), AuditOptions{Bucket: f.s.Bucket, Prefix: "db1/", MaxAge: 26 * time.Hour, Now: now.Add(36 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range rep.Jobs {
		if !j.Stale {
			t.Errorf("%s not stale", j.Job)
		}
		want := "present"
		if j.Job == "app" {
			want = "missing"
		}
		if j.Manifest != want {
			t.Errorf("%s: manifest %q, want %q", j.Job, j.Manifest, want)
		}
	}

	var prom bytes.Buffer
	if err := rep.WritePrometheus(&prom); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+\{bucket="[^"]*",prefix="[^"]*"(,job="[^"]*")?\} -?[0-9.e+]+)$`)
	for _, l := range strings.Split(strings.TrimSuffix(prom.String(), "\n"), "\n") {
		if !line.MatchString(l) {
			t.Errorf("not exposition format: %q", l)
		}
	}
	for _, want := range []string{
		`putonly_backup_stale{bucket="putonly-local",prefix="db1/",job="shop"} 1`,
		`putonly_backup_suspicious_size{bucket="putonly-local",prefix="db1/",job="shop"} 1`,
		`putonly_backup_manifest_ok{bucket="putonly-local",prefix="db1/",job="app"} 0`,
		`putonly_backup_count{bucket="putonly-local",prefix="db1/",job="shop"} 4`,
		`putonly_audit_ok{bucket="putonly-local",prefix="db1/"} 0`,
	} {
		if !strings.Contains(prom.String(), want+"\n") {
			t.Errorf("missing %s in\n%s", want, prom.String())
		}
	}
}
