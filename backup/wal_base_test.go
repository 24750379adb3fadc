package backup

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

const testLabel = `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
CHECKPOINT LOCATION: 0/2000060
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-12-01 20:35:04 UTC
LABEL: pg_basebackup base backup
START TIMELINE: 1
`

func baseTar(t *testing.T, files map[string]string, order ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, name := range order {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return b.Bytes()
}

func TestInspectBaseTar(t *testing.T) {
	manifest := `{ "PostgreSQL-Backup-Manifest-Version": 1,
"Files": [
` + strings.Repeat(`{ "Path": "base/1/2606_fsm", "Size": 24576, "Checksum-Algorithm": "CRC32C", "Checksum": "e2801eb9" },
`, 5000) + `],
"WAL-Ranges": [
{ "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
],
"Manifest-Checksum": "975187b6"}
`
	files := map[string]string{
		"backup_label": testLabel, "tablespace_map": "", "PG_VERSION": "15\n",
		"base/1/1259": strings.Repeat("x", 1<<20), "backup_manifest": manifest,
	}
	tarball := baseTar(t, files, "backup_label", "tablespace_map", "PG_VERSION", "base/1/1259", "backup_manifest")
	info, err := inspectBaseTar(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	if info.StartLSN != "0/2000028" || info.StartWALFile != "000000010000000000000002" || info.Timeline != 1 ||
		info.StopLSN != "0/2000100" || info.StopTimeline != 1 || info.StopWALFile != "000000010000000000000002" ||
		info.CheckpointLSN != "0/2000060" || info.Label != "pg_basebackup base backup" || info.BackupLabel != testLabel || info.Tablespaces {
		t.Fatalf("%+v", info)
	}

	// Through the pipeline's reader: the plaintext passes unchanged and
	// EOF comes only after the tar was read.
	b := newBaseInspector()
	out, err := io.ReadAll(b.reader(bytes.NewReader(tarball)))
	if err != nil || !bytes.Equal(out, tarball) {
		t.Fatalf("passthrough: %d bytes, %v", len(out), err)
	}
	if got, _ := b.finish(); got == nil || got.StopLSN != "0/2000100" {
		t.Fatalf("finish: %+v", got)
	}

	// No label, not a tar, a truncated tar: the job fails as a failed dump.
	for name, stream := range map[string][]byte{
		"no label":  baseTar(t, files, "PG_VERSION", "backup_manifest"),
		"not a tar": []byte(strings.Repeat("pg_dump custom format\n", 1000)),
		"truncated": tarball[:len(tarball)/2],
		"empty":     nil,
	} {
		b := newBaseInspector()
		_, err := io.ReadAll(b.reader(bytes.NewReader(stream)))
		if !errors.Is(err, ErrDumpFailed) || !errors.Is(err, ErrNotBaseBackup) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A label without the start location.
	bad := baseTar(t, map[string]string{"backup_label": "LABEL: x\n"}, "backup_label")
	if _, err := inspectBaseTar(bytes.NewReader(bad)); !errors.Is(err, ErrNotBaseBackup) {
		t.Errorf("bad label: %v", err)
	}
}

func TestBaseBackupSource(t *testing.T) {
	argv, err := SourceConfig{Type: SourcePostgres, Mode: ModeBase, Args: []string{"-h", "/tmp/x"}}.argv()
	if err != nil || strings.Join(argv, " ") != "pg_basebackup --pgdata=- --format=tar --wal-method=none --checkpoint=fast -h /tmp/x" {
		t.Fatalf("%q %v", argv, err)
	}
	if ext := (SourceConfig{Type: SourcePostgres, Mode: ModeBase}).ext(); ext != "tar" {
		t.Fatalf("ext %s", ext)
	}
	for _, sc := range []SourceConfig{
		{Type: SourcePostgres, Mode: ModeBase, Database: "shop"},
		{Type: SourcePostgres, Mode: ModeBase, All: true},
		{Type: SourcePostgres, Mode: "physical"},
		{Type: SourceMySQL, Mode: ModeBase, Database: "shop"},
	} {
		if _, err := sc.argv(); err == nil || !strings.Contains(err.Error(), "mode") {
			t.Errorf("%+v: %v", sc, err)
		}
	}
}
