package restorecmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/restore"
)

// fixture is a local S3 server (internal/s3test), an age identity in a
// file, and the output of the command under test.
type fixture struct {
	s              *s3local.Server
	id             *age.X25519Identity
	idFile         string
	stdout, stderr bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{s: s, id: id, idFile: filepath.Join(t.TempDir(), "identity.txt")}
	if err := os.WriteFile(f.idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// connect is the Connect of the read credentials.
func (f *fixture) connect(context.Context) (restore.API, error) { return f.s.Client(f.s.Admin), nil }

// backup uploads data as a backup of job with the backup key, as 'putonly
// run' does, and returns its key.
func (f *fixture) backup(t *testing.T, job string, data []byte) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	j := f.job(t, job)
	j.Argv = []string{"cat", src}
	res, err := backup.Run(t.Context(), f.s.Client(f.s.Backup), j, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Key
}

// job is a job of the fixture's bucket, encrypting to its identity.
func (f *fixture) job(t *testing.T, name string) *backup.Job {
	t.Helper()
	rec, err := backup.ParseRecipients([]string{f.id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return &backup.Job{
		Name: name, Ext: "dump", Bucket: f.s.Bucket, Prefix: "db1/",
		Recipient: rec, Compression: "default", SSE: "AES256", Checksum: "CRC64NVME",
		PartSize: 5 << 20, UploadConcurrency: 2, Timeout: time.Minute,
	}
}

// pushWAL archives a WAL file named name holding data, as wal-push does.
func (f *fixture) pushWAL(t *testing.T, job, name string, data []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.PushWAL(t.Context(), f.s.Client(f.s.Backup), f.job(t, job), p); err != nil {
		t.Fatal(err)
	}
}
