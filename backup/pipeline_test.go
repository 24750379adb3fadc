package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// testJob returns a job writing to s with the backup key.
func testJob(t *testing.T, s *s3local.Server, id *age.X25519Identity, argv ...string) *Job {
	t.Helper()
	rec, err := ParseRecipients([]string{id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return &Job{
		Name: "test", Argv: argv, Ext: "dump", Bucket: s.Bucket, Prefix: "p/",
		Recipient: rec, Compression: "default", SSE: "AES256", Checksum: "CRC64NVME",
		PartSize: minPartSize, UploadConcurrency: 2, Timeout: time.Minute,
	}
}

// decryptObject restores an object with the age and zstd libraries.
func decryptObject(t *testing.T, ct []byte, id age.Identity, compressed bool) []byte {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		t.Fatalf("age decrypt: %v", err)
	}
	if compressed {
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	pt, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	return pt
}

// writeScript writes a file for a dump command to cat, so the expected
// plaintext is known.
func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dump.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// compressible returns n bytes of SQL-like text.
func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d\tcustomer-%d\t%d.%02d\t2026-11-%02d 10:%02d:00\n", i, i*7919%100003, i%9973, i%100, 1+i%28, i%60)
	}
	return b.Bytes()[:n]
}

func TestRunRoundTrip(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	api := backupClient(s, s.Endpoint, 3)
	id, _ := age.GenerateX25519Identity()
	for _, tc := range []struct {
		name        string
		size        int
		compression string
	}{
		{"empty", 0, "default"},
		{"small", 1000, "default"},
		{"multipart", 3*minPartSize + 17, "fastest"},
		{"incompressible-none", minPartSize + 1, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			if tc.compression == "none" {
				data = randomBytes(t, tc.size)
			} else {
				data = compressible(tc.size)
			}
			job := testJob(t, s, id, "cat", writeFile(t, data))
			job.Compression = tc.compression
			res, err := Run(context.Background(), api, job, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.BytesIn != int64(len(data)) {
				t.Errorf("BytesIn = %d, want %d", res.BytesIn, len(data))
			}
			wantExt := ".dump.zst.age"
			if tc.compression == "none" {
				wantExt = ".dump.age"
			}
			if !strings.HasPrefix(res.Key, "p/test/") || !strings.HasSuffix(res.Key, wantExt) {
				t.Errorf("key %q", res.Key)
			}
			ct := s3test.Get(t, s, res.Key)
			if int64(len(ct)) != res.BytesOut {
				t.Errorf("object is %d bytes, result says %d", len(ct), res.BytesOut)
			}
			if got := decryptObject(t, ct, id, tc.compression != "none"); !bytes.Equal(got, data) {
				t.Fatalf("restored %d bytes differ from the %d dumped", len(got), len(data))
			}
		})
	}
}

func TestRunObjectMetadata(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	job := testJob(t, s, id, "echo", "hi")
	res, err := Run(context.Background(), backupClient(s, s.Endpoint, 3), job, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := s.Client(s.Admin).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(res.Key)})
	if err != nil {
		t.Fatal(err)
	}
	md := head.Metadata
	if md["putonly-compression"] != "zstd-default" || md["putonly-recipient-types"] != "x25519" || md["putonly-encryption"] != "age" || md["putonly-version"] == "" {
		t.Errorf("metadata = %v", md)
	}
	for k, v := range md {
		if strings.Contains(v, "age1") {
			t.Errorf("metadata %s names a key: %q", k, v)
		}
	}
}

// TestRunFailedDumpLeavesNothing: a dump that fails (exit status, signal,
// timeout) at any offset completes no object, single-part or multipart.
func TestRunFailedDumpLeavesNothing(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	api := backupClient(s, s.Endpoint, 3)
	id, _ := age.GenerateX25519Identity()
	// Random bytes do not compress, so the offset in the dump is about the
	// offset in the upload: these straddle the first part boundary.
	for _, off := range []int{0, 1000, minPartSize - 100, minPartSize + 100, 3 * minPartSize} {
		for _, how := range []string{"exit 3", "kill -9 $$"} {
			t.Run(fmt.Sprintf("%d/%s", off, how), func(t *testing.T) {
				job := testJob(t, s, id, "sh", "-c", fmt.Sprintf("head -c %d /dev/urandom; %s", off, how))
				job.Compression = "none"
				_, err := Run(context.Background(), api, job, RunOptions{})
				if !errors.Is(err, ErrDumpFailed) {
					t.Fatalf("err = %v, want ErrDumpFailed", err)
				}
			})
		}
	}
	t.Run("timeout", func(t *testing.T) {
		// The dump hangs after the first part. Were the timeout not
		// enforced, Run would return only when sleep ends, with a completed
		// backup; so a timeout error is the proof, and the dump must be gone
		// when Run returns, not left behind.
		pidfile := filepath.Join(t.TempDir(), "pid")
		job := testJob(t, s, id, "sh", "-c", fmt.Sprintf("echo $$ > %s; head -c %d /dev/urandom; exec sleep 300", pidfile, 2*minPartSize))
		job.Compression = "none"
		job.Timeout = 2 * time.Second
		_, err := Run(context.Background(), api, job, RunOptions{})
		if !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("err = %v, want a dump timeout", err)
		}
		b, err := os.ReadFile(pidfile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		if syscall.Kill(pid, 0) == nil && processState(pid) != "Z" {
			t.Errorf("the dump (pid %d) still runs after Run returned on the timeout", pid)
		}
	})
	if keys := s3test.Keys(t, s); len(keys) != 0 {
		t.Errorf("objects left after failed dumps: %v", keys)
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("multipart uploads left after failed dumps: %v", ups)
	}
}

// TestRunNoRecipientsRunsNothing: without a recipient the dump never starts.
func TestRunNoRecipientsRunsNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	job := &Job{Name: "x", Argv: []string{"touch", marker}, Bucket: "b", PartSize: minPartSize, UploadConcurrency: 1}
	_, err := Run(context.Background(), nil, job, RunOptions{})
	if !errors.Is(err, ErrNoRecipients) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the dump ran without recipients")
	}
}

// TestRunStockToolsRestore: what putonly writes restores with the plain age
// and zstd command-line tools, so nobody is locked in.
func TestRunStockToolsRestore(t *testing.T) {
	for _, tool := range []string{"age", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			s3test.Require(t, tool+" CLI (Debian package "+tool+")")
		}
	}
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	data := compressible(2*minPartSize + 5)
	job := testJob(t, s, id, "cat", writeFile(t, data))
	res, err := Run(context.Background(), backupClient(s, s.Endpoint, 3), job, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	idFile := filepath.Join(dir, "key.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	ctFile := filepath.Join(dir, "backup.dump.zst.age")
	os.WriteFile(ctFile, s3test.Get(t, s, res.Key), 0o600)
	out, err := exec.Command("sh", "-c", `age -d -i "$1" "$2" | zstd -d -c`, "sh", idFile, ctFile).Output()
	if err != nil {
		t.Fatalf("age -d | zstd -d: %v", err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("stock tools restored %d bytes, want %d identical", len(out), len(data))
	}
}

// TestRunWritesManifest: next to each backup, an encrypted manifest records
// the plaintext's size and SHA-256, the sizes and the checksum S3 verified.
func TestRunWritesManifest(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	data := compressible(minPartSize + 3)
	job := testJob(t, s, id, "cat", writeFile(t, data))
	res, err := Run(context.Background(), backupClient(s, s.Endpoint, 3), job, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := layout.ReadManifest(bytes.NewReader(s3test.Get(t, s, layout.ManifestKey(res.Key))), id)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if m.PlaintextSHA256 != hex.EncodeToString(sum[:]) || m.PlaintextSize != int64(len(data)) {
		t.Errorf("manifest plaintext %d %s, want %d %x", m.PlaintextSize, m.PlaintextSHA256, len(data), sum)
	}
	ct := s3test.Get(t, s, res.Key)
	if m.CiphertextSize != int64(len(ct)) || m.Key != res.Key || m.Job != "test" || m.Checksum != res.Checksum || m.ChecksumType != "FULL_OBJECT" {
		t.Errorf("manifest = %+v (object %d bytes)", m, len(ct))
	}
	if m.CompressedSize <= 0 || m.CompressedSize >= m.PlaintextSize || m.CompressedSize >= m.CiphertextSize {
		t.Errorf("compressed size %d (plain %d, cipher %d)", m.CompressedSize, m.PlaintextSize, m.CiphertextSize)
	}
	if strings.Join(m.Source, " ") != "cat "+job.Argv[1] || m.DumpExitStatus != 0 {
		t.Errorf("source %v exit %d", m.Source, m.DumpExitStatus)
	}
	// Encrypted: the manifest names the source, which is nobody else's business.
	if bytes.Contains(s3test.Get(t, s, layout.ManifestKey(res.Key)), []byte("plaintext_sha256")) {
		t.Error("manifest stored in the clear")
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := layout.ReadManifest(bytes.NewReader(s3test.Get(t, s, layout.ManifestKey(res.Key))), other); err == nil {
		t.Error("a wrong identity read the manifest")
	}
}

// TestRunSQLiteCorruptFails: sqlite3 .dump of a corrupt database exits 0
// and ends with "ROLLBACK; -- due to errors"; restored, that is an empty
// database. The sqlite preset fails the job and writes no object.
func TestRunSQLiteCorruptFails(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		s3test.Require(t, "sqlite3 CLI (Debian package sqlite3)")
	}
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	db := filepath.Join(t.TempDir(), "app.db")
	out, err := exec.Command("sqlite3", db, `create table t(id integer primary key, body text);
with recursive g(i) as (select 1 union all select i+1 from g where i < 20000)
insert into t select i, 'row ' || i || hex(randomblob(16)) from g;`).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	argv, _ := SourceConfig{Type: SourceSQLite, Path: db}.argv()
	mk := func() *Job {
		job := testJob(t, s, id, argv...)
		job.EndMarker = SourceConfig{Type: SourceSQLite}.endMarker()
		return job
	}
	api := backupClient(s, s.Endpoint, 3)
	if _, err := Run(context.Background(), api, mk(), RunOptions{}); err != nil {
		t.Fatalf("healthy database: %v", err)
	}
	// Overwrite one page in the middle of the table's b-tree.
	f, err := os.OpenFile(db, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xA5}, 4096), 40*4096)
	f.Close()
	before := len(s3test.Keys(t, s))
	_, err = Run(context.Background(), api, mk(), RunOptions{})
	if !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), "COMMIT;") {
		t.Fatalf("corrupt database: err = %v, want a failed dump naming the missing COMMIT;", err)
	}
	if after := len(s3test.Keys(t, s)); after != before {
		t.Fatalf("a failed dump added %d objects", after-before)
	}
}
