package restorecmd

import (
	"context"
	"errors"
	"github.com/putonly/putonly/internal/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/restore"
)

// TestPITRTarget: exactly one target (a drill defaults to latest), a known
// action, a time in RFC 3339 or "YYYY-MM-DD hh:mm:ss" UTC, an LSN X/Y.
func TestPITRTarget(t *testing.T) {
	for _, tc := range []struct {
		o    PITROptions
		want restore.PITRTarget
		err  string
	}{
		{o: PITROptions{Latest: true, TargetAction: "promote"}},
		{o: PITROptions{Drill: PITRDrill{Drill: true}, TargetAction: "promote"}},
		{o: PITROptions{TargetTime: "2026-12-01 20:35:04", TargetAction: "pause"}, want: restore.PITRTarget{Time: time.Date(2026, 12, 1, 20, 35, 4, 0, time.UTC)}},
		{o: PITROptions{TargetTime: "2026-12-01T21:35:04+01:00", TargetAction: "shutdown"}, want: restore.PITRTarget{Time: time.Date(2026, 12, 1, 20, 35, 4, 0, time.UTC)}},
		{o: PITROptions{TargetLSN: "0/3000060", TargetAction: "promote"}, want: restore.PITRTarget{LSN: "0/3000060"}},
		{o: PITROptions{TargetAction: "promote"}, err: "exactly one of --target-time, --target-lsn and --latest"},
		{o: PITROptions{Latest: true, TargetLSN: "0/1", TargetAction: "promote"}, err: "exactly one of"},
		{o: PITROptions{Latest: true, TargetAction: "resume"}, err: `--target-action "resume"`},
		{o: PITROptions{TargetTime: "yesterday", TargetAction: "promote"}, err: `--target-time "yesterday"`},
		{o: PITROptions{TargetLSN: "3000060", TargetAction: "promote"}, err: "3000060"},
		{o: PITROptions{Drill: PITRDrill{Drill: true}, KeepArchiving: true, TargetAction: "promote"}, err: "--drill never archives"},
	} {
		got, err := tc.o.target()
		var ue *cli.UsageError
		switch {
		case tc.err == "" && (err != nil || !got.Time.Equal(tc.want.Time) || got.LSN != tc.want.LSN):
			t.Errorf("%+v: %v, %v; want %v", tc.o, got, err, tc.want)
		case tc.err != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: %v, want a usage error %q", tc.o, err, tc.err)
		}
	}
}

// TestWALFetchCommand: restore_command repeats the archive, the absolute
// identity paths and the connection, quoted for sh.
func TestWALFetchCommand(t *testing.T) {
	o := PITROptions{Bucket: "acme", Prefix: "db 1/", Job: "shop", Program: "/usr/bin/putonly",
		ConnArgs: []string{"--endpoint", "https://s3.example.net", "--profile", "it's", "--path-style"}}
	got, err := o.walFetchCommand([]string{"/root/key.txt"}, "/var/lib/pg/data/putonly-wal-index.json")
	want := `/usr/bin/putonly wal-fetch --bucket acme --prefix 'db 1/' --job shop --identity /root/key.txt --endpoint https://s3.example.net --profile 'it'\''s' --path-style --cache /var/lib/pg/data/putonly-wal-index.json %f %p`
	if err != nil || got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestPITRRefusesDataDir: a data directory that holds files is refused
// before any request (usage), and the missing flags are named.
func TestPITRRefusesDataDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("15\n"), 0o600)
	id := filepath.Join(t.TempDir(), "id.txt")
	os.WriteFile(id, []byte("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"), 0o600)
	var out strings.Builder
	o := PITROptions{Bucket: "acme-b", Job: "shop", Identities: []string{id}, DataDir: dir, Latest: true, TargetAction: "promote", Stdout: &out, Stderr: &out,
		Connect: func(context.Context) (restore.API, error) { t.Fatal("connected"); return nil, nil }}
	var ue *cli.UsageError
	if err := PITR(t.Context(), o); !errors.As(err, &ue) || !errors.Is(err, restore.ErrNotEmpty) || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("non-empty data dir: %v", err)
	}
	o.Job = ""
	if err := PITR(t.Context(), o); err == nil || err.Error() != "pitr needs --bucket, --job and --data-dir (or --drill)" {
		t.Errorf("no job: %v", err)
	}
}
