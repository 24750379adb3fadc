package restorecmd

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestList: the table lists each backup with its manifest, --json one
// entry per line, and an empty prefix says so on stderr.
func TestList(t *testing.T) {
	f := newFixture(t)
	shop := f.backup(t, "shop", []byte("shop\n"))
	wiki := f.backup(t, "wiki", []byte("wiki\n"))
	o := ListOptions{Bucket: f.s.Bucket, Prefix: "db1/", Connect: f.connect, Stdout: &f.stdout, Stderr: &f.stderr}
	if err := List(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(f.stdout.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "STARTED  ") || !strings.Contains(f.stdout.String(), " yes       "+shop) || !strings.Contains(f.stdout.String(), " yes       "+wiki) {
		t.Fatalf("table:\n%s", f.stdout.String())
	}
	f.stdout.Reset()
	o.JSON, o.Job = true, "shop"
	if err := List(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var e ListEntry
	if err := json.Unmarshal(f.stdout.Bytes(), &e); err != nil || e.Key != shop || e.URL != "s3://"+f.s.Bucket+"/"+shop || !e.Manifest || e.Job != "shop" || e.Size == 0 {
		t.Fatalf("json %s: %v", f.stdout.String(), err)
	}
	f.stdout.Reset()
	o.JSON, o.Job = false, "none"
	if err := List(t.Context(), o); err != nil || f.stdout.Len() != 0 || f.stderr.String() != "putonly: no backups under s3://"+f.s.Bucket+"/db1/none\n" {
		t.Fatalf("%v: stdout %q, stderr %q", err, f.stdout.String(), f.stderr.String())
	}
}
