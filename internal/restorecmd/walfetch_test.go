package restorecmd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/restore"
)

// TestWALFetch: an archived segment is fetched and verified into PATH; a
// name the archive lacks wraps restore.ErrWALNotFound (the end of the
// archive), with the listing kept in the cache file.
func TestWALFetch(t *testing.T) {
	f := newFixture(t)
	seg := bytes.Repeat([]byte("wal record "), 16<<20/11)
	f.pushWAL(t, "shop", "000000010000000000000003", seg)
	dir := t.TempDir()
	o := WALFetchOptions{Bucket: f.s.Bucket, Prefix: "db1/", Job: "shop", Identities: []string{f.idFile},
		File: "000000010000000000000003", Path: filepath.Join(dir, "RECOVERYXLOG"), Cache: filepath.Join(dir, "index.json"),
		CacheAge: time.Minute, Pick: Picks{}, Connect: f.connect, Stderr: &f.stderr}
	if err := WALFetch(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(o.Path); !bytes.Equal(got, seg) || !strings.HasPrefix(f.stderr.String(), "putonly: wal-fetch 000000010000000000000003: ") {
		t.Fatalf("%d bytes fetched; stderr %q", len(got), f.stderr.String())
	}
	if _, err := os.Stat(o.Cache); err != nil {
		t.Errorf("no listing kept: %v", err)
	}
	o.File = "000000010000000000000004"
	if err := WALFetch(t.Context(), o); !errors.Is(err, restore.ErrWALNotFound) {
		t.Errorf("missing segment: %v", err)
	}
	if err := (Picks{}).Set("000000010000000000000003=abc"); err == nil {
		t.Error("a pick of 3 hex digits was accepted")
	}
}
