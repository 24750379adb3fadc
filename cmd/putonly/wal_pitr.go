package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/putonly/putonly/internal/wal"
	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "pitr", order: 54, run: runPITR,
		summary: "pitr --bucket B --job J --identity FILE --data-dir DIR --target-time T | --target-lsn L | --latest\n                                             prepare a data directory for point-in-time recovery"})
}

const pitrUsage = `Usage:
  putonly pitr --bucket B [--prefix P] --job J --identity FILE --data-dir DIR
               (--target-time TIME | --target-lsn LSN | --latest) [connection flags]

On the restore host, with read credentials and the age identity: picks the
newest base backup of job J (source mode: base) that ended before the target,
unpacks it into DIR (which must be empty or missing; it is never
overwritten), checks it against the backup's manifest, and writes
recovery.signal and the recovery settings into DIR/postgresql.auto.conf:
restore_command (putonly wal-fetch, with the same bucket, job, identity and
connection flags), the target, recovery_target_timeline = 'latest', and
archive_mode = off (unless --keep-archiving), so the copy never archives
into the original's archive. Then it prints how to start the server.

TIME is RFC 3339 (2026-12-01T20:35:04Z, 2026-12-01T21:35:04+01:00) or
"2026-12-01 20:35:04" in UTC. Recovery replays every transaction committed
up to TIME and stops there (recovery_target_action, default promote).

With --drill it proves the archive restores: it prepares a scratch
directory (a temporary one unless --data-dir), to the latest unless a target
is given, starts the server on --port (socket in the scratch directory, no
TCP), waits until it replayed the WAL and promoted, reports the timeline, the
last replayed transaction and the databases, then stops it and removes the
directory (--keep keeps it). As root, the server and restore_command run as
--run-as (postgres), with copies of the identities in the scratch directory
and the read credentials from the environment.

Exit status: 0 the directory is ready (with --drill: it replayed); 1 no base backup fits, or the restore
failed (the directory is left empty); 2 bad flags, or DIR is not empty.

Flags:
`

func runPITR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly pitr", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	var ids stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix` of the job, e.g. db1/")
	job := fs.String("job", "", "the `job` of the base backups and of wal-push")
	fs.Var(&ids, "identity", "age identity `file`; repeat for several")
	dataDir := fs.String("data-dir", "", "the new data `directory` (empty or missing)")
	targetTime := fs.String("target-time", "", "recover to this `time`")
	targetLSN := fs.String("target-lsn", "", "recover to this `LSN` (X/Y)")
	latest := fs.Bool("latest", false, "recover to the end of the archived WAL")
	action := fs.String("target-action", "promote", "at the target: promote, pause or shutdown (recovery_target_action)")
	keepArchiving := fs.Bool("keep-archiving", false, "leave archive_mode as the backup has it (the copy then archives with its archive_command)")
	var d pitrDrillFlags
	d.register(fs)
	if done, err := parseFlags(fs, pitrUsage, args, stdout, stderr); done {
		return err
	}
	if *bucket == "" || *job == "" || (*dataDir == "" && !d.drill) {
		return usageError(errors.New("pitr needs --bucket, --job and --data-dir (or --drill)"), "")
	}
	target, err := pitrTarget(*targetTime, *targetLSN, *latest, d.drill, *keepArchiving, *action)
	if err != nil {
		return err
	}
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	var scratch string
	if d.drill {
		var cleanup func()
		if scratch, ids, cleanup, err = d.prepare(dataDir, ids); err != nil {
			return err
		}
		defer cleanup()
	}
	dir, err := emptyDataDir(*dataDir)
	if err != nil {
		return err
	}
	// The listing wal-fetch keeps lives in the data directory: one per
	// recovery, started afresh by the next one.
	restoreCmd, err := walFetchCommand(conn, *bucket, *prefix, *job, ids, filepath.Join(dir, walIndexFile))
	if err != nil {
		return err
	}
	client, err := conn.Client(ctx)
	if err != nil {
		return failure(err)
	}
	base, err := restore.PickBaseBackup(ctx, client, *bucket, *prefix, *job, identities, target)
	if err != nil {
		return failure(err)
	}
	pg := base.Manifest.Postgres
	fmt.Fprintf(stderr, "putonly: base backup s3://%s/%s (ended %s, WAL from %s on timeline %d)\n",
		*bucket, base.Key, base.Manifest.End.Format(time.RFC3339), pg.StartWALFile, pg.Timeline)
	res, err := restore.Prepare(ctx, client, base, restore.PrepareOptions{
		Bucket: *bucket, Identities: identities, DataDir: dir, Target: target,
		RestoreCommand: restoreCmd, TargetAction: *action, KeepArchiving: *keepArchiving,
	})
	if err != nil {
		if errors.Is(err, restore.ErrNotEmpty) {
			return usageError(err, "")
		}
		return failure(err)
	}
	fmt.Fprintf(stdout, "%s is ready for recovery to %s: %d files, %s from s3://%s/%s, checked against its manifest\n",
		dir, target, res.Files, human(res.Bytes), *bucket, base.Key)
	if d.drill {
		return d.replay(ctx, dir, scratch, stdout)
	}
	printPITRStart(stdout, dir, res.Settings, *action)
	return nil
}

// printPITRStart says what pitr added to the data directory and how to
// start the server on it.
func printPITRStart(stdout io.Writer, dir string, settings []string, action string) {
	fmt.Fprintf(stdout, "added to %s:\n\t%s\n", filepath.Join(dir, "postgresql.auto.conf"), strings.Join(settings, "\n\t"))
	owner := ""
	if os.Geteuid() == 0 {
		owner = fmt.Sprintf("  chown -R postgres: %s    # the server refuses to run as root\n", dir)
	}
	fmt.Fprintf(stdout, `start it (as the owner of the directory, with the read credentials in the environment: restore_command runs putonly wal-fetch):
%s  pg_ctl -D %s -o '-p 5433' -l %s.log start
the server replays the archived WAL, then %s; its log says "recovery stopping" and "archive recovery complete".
a server whose postgresql.conf is not in its data directory (Debian: /etc/postgresql/...) needs -o '-c config_file=...'.
`, owner, dir, dir, map[string]string{"promote": "promotes and accepts writes", "pause": "pauses (select pg_wal_replay_resume() to promote)", "shutdown": "shuts down"}[action])
}

// emptyDataDir is the absolute path of --data-dir, which must be new or
// empty.
func emptyDataDir(dataDir string) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", usageError(err, "")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", usageError(fmt.Errorf("--data-dir %s: %w", dir, restore.ErrNotEmpty), "recover into a new or empty directory; putonly never overwrites a data directory")
	}
	return dir, nil
}

// pitrTarget checks the target flags (exactly one of time, LSN and latest;
// a drill defaults to latest) and the target action.
func pitrTarget(targetTime, targetLSN string, latest, drill, keepArchiving bool, action string) (restore.PITRTarget, error) {
	var target restore.PITRTarget
	n := 0
	for _, set := range []bool{targetTime != "", targetLSN != "", latest} {
		if set {
			n++
		}
	}
	switch {
	case drill && keepArchiving:
		return target, usageError(errors.New("--drill never archives: drop --keep-archiving"), "")
	case n > 1 || (n == 0 && !drill):
		return target, usageError(errors.New("pitr needs exactly one of --target-time, --target-lsn and --latest"), "")
	case action != "promote" && action != "pause" && action != "shutdown":
		return target, usageError(fmt.Errorf("--target-action %q: use promote, pause or shutdown", action), "")
	}
	if targetTime != "" {
		t, err := parseTargetTime(targetTime)
		if err != nil {
			return target, usageError(err, "")
		}
		target.Time = t
	}
	if targetLSN != "" {
		if _, err := wal.ParseLSN(targetLSN); err != nil {
			return target, usageError(err, "")
		}
		target.LSN = targetLSN
	}
	return target, nil
}

// prepare checks the drill's flags and, without --data-dir, makes the
// scratch directory the drill recovers into (removed by cleanup unless
// --keep); ids gain the drill's identities.
func (d *pitrDrillFlags) prepare(dataDir *string, ids stringList) (scratch string, _ stringList, cleanup func(), err error) {
	cleanup = func() {}
	if err := d.check(); err != nil {
		return "", nil, cleanup, usageError(err, "")
	}
	if *dataDir == "" {
		if scratch, err = os.MkdirTemp("", "putonly-pitr-drill-"); err != nil {
			return "", nil, cleanup, failure(err)
		}
		cleanup = func() {
			if !d.keep {
				os.RemoveAll(scratch)
			}
		}
		*dataDir = filepath.Join(scratch, "data")
	}
	if ids, err = d.identities(scratch, ids); err != nil {
		cleanup()
		return "", nil, func() {}, failure(err)
	}
	return scratch, ids, cleanup, nil
}

// walIndexFile is the listing of the archive wal-fetch keeps in a data
// directory prepared by pitr.
const walIndexFile = "putonly-wal-index.json"

// walFetchCommand is the restore_command for the archive: this binary, by
// absolute path, with the same archive, identity and connection flags.
func walFetchCommand(conn connFlags, bucket, prefix, job string, ids []string, cache string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	args := []string{self, "wal-fetch", "--bucket", bucket}
	if prefix != "" {
		args = append(args, "--prefix", prefix)
	}
	args = append(args, "--job", job)
	for _, id := range ids {
		abs, err := filepath.Abs(id)
		if err != nil {
			return "", err
		}
		args = append(args, "--identity", abs)
	}
	args = append(args, conn.ConnArgs()...)
	args = append(args, "--cache", cache)
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

func parseTargetTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--target-time %q: write it as 2026-12-01T20:35:04Z (RFC 3339) or \"2026-12-01 20:35:04\" (UTC)", s)
}
