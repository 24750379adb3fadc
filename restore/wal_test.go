package restore

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/wal"
)

func walObj(t *testing.T, file, digest string, at time.Time) WALObject {
	t.Helper()
	n, err := wal.ParseName(file)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := wal.ParseKey(wal.Key("db1/", "shop", n, digest, true))
	if !ok {
		t.Fatal("key does not parse")
	}
	return WALObject{Object: o, LastModified: at}
}

func TestWALIndexLookup(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	now := time.Now()
	seg := "000000010000000000000003"
	ix := &WALIndex{Bucket: "bk", Dir: "db1/shop/wal/", Files: map[string][]WALObject{
		seg:                        {walObj(t, seg, a, now), walObj(t, seg, b, now.Add(time.Second))},
		"000000010000000000000004": {walObj(t, "000000010000000000000004", a, now)},
	}}
	if o, err := ix.Lookup("000000010000000000000004", nil); err != nil || o.SHA256 != a {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := ix.Lookup("000000010000000000000005", nil); !errors.Is(err, ErrWALNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := ix.Lookup(seg, nil); !errors.Is(err, ErrWALAmbiguous) || !strings.Contains(err.Error(), "--pick") {
		t.Fatalf("ambiguous: %v", err)
	}
	if o, err := ix.Lookup(seg, map[string]string{seg: "bbbbbb"}); err != nil || o.SHA256 != b {
		t.Fatalf("pick: %+v %v", o, err)
	}
	if _, err := ix.Lookup(seg, map[string]string{seg: "cccccc"}); err == nil {
		t.Fatal("a pick matching nothing was accepted")
	}
}

func tarOf(t *testing.T, entries ...tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		body := "content of " + h.Name
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return b.Bytes()
}

func TestExtractTar(t *testing.T) {
	dir := t.TempDir()
	good := tarOf(t, tar.Header{Name: "base/", Typeflag: tar.TypeDir, Mode: 0o700},
		tar.Header{Name: "base/1/1259", Typeflag: tar.TypeReg, Mode: 0o600},
		tar.Header{Name: "PG_VERSION", Typeflag: tar.TypeReg, Mode: 0o600})
	files, _, err := extractTar(bytes.NewReader(good), dir)
	if err != nil || files != 2 {
		t.Fatalf("%d files, %v", files, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "base/1/1259")); string(b) != "content of base/1/1259" {
		t.Fatalf("got %q", b)
	}
	for name, h := range map[string]tar.Header{
		"dotdot":   {Name: "../escape", Typeflag: tar.TypeReg},
		"absolute": {Name: "/tmp/escape", Typeflag: tar.TypeReg},
		"symlink":  {Name: "pg_tblspc/16384", Typeflag: tar.TypeSymlink, Linkname: "/srv/ts"},
		"hardlink": {Name: "x", Typeflag: tar.TypeLink, Linkname: "PG_VERSION"},
	} {
		d := t.TempDir()
		if _, _, err := extractTar(bytes.NewReader(tarOf(t, h)), d); err == nil {
			t.Errorf("%s: extracted", name)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Fatal("a file escaped the directory")
	}
}

func TestEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := emptyDir(filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "new")); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("%v %v", st, err)
	}
	os.WriteFile(filepath.Join(dir, "new", "PG_VERSION"), []byte("15"), 0o600)
	if err := emptyDir(filepath.Join(dir, "new")); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("non-empty: %v", err)
	}
}

func TestRecoverySettings(t *testing.T) {
	base := BaseBackup{Backup: Backup{Key: "db1/shop/x.tar.zst.age"}}
	at := time.Date(2026, 12, 1, 20, 35, 4, 123456000, time.FixedZone("CET", 3600))
	got := strings.Join(recoverySettings(base, PrepareOptions{Bucket: "b", Target: PITRTarget{Time: at}, RestoreCommand: "putonly wal-fetch --identity '/it''s' %f %p"}), "\n")
	for _, want := range []string{
		"restore_command = 'putonly wal-fetch --identity ''/it''''s'' %f %p'",
		"recovery_target_time = '2026-12-01 19:35:04.123456+00'",
		"recovery_target_action = 'promote'",
		"recovery_target_timeline = 'latest'",
		"archive_mode = off",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("settings lack %q:\n%s", want, got)
		}
	}
	got = strings.Join(recoverySettings(base, PrepareOptions{KeepArchiving: true}), "\n")
	if strings.Contains(got, "archive_mode") || strings.Contains(got, "recovery_target_action") {
		t.Errorf("latest with archiving:\n%s", got)
	}
}
