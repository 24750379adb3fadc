package restore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

const partSize = 5 << 20

// fixture is a local S3 server and an age key pair.
type fixture struct {
	s  *s3local.Server
	id *age.X25519Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, id: id}
}

// backup runs a real backup of data with the backup key and returns its key.
func (f *fixture) backup(t *testing.T, job string, data []byte, compression string) string {
	t.Helper()
	return f.backupAt(t, job, data, compression, time.Time{})
}

// backupAt is backup with the clock set to at (for the key's time).
func (f *fixture) backupAt(t *testing.T, job string, data []byte, compression string, at time.Time) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := backup.ParseRecipients([]string{f.id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	j := &backup.Job{
		Name: job, Argv: []string{"cat", src}, Ext: "dump", Bucket: f.s.Bucket, Prefix: "db1/",
		Recipient: rec, Compression: compression, SSE: "AES256", Checksum: "CRC64NVME",
		PartSize: partSize, UploadConcurrency: 2, Timeout: time.Minute,
	}
	o := backup.RunOptions{}
	if !at.IsZero() {
		o.Now = func() time.Time { return at }
	}
	res, err := backup.Run(context.Background(), f.s.Client(f.s.Backup), j, o)
	if err != nil {
		t.Fatal(err)
	}
	return res.Key
}

func (f *fixture) admin() *s3.Client { return f.s.Client(f.s.Admin) }

// put overwrites an object with the admin key (what an attacker or a
// broken store might do).
func (f *fixture) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := f.admin().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(f.s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// restoreFile restores key into dir/out the way the CLI does: atomically.
func (f *fixture) restoreFile(t *testing.T, key string, ids []age.Identity, out string) (Result, error) {
	t.Helper()
	af, err := CreateAtomic(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Abort()
	res, err := Restore(context.Background(), f.admin(), Options{Bucket: f.s.Bucket, Key: key, Identities: ids}, af)
	if err != nil {
		return res, err
	}
	return res, af.Commit()
}

func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d\tcustomer-%d\t%d.%02d\n", i, i*7919%100003, i%9973, i%100)
	}
	return b.Bytes()[:n]
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestRestoreRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name        string
		data        []byte
		compression string
	}{
		{"empty", nil, "default"},
		{"one-byte", []byte("x"), "default"},
		{"age-chunk", compressible(64 << 10), "fastest"},
		{"age-chunk+1", compressible(64<<10 + 1), "fastest"},
		{"multipart", compressible(2*partSize + 17), "fastest"},
		{"none", random(t, partSize+1), "none"},
		{"none-empty", nil, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := f.backup(t, "rt", tc.data, tc.compression)
			out := filepath.Join(t.TempDir(), "restored.dump")
			res, err := f.restoreFile(t, key, []age.Identity{f.id}, out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatalf("restored %d bytes differ from the %d dumped", len(got), len(tc.data))
			}
			if res.Manifest == nil || res.PlaintextBytes != int64(len(tc.data)) || res.CiphertextBytes != res.Manifest.CiphertextSize {
				t.Errorf("result %+v", res)
			}
			want := CompressionZstd
			if tc.compression == "none" {
				want = CompressionNone
			}
			if res.Compression != want {
				t.Errorf("compression %s, want %s", res.Compression, want)
			}
			if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", fi.Mode())
			}
		})
	}
}

// TestRestoreFailures: each way a backup can be bad fails with its own
// error and leaves nothing in the output directory.
func TestRestoreFailures(t *testing.T) {
	f := newFixture(t)
	data := compressible(3 << 20)
	other, _ := age.GenerateX25519Identity()
	for _, tc := range []struct {
		name   string
		spoil  func(t *testing.T, key string)
		ids    []age.Identity
		target error
		msg    string
	}{
		{"corrupt-byte", func(t *testing.T, key string) {
			ct := s3test.Get(t, f.s, key)
			ct[len(ct)/2] ^= 0x01
			f.put(t, key, ct)
		}, nil, ErrCorrupt, "age"},
		{"corrupt-header", func(t *testing.T, key string) {
			ct := s3test.Get(t, f.s, key)
			ct[40] ^= 0x01
			f.put(t, key, ct)
		}, nil, ErrCorrupt, "header"},
		{"truncated", func(t *testing.T, key string) {
			ct := s3test.Get(t, f.s, key)
			f.put(t, key, ct[:len(ct)-1000])
		}, nil, ErrCorrupt, "manifest says"},
		{"wrong-identity", func(t *testing.T, key string) {}, []age.Identity{other}, ErrWrongIdentity, "wrong identity"},
		{"manifest-mismatch", func(t *testing.T, key string) {
			m, err := FetchManifest(context.Background(), f.admin(), f.s.Bucket, key, []age.Identity{f.id})
			if err != nil {
				t.Fatal(err)
			}
			m.PlaintextSHA256 = strings.Repeat("0", 64)
			f.put(t, layout.ManifestKey(key), f.encrypt(t, m))
		}, nil, ErrMismatch, "SHA-256"},
		{"manifest-of-another-backup", func(t *testing.T, key string) {
			k2 := f.backup(t, "bad", data, "fastest")
			f.put(t, layout.ManifestKey(key), s3test.Get(t, f.s, layout.ManifestKey(k2)))
		}, nil, ErrMismatch, "another backup"},
		{"no-manifest", func(t *testing.T, key string) {
			_, err := f.admin().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(f.s.Bucket), Key: aws.String(layout.ManifestKey(key))})
			if err != nil {
				t.Fatal(err)
			}
		}, nil, ErrNoManifest, "--no-verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := f.backup(t, "bad", data, "fastest")
			tc.spoil(t, key)
			ids := tc.ids
			if ids == nil {
				ids = []age.Identity{f.id}
			}
			dir := t.TempDir()
			_, err := f.restoreFile(t, key, ids, filepath.Join(dir, "out.dump"))
			if err == nil {
				t.Fatal("restore succeeded")
			}
			t.Log(err)
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v, want %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left in the output directory: %v", ents)
			}
		})
	}
}

func (f *fixture) encrypt(t *testing.T, m *Manifest) []byte {
	t.Helper()
	body, _ := json.Marshal(m)
	var b bytes.Buffer
	w, err := age.Encrypt(&b, f.id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	w.Close()
	return b.Bytes()
}

// cutGetter cuts the body of the first GetObject of the backup after n
// bytes: a connection reset that a real server cannot be made to produce.
type cutGetter struct {
	Getter
	n      int64
	cut    bool
	ranges []string
}

func (c *cutGetter) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := c.Getter.GetObject(ctx, in, opts...)
	if err != nil || layout.IsManifest(*in.Key) {
		return out, err
	}
	if in.Range != nil {
		c.ranges = append(c.ranges, *in.Range)
	}
	if !c.cut {
		c.cut = true
		out.Body = &cutBody{ReadCloser: out.Body, left: c.n}
	}
	return out, nil
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("read tcp: connection reset by peer")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

func TestRestoreResumesCutDownload(t *testing.T) {
	f := newFixture(t)
	data := random(t, partSize+100)
	key := f.backup(t, "cut", data, "none")
	api := &cutGetter{Getter: f.admin(), n: 1 << 20}
	var out bytes.Buffer
	res, err := Restore(context.Background(), api, Options{Bucket: f.s.Bucket, Key: key, Identities: []age.Identity{f.id}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) || res.PlaintextBytes != int64(len(data)) {
		t.Fatalf("restored %d bytes, want %d", out.Len(), len(data))
	}
	if len(api.ranges) != 1 || api.ranges[0] != fmt.Sprintf("bytes=%d-", 1<<20) {
		t.Errorf("ranged GETs %v", api.ranges)
	}
}

func TestListAndLatest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var keys []string
	t0 := time.Now().Add(-time.Hour)
	for i := range 3 {
		keys = append(keys, f.backupAt(t, "shop", compressible(1000*(i+1)), "default", t0.Add(time.Duration(i)*time.Minute)))
	}
	f.backup(t, "wiki", []byte("x"), "none")
	f.put(t, "db1/README.txt", []byte("not a backup"))
	// The key self-test's canaries are named as such, not as strangers.
	f.put(t, "db1/_putonly-selftest/20260101T000000Z-0123abcd/canary", []byte("canary"))
	f.put(t, "db1/_putonly-selftest/20260101T000000Z-0123abcd/multipart", []byte("canary"))

	l, err := List(ctx, f.admin(), f.s.Bucket, "db1/", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 4 || l.Other != 1 || l.Canaries != 2 || len(l.Orphans) != 0 {
		t.Fatalf("listing %+v", l)
	}
	if l.Backups[0].Job != "wiki" || l.Backups[1].Key != keys[2] || l.Backups[3].Key != keys[0] {
		t.Errorf("not newest first: %v", l.Backups)
	}
	for _, b := range l.Backups {
		if !b.HasManifest || b.Size == 0 || b.Prefix != "db1/" {
			t.Errorf("backup %+v", b)
		}
	}
	b, err := Latest(ctx, f.admin(), f.s.Bucket, "db1/", "shop")
	if err != nil || b.Key != keys[2] {
		t.Fatalf("latest %v, %v; want %s", b.Key, err, keys[2])
	}
	if _, err := Latest(ctx, f.admin(), f.s.Bucket, "db1/", "nope"); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("latest of a job without backups: %v", err)
	}
	// The backup key cannot list: restore never runs with it.
	if _, err := List(ctx, f.s.Client(f.s.Backup), f.s.Bucket, "db1/", ""); err == nil {
		t.Fatal("the backup key listed the bucket")
	}
}
