package backup

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/putonly/putonly/internal/crc64nvme"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/internal/s3write"
)

// Why service/s3 and not feature/s3/manager: the manager's Uploader uploads
// every part at one fixed PartSize and fails past MaxUploadParts (10,000), so
// a stream of unknown length hits a wall at PartSize × 10,000 (160 GB at
// 16 MiB) unless every upload reserves memory for the largest possible dump;
// it sets no If-None-Match on CompleteMultipartUpload; and it cannot send a
// FULL_OBJECT CRC64NVME checksum computed over the whole stream. Those three
// are the point of this uploader, so it drives CreateMultipartUpload /
// UploadPart / CompleteMultipartUpload / AbortMultipartUpload itself.

// s3Writer is the part of the S3 API the write path uses. It has no Get,
// Head or List call: the backup key has no such right and is never asked.
type s3Writer interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// ErrObjectExists means S3 refused the upload because an object with the
// key already exists (412 on If-None-Match: *). The object was not
// overwritten, and putonly does not retry under the same name.
var ErrObjectExists = errors.New("object already exists (412 Precondition Failed on If-None-Match: *); nothing was overwritten")

// ErrAccessDenied means S3 answered 403 AccessDenied: the key may not make
// the request. It is s3err's sentinel, so either name matches.
var ErrAccessDenied = s3err.ErrAccessDenied

// Multipart limits of S3 (Amazon S3 User Guide, "Amazon S3 multipart upload
// limits"): at most 10,000 parts, 5 MiB to 5 GiB each (the last may be
// smaller), 5 TiB per object.
const (
	maxParts       = 10000
	partsPerDouble = 900
	maxObjectSize  = 5 << 40
)

// uploadOptions describe one object.
type uploadOptions struct {
	Bucket      string
	Key         string
	SSE         string // AES256 or aws:kms
	KMSKeyID    string
	Checksum    string // CRC64NVME or SHA256
	PartSize    int64
	Concurrency int
	Metadata    map[string]string
	// abortTimeout bounds the AbortMultipartUpload sent after a failure,
	// which runs even when the job's context was cancelled.
	abortTimeout time.Duration
}

// uploadResult is what S3 accepted.
type uploadResult struct {
	Size      int64
	Parts     int // 0 for a single PutObject
	Checksum  string
	ETag      string
	VersionID string
	// LostAnswer, when set, says how the first attempt of the final
	// request (PutObject or CompleteMultipartUpload) ended without an
	// answer: its retry got 412 because that attempt had stored the object.
	LostAnswer string
}

// ErrAbortFailed is wrapped by an UploadError whose multipart upload could
// not be aborted: its parts stay in the bucket.
var ErrAbortFailed = errors.New("abort multipart upload failed")

// UploadError is a failed upload together with what was cleaned up.
type UploadError struct {
	Err error // why the upload failed
	// Cleanup says what was cleaned up and what is left, for the user:
	// "no object written", "multipart upload … aborted", or the upload
	// that could not be aborted with its parts.
	Cleanup  string
	UploadID string // the multipart upload, "" if none was created
	AbortErr error  // wraps ErrAbortFailed when the abort failed
}

func (e *UploadError) Error() string {
	if e.AbortErr != nil {
		return fmt.Sprintf("%v (%s: %v)", e.Err, e.Cleanup, e.AbortErr)
	}
	return fmt.Sprintf("%v (%s)", e.Err, e.Cleanup)
}

func (e *UploadError) Unwrap() []error {
	if e.AbortErr != nil {
		return []error{e.Err, e.AbortErr}
	}
	return []error{e.Err}
}

// partSize returns the size of part n (1-based). It doubles every 900
// parts, so 10,000 parts pass S3's 5 TiB object limit even from the 5 MiB
// minimum (5 MiB × 900 × (2^11 − 1) ≈ 9 TiB, parts capped at 5 GiB), while a
// stream under 14 GB (at the 16 MiB default) never needs a buffer larger
// than the configured part size.
func partSize(base int64, n int) int64 {
	s := base << ((n - 1) / partsPerDouble)
	if s > maxPartSize || s <= 0 {
		return maxPartSize
	}
	return s
}

// upload streams r to S3 under o.Key and completes the object only when r
// returned io.EOF. Any other error from r, a failed part or a cancelled
// context aborts the multipart upload; an error that occurs before the first
// part is full sends nothing at all. Memory is at most
// PartSize × (Concurrency + 1) while parts are at the base size.
func upload(ctx context.Context, api s3Writer, r io.Reader, o uploadOptions, sent *atomic.Int64) (uploadResult, error) {
	if o.abortTimeout == 0 {
		o.abortTimeout = AbortSlice
	}
	u := &uploader{api: api, o: o, sent: sent}
	return u.run(ctx, r)
}

type uploader struct {
	api  s3Writer
	o    uploadOptions
	sent *atomic.Int64

	uploadID  string
	mu        sync.Mutex
	parts     []types.CompletedPart
	partBytes int64 // in parts S3 accepted
	partLen   map[int32]int64
	err       error

	free [][]byte // reusable buffers of the current part size
}

func (u *uploader) run(ctx context.Context, r io.Reader) (uploadResult, error) {
	var total int64

	first := make([]byte, partSize(u.o.PartSize, 1))
	n, err := io.ReadFull(r, first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// The whole stream fits one part and ended cleanly: one PutObject.
		return u.putSingle(ctx, first[:n])
	case err != nil:
		return uploadResult{}, &UploadError{Err: fmt.Errorf("read stream: %w", err), Cleanup: "nothing was sent to S3"}
	}
	total += int64(n)

	if err := u.create(ctx); err != nil {
		return uploadResult{}, &UploadError{Err: err, Cleanup: "no object written"}
	}
	// A failed part (or stream) cancels ctx: no new part, no retry. A
	// part attempt already sent runs on to its answer (bounded by the
	// job's jobCtx), so that none is still in progress at S3 when the
	// abort goes: see finishAttempt.
	jobCtx := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	slots := make(chan struct{}, u.o.Concurrency)
	fail := func(err error) {
		u.mu.Lock()
		if u.err == nil {
			u.err = err
		}
		u.mu.Unlock()
		cancel(err)
	}
	send := func(num int, buf []byte, size int) {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := u.uploadPart(ctx, jobCtx, num, buf[:size]); err != nil {
				fail(err)
			}
			u.release(buf)
		}()
	}
	send(1, first, n)

	total, readErr := u.readParts(ctx, r, total, send)
	if readErr != nil {
		fail(readErr)
	}
	wg.Wait()
	if u.err != nil {
		return uploadResult{}, u.abort(ctx, u.err)
	}
	res, err := u.complete(ctx, total)
	if err != nil {
		return uploadResult{}, u.abort(ctx, err)
	}
	return res, nil
}

// readParts reads parts 2, 3, ... of r and sends each, until the stream
// ends (nil), ctx is cancelled by a failed part (nil: that failure is
// reported), or r fails or outgrows S3's limits (the error).
func (u *uploader) readParts(ctx context.Context, r io.Reader, total int64, send func(num int, buf []byte, size int)) (int64, error) {
	for num := 2; ; num++ {
		if ctx.Err() != nil {
			return total, nil
		}
		if num > maxParts {
			return total, fmt.Errorf("stream exceeds S3's %d-part limit (%d bytes so far); raise part_size", maxParts, total)
		}
		size := partSize(u.o.PartSize, num)
		buf := u.acquire(size)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			total += int64(n)
			if total > maxObjectSize {
				return total, fmt.Errorf("stream exceeds S3's 5 TiB object limit")
			}
			send(num, buf, n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read stream: %w", err)
		}
	}
}

// acquire returns a buffer of exactly size bytes, reusing a released one.
func (u *uploader) acquire(size int64) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.free) > 0 {
		b := u.free[len(u.free)-1]
		u.free = u.free[:len(u.free)-1]
		if int64(cap(b)) == size {
			return b[:size]
		}
	}
	return make([]byte, size)
}

func (u *uploader) release(b []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.free) < u.o.Concurrency+1 {
		u.free = append(u.free, b[:cap(b)])
	}
}

// object is how every request of this upload names and writes the object.
func (u *uploader) object() s3write.Object {
	return s3write.Object{Bucket: u.o.Bucket, Key: u.o.Key, SSE: u.o.SSE, KMSKeyID: u.o.KMSKeyID,
		Checksum: u.o.Checksum, Metadata: u.o.Metadata}
}

func (u *uploader) putSingle(ctx context.Context, body []byte) (uploadResult, error) {
	in, sum := u.object().PutObject(body)
	var attempts attemptLog
	out, err := u.api.PutObject(ctx, in, attempts.option())
	if lost := attempts.lostAnswer(err); lost != "" {
		// Stored by the attempt whose answer was lost: see attemptLog.
		u.sent.Add(int64(len(body)))
		return uploadResult{Size: int64(len(body)), Checksum: sum, LostAnswer: lost}, nil
	}
	if err != nil {
		return uploadResult{}, &UploadError{Err: u.wrap("put", err), Cleanup: "no object written"}
	}
	u.sent.Add(int64(len(body)))
	return uploadResult{Size: int64(len(body)), Checksum: sum, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId)}, nil
}

func (u *uploader) create(ctx context.Context) error {
	in := u.object().CreateMultipartUpload()
	out, err := u.api.CreateMultipartUpload(ctx, in)
	if err != nil {
		return u.wrap("create multipart upload", err)
	}
	u.uploadID = aws.ToString(out.UploadId)
	return nil
}

// uploadPart sends part num: its retries stop when ctx is done, each
// attempt only when jobCtx is (finishAttempt).
func (u *uploader) uploadPart(ctx, jobCtx context.Context, num int, body []byte) error {
	in, part := u.object().UploadPart(u.uploadID, num, body)
	out, err := u.api.UploadPart(ctx, in, finishAttempt(jobCtx))
	if err != nil {
		return u.wrap(fmt.Sprintf("upload part %d", num), err)
	}
	part.ETag = out.ETag
	u.sent.Add(int64(len(body)))
	u.mu.Lock()
	if u.partLen == nil {
		u.partLen = map[int32]int64{}
	}
	u.partLen[aws.ToInt32(part.PartNumber)] = int64(len(body))
	u.parts = append(u.parts, part)
	u.partBytes += int64(len(body))
	u.mu.Unlock()
	return nil
}

// complete completes the upload. The full-object CRC-64/NVME S3 checks is
// combined from the parts' own CRCs (which UploadPart sent, so S3 checked
// each on arrival), in part order: the stream is hashed once, not twice.
func (u *uploader) complete(ctx context.Context, total int64) (uploadResult, error) {
	sort.Slice(u.parts, func(i, j int) bool { return *u.parts[i].PartNumber < *u.parts[j].PartNumber })
	var crc uint64
	if u.o.Checksum != "SHA256" {
		var err error
		if crc, err = u.fullCRC(); err != nil {
			return uploadResult{}, err
		}
	}
	return u.completeWith(ctx, total, crc)
}

// completeWith completes the upload whose parts are sorted, with crc as
// the full-object CRC-64/NVME.
func (u *uploader) completeWith(ctx context.Context, total int64, crc uint64) (uploadResult, error) {
	sort.Slice(u.parts, func(i, j int) bool { return *u.parts[i].PartNumber < *u.parts[j].PartNumber })
	in, sum := u.object().CompleteMultipartUpload(u.uploadID, u.parts, total, crc)
	var attempts attemptLog
	out, err := u.api.CompleteMultipartUpload(ctx, in, attempts.option())
	if lost := attempts.lostAnswer(err); lost != "" {
		// Completed by the attempt whose answer was lost: see attemptLog.
		if sum == "" {
			sum = compositeSHA256(u.parts)
		}
		return uploadResult{Size: total, Parts: len(u.parts), Checksum: sum, LostAnswer: lost}, nil
	}
	if err != nil {
		return uploadResult{}, u.wrap("complete multipart upload", err)
	}
	if sum == "" {
		sum = aws.ToString(out.ChecksumSHA256)
	}
	return uploadResult{Size: total, Parts: len(u.parts), Checksum: sum, ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId)}, nil
}

// fullCRC is the CRC-64/NVME of the whole stream, from the sorted parts'
// CRCs and sizes.
func (u *uploader) fullCRC() (uint64, error) {
	var crc uint64
	for i, p := range u.parts {
		c, err := crc64nvme.FromBase64(aws.ToString(p.ChecksumCRC64NVME))
		if err != nil {
			return 0, fmt.Errorf("part %d: checksum %q: %w", aws.ToInt32(p.PartNumber), aws.ToString(p.ChecksumCRC64NVME), err)
		}
		if i == 0 {
			crc = c
			continue
		}
		crc = crc64nvme.Combine(crc, c, u.partLen[aws.ToInt32(p.PartNumber)])
	}
	return crc, nil
}

// abort removes the parts of the upload that failed with cause, and returns
// cause as an UploadError saying whether it did. It runs on a fresh context
// so a cancelled or timed-out job still cleans up; if S3 does not accept the
// abort, the error names the upload and its parts, which stay until the
// bucket's lifecycle rule for incomplete multipart uploads removes them.
func (u *uploader) abort(ctx context.Context, cause error) error {
	// AbortSlice from the failure, never past the job's deadline plus
	// AbortSlice.
	end := time.Now().Add(u.o.abortTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Add(u.o.abortTimeout).Before(end) {
		end = dl.Add(u.o.abortTimeout)
	}
	actx, cancel := context.WithDeadlineCause(context.WithoutCancel(ctx), end,
		fmt.Errorf("S3 did not answer within the %s abort slice", u.o.abortTimeout))
	defer cancel()
	_, err := u.api.AbortMultipartUpload(actx, u.object().AbortMultipartUpload(u.uploadID))
	if err == nil {
		return &UploadError{Err: cause, UploadID: u.uploadID,
			Cleanup: "multipart upload aborted, its parts deleted: no object written"}
	}
	u.mu.Lock()
	parts, size := len(u.parts), u.partBytes
	u.mu.Unlock()
	return &UploadError{
		Err: cause, UploadID: u.uploadID,
		Cleanup: fmt.Sprintf("no object written, but multipart upload %s of s3://%s/%s is NOT aborted: "+
			"its %d parts (%d bytes, encrypted) stay in the bucket until its incomplete-upload lifecycle rule "+
			"removes them, or `aws s3api abort-multipart-upload --bucket %s --key %s --upload-id %s` with a key allowed to",
			u.uploadID, u.o.Bucket, u.o.Key, parts, size, u.o.Bucket, u.o.Key, u.uploadID),
		AbortErr: fmt.Errorf("%w: %w", ErrAbortFailed, abortCause(actx, err)),
	}
}

// finishAttempt lets each attempt of a call run to its answer when the
// call's context is cancelled, and cuts it only when jobCtx is done; a
// cancelled call makes no new attempt (the retry's pause ends with the
// call's context).
//
// It is for the parts still in flight when another part or the stream
// failed. Cut on the client's side, such a part may still be in progress
// at S3, which then may or may not store it after the abort: "if any part
// uploads are currently in progress, those part uploads might or might not
// succeed. As a result, it might be necessary to abort a given multipart
// upload multiple times" (AbortMultipartUpload, Amazon S3 API Reference,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html).
// The backup key cannot ListParts to find out, so the uploader makes sure
// instead that every part it sent has its answer before the one abort. The
// cost is at most one part's transfer per slot on a failing upload; the
// job's deadline still cuts everything, and then the bucket's
// incomplete-upload lifecycle rule is the backstop. An attempt the server
// does not answer within inFlightSlice of the failure is cut all the same.
func finishAttempt(jobCtx context.Context) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			// After the retry middleware: around each attempt.
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("putonlyFinishAttempt",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if ctx.Err() != nil {
						// Cancelled before this attempt started.
						return middleware.FinalizeOutput{}, middleware.Metadata{}, context.Cause(ctx)
					}
					// The call's values (the SDK keeps its state there),
					// the job's cancellation.
					actx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
					defer cancel(nil)
					stop := context.AfterFunc(jobCtx, func() { cancel(context.Cause(jobCtx)) })
					defer stop()
					// The call cancelled (the upload failed): its answer
					// gets inFlightSlice, not the rest of the job's
					// timeout (12 h by default) from a server that froze.
					stopFailed := context.AfterFunc(ctx, func() {
						t := time.NewTimer(inFlightSlice)
						defer t.Stop()
						select {
						case <-t.C:
							cancel(fmt.Errorf("%w (a part sent before that had no answer within %s)", context.Cause(ctx), inFlightSlice))
						case <-actx.Done():
						}
					})
					defer stopFailed()
					return next.HandleFinalize(actx, in)
				}), middleware.After)
		})
	}
}

// AbortSlice is how long the AbortMultipartUpload of a failed upload may
// take: from the failure, and never past the job's deadline plus
// AbortSlice. So a job ends at most AbortSlice after its timeout even when
// S3 stopped answering; the parts S3 could not be told to drop stay until
// the bucket's incomplete-upload lifecycle rule removes them, and the error
// says so.
const AbortSlice = 15 * time.Second

// inFlightSlice is how long a part attempt already sent may still take once
// the upload failed (finishAttempt): after it the attempt is cut and the
// abort goes, so a failed job ends at most inFlightSlice + AbortSlice after
// its failure. A variable for the test of a frozen part.
var inFlightSlice = AbortSlice

// abortCause puts the abort slice in front of err when it ran out.
func abortCause(actx context.Context, err error) error {
	if actx.Err() != nil {
		return fmt.Errorf("%w: %w", context.Cause(actx), err)
	}
	return err
}

// compositeSHA256 is the checksum S3 gives a COMPOSITE SHA-256 multipart
// object: the SHA-256 of the parts' SHA-256 digests, then "-" and the part
// count ("Checking object integrity", Amazon S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
func compositeSHA256(parts []types.CompletedPart) string {
	h := sha256.New()
	for _, p := range parts {
		d, _ := base64.StdEncoding.DecodeString(aws.ToString(p.ChecksumSHA256))
		h.Write(d)
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
}

// wrap names the step and the object, classifies 412 as ErrObjectExists
// and the rest through s3err (refused, no such bucket, access denied, ...:
// errors.Is finds the cause, and the message carries its fix).
func (u *uploader) wrap(step string, err error) error {
	where := fmt.Sprintf("%s s3://%s/%s", step, u.o.Bucket, u.o.Key)
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
		return fmt.Errorf("%s: %w", where, ErrObjectExists)
	}
	return fmt.Errorf("%s: %w", where, s3err.Classify(err, s3err.Where{Bucket: u.o.Bucket}))
}
