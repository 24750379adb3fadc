package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/internal/wal"
)

// WALResult describes one archived WAL file.
type WALResult struct {
	File    string // WAL file name
	Bucket  string
	Key     string
	Size    int64  // plaintext
	SHA256  string // hex, of the plaintext; part of Key
	Stored  int64  // object size; 0 when Already
	Already bool   // S3 already held this exact content (412): nothing was sent again
	// LostAnswer, when set, says how an attempt ended without an answer
	// before S3 answered the retry 412: that attempt may have stored the
	// object, or S3 held it already (a store that refuses before reading
	// the body and resets looks the same); either way this exact content
	// is archived.
	LostAnswer string
	Duration   time.Duration
}

// ErrWALChanged means the file changed while it was being archived; no
// object was completed.
var ErrWALChanged = errors.New("the WAL file changed while it was archived")

// PushWAL archives one WAL file (a segment, .history, .backup or .partial
// file, as archive_command's %p names it) under the job's prefix:
// zstd, then age, then one PutObject (or a multipart upload for a file
// larger than a part) with the job's SSE and checksum and If-None-Match: *.
//
// The key carries the SHA-256 of the plaintext (internal/wal), so S3's 412
// means this exact content is already archived: PushWAL then reports
// Already and succeeds, which is what PostgreSQL expects of an
// archive_command retried after a crash. A different file under the same WAL
// name gets its own key, beside the first; the audit reports both and
// restore refuses to choose on its own.
//
// The file is read twice, once to name the object and once to send it; a
// file that differs on the second read fails with ErrWALChanged before the
// upload completes. It never calls Head, List or Get.
func PushWAL(ctx context.Context, api s3Writer, job *Job, path string) (WALResult, error) {
	start := time.Now()
	if job.Recipient == nil || job.Recipient.Len() == 0 {
		return WALResult{}, ErrNoRecipients
	}
	file := filepath.Base(path)
	name, err := wal.ParseName(file)
	if err != nil {
		return WALResult{}, fmt.Errorf("wal-push %s: %w", path, err)
	}
	if job.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, job.Timeout, fmt.Errorf("job timeout of %s reached", job.Timeout))
		defer cancel()
	}
	f, err := os.Open(path)
	if err != nil {
		return WALResult{}, fmt.Errorf("wal-push: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return WALResult{}, fmt.Errorf("wal-push: read %s: %w", path, err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	key := wal.Key(job.Prefix, job.Name, name, digest, job.Compression != "none")
	res := WALResult{File: file, Bucket: job.Bucket, Key: key, Size: size, SHA256: digest}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("wal-push: %w", err)
	}

	pr, pw := io.Pipe()
	produced := make(chan error, 1)
	var compressed atomic.Int64
	go func() {
		src := &verifyingReader{r: f, h: sha256.New(), want: digest, size: size}
		err := produce(src, pw, job, &compressed)
		pw.CloseWithError(err)
		produced <- err
	}()
	meta := objectMetadata(job)
	meta["putonly-wal-file"] = file
	meta["putonly-plaintext-sha256"] = digest
	meta["putonly-plaintext-size"] = strconv.FormatInt(size, 10)
	var sent atomic.Int64
	up, uerr := upload(ctx, api, pr, uploadOptions{
		Bucket: job.Bucket, Key: key, SSE: job.SSE, KMSKeyID: job.KMSKeyID, Checksum: job.Checksum,
		PartSize: job.PartSize, Concurrency: job.UploadConcurrency, Metadata: meta,
	}, &sent)
	if uerr != nil {
		pr.CloseWithError(uerr)
	}
	perr := <-produced
	res.Duration = time.Since(start)
	switch {
	case perr != nil && errors.Is(perr, ErrWALChanged):
		return res, fmt.Errorf("wal-push %s: %w (no object completed)", path, perr)
	case uerr != nil && errors.Is(uerr, ErrObjectExists):
		// The key names the content, so the 412 says this content is
		// archived (by an earlier attempt whose answer was lost, or by
		// a retry of our own request). Nothing was overwritten.
		res.Already = true
		return res, nil
	case uerr != nil:
		return res, fmt.Errorf("wal-push %s: %w", file, uerr)
	case perr != nil:
		return res, fmt.Errorf("wal-push %s: %w", file, perr)
	}
	res.Stored = up.Size
	res.LostAnswer = up.LostAnswer
	return res, nil
}

// verifyingReader passes r through and, at EOF, fails unless what it read
// has the expected size and SHA-256: the error reaches the uploader before
// it completes the object.
type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	size int64
	n    int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.size {
		return n, fmt.Errorf("%w: it grew past %d bytes", ErrWALChanged, v.size)
	}
	if err == io.EOF {
		if v.n != v.size || hex.EncodeToString(v.h.Sum(nil)) != v.want {
			return n, fmt.Errorf("%w: %d bytes, %d before", ErrWALChanged, v.n, v.size)
		}
	}
	return n, err
}
