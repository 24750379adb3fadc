package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/wal"
)

// ModeBase is the postgres source mode that takes a base backup for
// point-in-time recovery: the tar of the data directory, as
// pg_basebackup -D - -Ft -X none writes it, with no WAL (wal-push archives
// it). The manifest records where the backup starts and stops in the WAL.
const ModeBase = "base"

// baseBackupArgv is the command of a base backup. -D - writes one tar to
// stdout, which pg_basebackup can do only for a cluster with a single
// tablespace: with more it exits non-zero ("can only write single tablespace
// to stdout") and the job fails with no object. -X none leaves the WAL to
// archive_command; --checkpoint=fast starts at once instead of waiting for
// the next scheduled checkpoint. The backup_label and backup_manifest in
// the tar give the start and stop positions.
func baseBackupArgv(bin string) []string {
	return []string{bin, "--pgdata=-", "--format=tar", "--wal-method=none", "--checkpoint=fast"}
}

// ErrNotBaseBackup means a base backup's stream is not the tar pg_basebackup
// writes, or lacks its backup_label: PITR could not start from it.
var ErrNotBaseBackup = errors.New("not a pg_basebackup tar with a backup_label")

// baseInspector reads the tar of a base backup as it streams past (a tee of
// the plaintext) and keeps the backup_label and the WAL range of the
// backup_manifest. Memory is bounded: file contents are skipped, the label
// is capped and only the manifest's last bytes are kept.
type baseInspector struct {
	pw   *io.PipeWriter
	done chan struct{}
	info *layout.PostgresBase
	err  error
}

func newBaseInspector() *baseInspector {
	pr, pw := io.Pipe()
	b := &baseInspector{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.info, b.err = inspectBaseTar(pr)
		// Whatever happened, drain so the tee never blocks the backup.
		io.Copy(io.Discard, pr)
	}()
	return b
}

func (b *baseInspector) Write(p []byte) (int, error) {
	// A pipe whose reader has stopped reading after an error still drains
	// (above), so Write never blocks forever.
	return b.pw.Write(p)
}

// finish ends the stream and returns what the tar held.
func (b *baseInspector) finish() (*layout.PostgresBase, error) {
	b.pw.Close()
	<-b.done
	return b.info, b.err
}

// reader wraps the dump so that its EOF is reported only after the tar was
// read whole and its label found: a stream PITR cannot start from fails the
// job before the upload completes, like a failed dump.
func (b *baseInspector) reader(r io.Reader) io.Reader {
	return &baseCheck{r: io.TeeReader(r, b), b: b}
}

type baseCheck struct {
	r io.Reader
	b *baseInspector
}

func (c *baseCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		if _, ierr := c.b.finish(); ierr != nil {
			return n, fmt.Errorf("%w: base backup: %w", ErrDumpFailed, ierr)
		}
	}
	return n, err
}

func inspectBaseTar(r io.Reader) (*layout.PostgresBase, error) {
	tr := tar.NewReader(r)
	info := &layout.PostgresBase{}
	var label, manifestTail []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotBaseBackup, err)
		}
		switch h.Name {
		case "backup_label":
			label, err = io.ReadAll(io.LimitReader(tr, 64<<10))
			if err != nil {
				return nil, fmt.Errorf("%w: backup_label: %v", ErrNotBaseBackup, err)
			}
		case "backup_manifest":
			manifestTail, err = readTail(tr, 64<<10)
			if err != nil {
				return nil, fmt.Errorf("%w: backup_manifest: %v", ErrNotBaseBackup, err)
			}
		case "tablespace_map":
			if h.Size > 0 {
				info.Tablespaces = true
			}
		}
	}
	if label == nil {
		return nil, ErrNotBaseBackup
	}
	if err := parseBackupLabel(string(label), info); err != nil {
		return nil, err
	}
	if manifestTail != nil {
		parseWALRanges(manifestTail, info)
	}
	return info, nil
}

// readTail returns the last n bytes of r.
func readTail(r io.Reader, n int) ([]byte, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var tail []byte
	buf := make([]byte, 32<<10)
	for {
		k, err := br.Read(buf)
		tail = append(tail, buf[:k]...)
		if len(tail) > n {
			tail = append(tail[:0], tail[len(tail)-n:]...)
		}
		if err == io.EOF {
			return tail, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var labelStartRE = regexp.MustCompile(`^START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+) \(file ([0-9A-F]{24})\)$`)

// parseBackupLabel reads the backup_label PostgreSQL writes (xlog.c,
// do_pg_backup_start):
//
//	START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
//	CHECKPOINT LOCATION: 0/2000060
//	BACKUP METHOD: streamed
//	BACKUP FROM: primary
//	START TIME: 2026-12-01 20:35:04 UTC
//	LABEL: pg_basebackup base backup
//	START TIMELINE: 1
func parseBackupLabel(label string, info *layout.PostgresBase) error {
	info.BackupLabel = label
	for _, line := range strings.Split(label, "\n") {
		line = strings.TrimSpace(line)
		if m := labelStartRE.FindStringSubmatch(line); m != nil {
			info.StartLSN, info.StartWALFile = m[1], m[2]
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch k {
		case "START TIMELINE":
			t, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("%w: START TIMELINE %q", ErrNotBaseBackup, v)
			}
			info.Timeline = uint32(t)
		case "LABEL":
			info.Label = v
		case "START TIME":
			info.StartTime = v
		case "CHECKPOINT LOCATION":
			info.CheckpointLSN = v
		}
	}
	if info.StartLSN == "" {
		return fmt.Errorf("%w: no START WAL LOCATION in backup_label", ErrNotBaseBackup)
	}
	if _, err := wal.ParseLSN(info.StartLSN); err != nil {
		return fmt.Errorf("%w: %v", ErrNotBaseBackup, err)
	}
	if info.Timeline == 0 {
		n, err := wal.ParseName(info.StartWALFile)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotBaseBackup, err)
		}
		info.Timeline = n.Timeline
	}
	return nil
}

// parseWALRanges reads the WAL-Ranges of a backup manifest (PostgreSQL 13+)
// from its last bytes:
//
//	"WAL-Ranges": [
//	{ "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
//	],
//
// The last range ends where the backup is consistent: recovery must replay
// at least to its End-LSN.
func parseWALRanges(tail []byte, info *layout.PostgresBase) {
	i := bytes.LastIndex(tail, []byte(`"WAL-Ranges"`))
	if i < 0 {
		return
	}
	rest := tail[i+len(`"WAL-Ranges"`):]
	j := bytes.IndexByte(rest, '[')
	k := bytes.IndexByte(rest, ']')
	if j < 0 || k < j {
		return
	}
	var ranges []struct {
		Timeline uint32 `json:"Timeline"`
		Start    string `json:"Start-LSN"`
		End      string `json:"End-LSN"`
	}
	if json.Unmarshal(rest[j:k+1], &ranges) != nil || len(ranges) == 0 {
		return
	}
	last := ranges[len(ranges)-1]
	info.StopLSN, info.StopTimeline = last.End, last.Timeline
	if l, err := wal.ParseLSN(last.End); err == nil {
		info.StopWALFile = wal.SegmentName(last.Timeline, l.SegNo(wal.DefaultSegmentSize), wal.DefaultSegmentSize)
	}
}
