package restore

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/wal"
)

// ErrNoBaseBackup means no base backup (source mode base) of the job can
// start a recovery to the target.
var ErrNoBaseBackup = errors.New("no base backup before the target")

// ErrNotEmpty means the data directory for a recovery holds files.
var ErrNotEmpty = errors.New("the data directory is not empty")

// PITRTarget is where recovery stops: a time, an LSN, or (both zero) the
// end of the archived WAL.
type PITRTarget struct {
	Time time.Time
	LSN  string
}

func (t PITRTarget) String() string {
	switch {
	case !t.Time.IsZero():
		return "time " + t.Time.UTC().Format(time.RFC3339Nano)
	case t.LSN != "":
		return "LSN " + t.LSN
	}
	return "the end of the archived WAL (latest)"
}

// BaseBackup is a base backup with its manifest.
type BaseBackup struct {
	Backup
	Manifest *Manifest
}

// PickBaseBackup returns the newest base backup of job that can reach
// target: one that was complete (its stop point written) before the target
// time, or whose stop LSN is at or before the target LSN. It reads the
// manifests of the base backups newest first until one fits.
func PickBaseBackup(ctx context.Context, api interface {
	Lister
	Getter
}, bucket, prefix, job string, ids []age.Identity, target PITRTarget) (BaseBackup, error) {
	l, err := List(ctx, api, bucket, prefix, job)
	if err != nil {
		return BaseBackup{}, err
	}
	var lsn wal.LSN
	if target.LSN != "" {
		if lsn, err = wal.ParseLSN(target.LSN); err != nil {
			return BaseBackup{}, err
		}
	}
	var skipped []string
	for _, b := range l.Backups {
		if b.Prefix != prefix || !b.HasManifest {
			continue
		}
		if !target.Time.IsZero() && b.Time.After(target.Time) {
			continue // started after the target, from its key alone
		}
		m, err := FetchManifest(ctx, api, bucket, b.Key, ids)
		if err != nil {
			return BaseBackup{}, err
		}
		pg := m.Postgres
		if pg == nil {
			continue // a dump, not a base backup
		}
		switch {
		case !target.Time.IsZero() && m.End.After(target.Time):
			skipped = append(skipped, fmt.Sprintf("%s (ended %s)", b.Key, m.End.Format(time.RFC3339)))
			continue
		case target.LSN != "":
			stop, err := wal.ParseLSN(pg.StopLSN)
			if err != nil || stop > lsn {
				skipped = append(skipped, fmt.Sprintf("%s (stops at %s)", b.Key, pg.StopLSN))
				continue
			}
		}
		return BaseBackup{Backup: b, Manifest: m}, nil
	}
	msg := fmt.Sprintf("job %s under s3://%s/%s: %v for %s", job, bucket, prefix, ErrNoBaseBackup, target)
	if len(skipped) > 0 {
		msg += "; too late: " + strings.Join(skipped, ", ")
	}
	return BaseBackup{}, fmt.Errorf("%s\n\thint: a base backup comes from a job with source type: postgres, mode: base ('putonly list --job %s' shows the backups)", msg, job)
}

// PrepareOptions say how to lay out a data directory for recovery.
type PrepareOptions struct {
	Bucket     string
	Identities []age.Identity
	DataDir    string
	Target     PITRTarget
	// RestoreCommand is restore_command, with %f and %p.
	RestoreCommand string
	// TargetAction is recovery_target_action: promote (default), pause or
	// shutdown.
	TargetAction string
	// KeepArchiving leaves archive_mode as the backup has it. By default
	// the restored cluster does not archive: its new timeline would go into
	// the archive of the cluster it was copied from.
	KeepArchiving bool
}

// PrepareResult says what Prepare did.
type PrepareResult struct {
	Base  BaseBackup
	Files int
	Bytes int64
	// Settings are the lines appended to postgresql.auto.conf.
	Settings []string
}

// Prepare restores base into an empty data directory (created, mode 0700,
// if missing), checks the tar against the backup's manifest, and writes
// recovery.signal and the recovery settings. A directory that holds
// anything is refused; on failure the directory is emptied again.
func Prepare(ctx context.Context, api Getter, base BaseBackup, o PrepareOptions) (PrepareResult, error) {
	res := PrepareResult{Base: base}
	if err := emptyDir(o.DataDir); err != nil {
		return res, err
	}
	ok := false
	defer func() {
		if !ok {
			clearDir(o.DataDir)
		}
	}()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		files, n, err := extractTar(pr, o.DataDir)
		res.Files, res.Bytes = files, n
		if err == nil {
			// Drain what follows the tar's end (its padding), so
			// Restore reads and verifies the stream to its end.
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		done <- err
	}()
	_, rerr := Restore(ctx, api, Options{Bucket: o.Bucket, Key: base.Key, Identities: o.Identities}, pw)
	pw.CloseWithError(rerr)
	xerr := <-done
	if xerr != nil && !errors.Is(xerr, rerr) {
		return res, fmt.Errorf("unpack into %s: %w", o.DataDir, xerr)
	}
	if rerr != nil {
		return res, rerr
	}
	if err := os.WriteFile(filepath.Join(o.DataDir, "recovery.signal"), nil, 0o600); err != nil {
		return res, err
	}
	res.Settings = recoverySettings(base, o)
	conf := filepath.Join(o.DataDir, "postgresql.auto.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return res, err
	}
	_, werr := f.WriteString("\n" + strings.Join(res.Settings, "\n") + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return res, fmt.Errorf("write %s: %w", conf, werr)
	}
	ok = true
	return res, nil
}

func recoverySettings(base BaseBackup, o PrepareOptions) []string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	action := o.TargetAction
	if action == "" {
		action = "promote"
	}
	lines := []string{
		fmt.Sprintf("# putonly pitr, %s: recovery of s3://%s/%s to %s", time.Now().UTC().Format(time.RFC3339), o.Bucket, base.Key, o.Target),
		"restore_command = " + q(o.RestoreCommand),
		"recovery_target_timeline = 'latest'",
	}
	switch {
	case !o.Target.Time.IsZero():
		// PostgreSQL reads "+00" as UTC, not "Z".
		lines = append(lines, "recovery_target_time = "+q(o.Target.Time.UTC().Format("2006-01-02 15:04:05.999999")+"+00"))
		lines = append(lines, "recovery_target_action = "+q(action))
	case o.Target.LSN != "":
		lines = append(lines, "recovery_target_lsn = "+q(o.Target.LSN))
		lines = append(lines, "recovery_target_action = "+q(action))
	}
	if !o.KeepArchiving {
		lines = append(lines, "# The restored cluster must not archive into the archive it came from.",
			"archive_mode = off")
	}
	return lines
}

// emptyDir creates dir (0700) or checks that it is an empty directory.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s: %w (%d entries, first %s)\n\thint: recover into a new or empty directory; putonly never overwrites a data directory", dir, ErrNotEmpty, len(entries), entries[0].Name())
	}
	return os.Chmod(dir, 0o700)
}

func clearDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// extractTar unpacks a pg_basebackup tar into dir: directories and regular
// files only, every path inside dir. A symlink (a tablespace, or a pg_wal
// elsewhere) is refused: pg_basebackup -D - writes none.
func extractTar(r io.Reader, dir string) (files int, bytes int64, err error) {
	tr := tar.NewReader(r)
	root, err := filepath.Abs(dir)
	if err != nil {
		return 0, 0, err
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, bytes, nil
		}
		if err != nil {
			return files, bytes, err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return files, bytes, fmt.Errorf("tar entry %q leaves the data directory", h.Name)
		}
		target := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return files, bytes, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return files, bytes, err
			}
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return files, bytes, err
			}
			n, err := io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return files, bytes, err
			}
			files++
			bytes += n
		default:
			return files, bytes, fmt.Errorf("tar entry %q: type %q not supported (tablespaces and symlinks are not: pg_basebackup -D - writes a single tablespace)", h.Name, string(h.Typeflag))
		}
	}
}
