package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/internal/wal"
)

func writeWAL(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPushWAL archives segments with the backup key on the local server:
// the object is content-addressed, a retried push is a success that sends
// no new object, and different content under the same WAL name lands
// beside the first.
func TestPushWAL(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	// The retry policy wal-push runs with: a retried push of an archived
	// segment is reset now and then by versitygw, which refuses before it
	// reads the body (see reachedBy), and must still come back archived.
	api := defaultRetryClient(s, s.Endpoint, 0, 0)
	id, _ := age.GenerateX25519Identity()
	job := testJob(t, s, id)
	dir := t.TempDir()
	ctx := context.Background()

	seg := compressible(wal.DefaultSegmentSize)
	p := writeWAL(t, dir, "000000010000000000000003", seg)
	res, err := PushWAL(ctx, api, job, p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(seg)
	want := "p/test/wal/000000010000000000000003." + hex.EncodeToString(sum[:]) + ".zst.age"
	if res.Key != want || res.Already || res.Size != int64(len(seg)) || res.Stored == 0 {
		t.Fatalf("result %+v, want key %s", res, want)
	}
	if got := decryptObject(t, s3test.Get(t, s, res.Key), id, true); !bytes.Equal(got, seg) {
		t.Fatal("archived segment does not decrypt to the file")
	}

	// A retry (PostgreSQL calls archive_command again after a crash, or
	// after a lost answer) succeeds and writes nothing.
	before := s3test.Keys(t, s)
	// versitygw v1.8.0 now and then lets a conditional PutObject through
	// right after the object it conflicts with was stored (its
	// If-None-Match check reads the object's ETag attribute, and treats
	// any miss as "no object"): seen about once in eight runs on a loaded
	// machine. S3's conditional writes are atomic ("Conditional writes",
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
	// So the retry is tried up to three times: one must be answered 412
	// (Already, or LostAnswer when a reset before the 412 looked like a lost
	// answer: both come only from a 412), which cannot happen if the push
	// stopped sending If-None-Match.
	var res2 WALResult
	answered412 := func(r WALResult) bool { return r.Already || r.LostAnswer != "" }
	for try := 0; try < 3; try++ {
		res2, err = PushWAL(ctx, api, job, p)
		if err != nil || res2.Key != res.Key {
			t.Fatalf("retry: %+v, %v", res2, err)
		}
		if answered412(res2) {
			break
		}
		t.Logf("retry %d: the local server stored the same content again instead of answering 412", try+1)
	}
	if !answered412(res2) {
		t.Fatalf("retry: %+v: never answered 412, so the push does not send If-None-Match", res2)
	}
	if after := s3test.Keys(t, s); len(after) != len(before) {
		t.Fatalf("retry added objects: %v -> %v", before, after)
	}

	// Different content under the same name is archived beside it.
	other := append([]byte(nil), seg...)
	other[100] ^= 1
	p2 := writeWAL(t, t.TempDir(), "000000010000000000000003", other)
	res3, err := PushWAL(ctx, api, job, p2)
	if err != nil || res3.Already || res3.Key == res.Key || !strings.HasPrefix(res3.Key, "p/test/wal/000000010000000000000003.") {
		t.Fatalf("different content: %+v, %v", res3, err)
	}
	if n := len(s3test.Keys(t, s)); n != len(before)+1 {
		t.Fatalf("%d objects, want %d", n, len(before)+1)
	}

	// Incompressible, larger than a part: multipart, same guarantees.
	job.PartSize = minPartSize
	rnd := randomBytes(t, 2*minPartSize+5)
	p3 := writeWAL(t, dir, "000000010000000000000004", rnd)
	res4, err := PushWAL(ctx, api, job, p3)
	if err != nil {
		t.Fatal(err)
	}
	if got := decryptObject(t, s3test.Get(t, s, res4.Key), id, true); !bytes.Equal(got, rnd) {
		t.Fatal("multipart segment does not round-trip")
	}
	if res5, err := PushWAL(ctx, api, job, p3); err != nil || !answered412(res5) {
		t.Fatalf("multipart retry: %+v, %v", res5, err)
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Fatalf("pending uploads: %v", ups)
	}

	// History and backup history files; an empty file too.
	for _, name := range []string{"00000002.history", "000000010000000000000002.00000028.backup", "000000010000000000000005.partial"} {
		body := []byte("1\t0/3000000\tno recovery target specified\n")
		if name == "000000010000000000000005.partial" {
			body = nil
		}
		r, err := PushWAL(ctx, api, job, writeWAL(t, dir, name, body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := decryptObject(t, s3test.Get(t, s, r.Key), id, true); !bytes.Equal(got, body) {
			t.Fatalf("%s does not round-trip", name)
		}
	}
}

func TestPushWALRefuses(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	job := testJob(t, &s3local.Server{Bucket: "b"}, id)
	dir := t.TempDir()
	// Not a WAL file name: nothing is read or sent (api nil would panic).
	if _, err := PushWAL(context.Background(), nil, job, writeWAL(t, dir, "postgresql.conf", []byte("x"))); !errors.Is(err, wal.ErrNotWAL) {
		t.Fatalf("err %v", err)
	}
	if _, err := PushWAL(context.Background(), nil, job, filepath.Join(dir, "000000010000000000000009")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	job.Recipient = nil
	if _, err := PushWAL(context.Background(), nil, job, writeWAL(t, dir, "000000010000000000000001", nil)); !errors.Is(err, ErrNoRecipients) {
		t.Fatalf("no recipients: %v", err)
	}
}

// TestVerifyingReader: a file that changes between the two reads fails
// the stream, so the uploader never completes an object under a digest the
// content does not have.
func TestVerifyingReader(t *testing.T) {
	data := []byte("segment contents")
	sum := sha256.Sum256(data)
	for _, c := range []struct {
		name string
		read []byte
		ok   bool
	}{
		{"same", data, true},
		{"changed", []byte("segment Contents"), false},
		{"shorter", data[:5], false},
		{"longer", append(append([]byte(nil), data...), 'x'), false},
	} {
		v := &verifyingReader{r: bytes.NewReader(c.read), h: sha256.New(), want: hex.EncodeToString(sum[:]), size: int64(len(data))}
		var out bytes.Buffer
		err := copyLarge(&out, v)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrWALChanged)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
