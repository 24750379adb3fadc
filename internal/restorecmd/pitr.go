package restorecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/wal"
	"github.com/putonly/putonly/restore"
)

// PITROptions are what 'putonly pitr' is told: the archive (bucket,
// prefix, job), the new DataDir, and the target: TargetTime, TargetLSN or
// Latest (a Drill defaults to Latest).
type PITROptions struct {
	Bucket, Prefix, Job   string
	Identities            []string
	DataDir               string
	TargetTime, TargetLSN string
	Latest                bool
	TargetAction          string // promote, pause or shutdown
	KeepArchiving         bool
	Drill                 PITRDrill

	// ConnArgs are the connection flags restore_command's wal-fetch
	// repeats, and Program the putonly it runs ("" is this executable).
	ConnArgs []string
	Program  string

	Connect        Connect
	Stdout, Stderr io.Writer
}

// walIndexFile is the listing of the archive wal-fetch keeps in a data
// directory prepared by pitr: one per recovery, started afresh by the next.
const walIndexFile = "putonly-wal-index.json"

// PITR prepares a data directory for point-in-time recovery from the
// newest base backup that fits the target, and says how to start it; with
// Drill it starts it, waits for the replay, reports and stops it.
func PITR(ctx context.Context, o PITROptions) error {
	if o.Bucket == "" || o.Job == "" || (o.DataDir == "" && !o.Drill.Drill) {
		return usagef("pitr needs --bucket, --job and --data-dir (or --drill)")
	}
	if err := checkLocation(o.Bucket, o.Prefix); err != nil {
		return err
	}
	target, err := o.target()
	if err != nil {
		return err
	}
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	files := o.Identities
	var scratch string
	if o.Drill.Drill {
		var cleanup func()
		if scratch, files, cleanup, err = o.Drill.prepare(&o.DataDir, files); err != nil {
			return err
		}
		defer cleanup()
	}
	dir, err := emptyDataDir(o.DataDir)
	if err != nil {
		return err
	}
	restoreCmd, err := o.walFetchCommand(files, filepath.Join(dir, walIndexFile))
	if err != nil {
		return err
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	base, err := restore.PickBaseBackup(ctx, api, o.Bucket, o.Prefix, o.Job, ids, target)
	if err != nil {
		return err
	}
	pg := base.Manifest.Postgres
	fmt.Fprintf(o.Stderr, "putonly: base backup s3://%s/%s (ended %s, WAL from %s on timeline %d)\n",
		o.Bucket, base.Key, base.Manifest.End.Format(time.RFC3339), pg.StartWALFile, pg.Timeline)
	res, err := restore.Prepare(ctx, api, base, restore.PrepareOptions{
		Bucket: o.Bucket, Identities: ids, DataDir: dir, Target: target,
		RestoreCommand: restoreCmd, TargetAction: o.TargetAction, KeepArchiving: o.KeepArchiving,
	})
	if errors.Is(err, restore.ErrNotEmpty) {
		return usage(err, "")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "%s is ready for recovery to %s: %d files, %s from s3://%s/%s, checked against its manifest\n",
		dir, target, res.Files, cli.Human(res.Bytes), o.Bucket, base.Key)
	if o.Drill.Drill {
		return o.Drill.replay(ctx, dir, scratch, o.Stdout)
	}
	printPITRStart(o.Stdout, dir, res.Settings, o.TargetAction)
	return nil
}

// target checks the target flags (exactly one of time, LSN and latest; a
// drill defaults to latest) and the target action.
func (o *PITROptions) target() (restore.PITRTarget, error) {
	var target restore.PITRTarget
	n := 0
	for _, set := range []bool{o.TargetTime != "", o.TargetLSN != "", o.Latest} {
		if set {
			n++
		}
	}
	switch a := o.TargetAction; {
	case o.Drill.Drill && o.KeepArchiving:
		return target, usagef("--drill never archives: drop --keep-archiving")
	case n > 1 || (n == 0 && !o.Drill.Drill):
		return target, usagef("pitr needs exactly one of --target-time, --target-lsn and --latest")
	case a != "promote" && a != "pause" && a != "shutdown":
		return target, usagef("--target-action %q: use promote, pause or shutdown", a)
	}
	if o.TargetTime != "" {
		t, err := parseTargetTime(o.TargetTime)
		if err != nil {
			return target, usage(err, "")
		}
		target.Time = t
	}
	if o.TargetLSN != "" {
		if _, err := wal.ParseLSN(o.TargetLSN); err != nil {
			return target, usage(err, "")
		}
		target.LSN = o.TargetLSN
	}
	return target, nil
}

func parseTargetTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--target-time %q: write it as 2026-12-01T20:35:04Z (RFC 3339) or \"2026-12-01 20:35:04\" (UTC)", s)
}

// emptyDataDir is the absolute path of --data-dir, which must be new or
// empty.
func emptyDataDir(dataDir string) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", usage(err, "")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", usage(fmt.Errorf("--data-dir %s: %w", dir, restore.ErrNotEmpty), "recover into a new or empty directory; putonly never overwrites a data directory")
	}
	return dir, nil
}

// walFetchCommand is the restore_command for the archive: putonly, by
// absolute path, with the same archive, identities and connection flags.
func (o *PITROptions) walFetchCommand(ids []string, cache string) (string, error) {
	self := o.Program
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return "", err
		}
	}
	args := []string{self, "wal-fetch", "--bucket", o.Bucket}
	if o.Prefix != "" {
		args = append(args, "--prefix", o.Prefix)
	}
	args = append(args, "--job", o.Job)
	for _, id := range ids {
		abs, err := filepath.Abs(id)
		if err != nil {
			return "", err
		}
		args = append(args, "--identity", abs)
	}
	args = append(append(args, o.ConnArgs...), "--cache", cache)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ") + " %f %p", nil
}

// shellQuote quotes s for sh, which runs restore_command.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printPITRStart says what pitr added to the data directory and how to
// start the server on it.
func printPITRStart(w io.Writer, dir string, settings []string, action string) {
	fmt.Fprintf(w, "added to %s:\n\t%s\n", filepath.Join(dir, "postgresql.auto.conf"), strings.Join(settings, "\n\t"))
	owner := ""
	if os.Geteuid() == 0 {
		owner = fmt.Sprintf("  chown -R postgres: %s    # the server refuses to run as root\n", dir)
	}
	fmt.Fprintf(w, `start it (as the owner of the directory, with the read credentials in the environment: restore_command runs putonly wal-fetch):
%s  pg_ctl -D %s -o '-p 5433' -l %s.log start
the server replays the archived WAL, then %s; its log says "recovery stopping" and "archive recovery complete".
a server whose postgresql.conf is not in its data directory (Debian: /etc/postgresql/...) needs -o '-c config_file=...'.
`, owner, dir, dir, map[string]string{"promote": "promotes and accepts writes", "pause": "pauses (select pg_wal_replay_resume() to promote)", "shutdown": "shuts down"}[action])
}
