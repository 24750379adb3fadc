package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// TestUploadLostAnswerIsStored: when the server stores an object but its
// answer is lost (the proxy drops the connection after the server
// handled the request), the SDK retries, S3 answers 412, and the upload
// reports the object as stored, saying the first answer was lost. Single
// PutObject and CompleteMultipartUpload, both checksums.
func TestUploadLostAnswerIsStored(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	var seen requestCounter
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		switch {
		case r.Method == http.MethodPut && !strings.Contains(r.URL.RawQuery, "partNumber"):
			// PutObject: versitygw answers the retry 412 itself.
			if seen.inc(r.Method+r.URL.String()) == 1 {
				return "lose"
			}
		case r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "uploadId"):
			// CompleteMultipartUpload: the retry gets AWS's 412.
			return []string{"", "lose", "412"}[min(seen.inc(r.Method+r.URL.String()), 2)]
		}
		return ""
	})
	api := backupClient(s, proxy.URL, 3)
	for _, checksum := range []string{"CRC64NVME", "SHA256"} {
		for _, size := range []int{100, 2*minPartSize + 1} {
			t.Run(fmt.Sprintf("%s/%d", checksum, size), func(t *testing.T) {
				key := fmt.Sprintf("lost/%s-%d", checksum, size)
				data := randomBytes(t, size)
				var sent atomic.Int64
				res, err := upload(context.Background(), api, bytes.NewReader(data), uploadOptions{
					Bucket: s.Bucket, Key: key, SSE: "AES256", Checksum: checksum, PartSize: minPartSize, Concurrency: 2,
				}, &sent)
				if err != nil {
					t.Fatalf("upload whose first answer was lost: %v", err)
				}
				if res.LostAnswer == "" {
					t.Fatal("the upload does not say the first answer was lost: the proxy did not lose it")
				}
				if got := s3test.Get(t, s, key); !bytes.Equal(got, data) {
					t.Fatal("the stored object differs")
				}
				if res.Size != int64(size) || res.Checksum == "" {
					t.Errorf("result %+v", res)
				}
				t.Logf("first attempt: %s", res.LostAnswer)
			})
		}
	}
	// The composite SHA-256 the uploader reports without S3's answer is
	// the one S3 reports.
	t.Run("composite checksum", func(t *testing.T) {
		data := randomBytes(t, 2*minPartSize+1)
		var sent atomic.Int64
		res, err := upload(context.Background(), backupClient(s, s.Endpoint, 1), bytes.NewReader(data), uploadOptions{
			Bucket: s.Bucket, Key: "lost/composite", SSE: "AES256", Checksum: "SHA256", PartSize: minPartSize, Concurrency: 2,
		}, &sent)
		if err != nil {
			t.Fatal(err)
		}
		if res.Checksum == "" {
			t.Skip("the server reports no composite checksum to compare with")
		}
		lost := uploadLosingComplete(t, s, data)
		if lost.Checksum != res.Checksum {
			t.Errorf("composite SHA-256 without the answer = %s, S3 says %s", lost.Checksum, res.Checksum)
		}
	})
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("multipart uploads left: %v", ups)
	}
}

// uploadLosingComplete uploads data in SHA-256 parts through a proxy that
// loses the first answer to CompleteMultipartUpload.
func uploadLosingComplete(t *testing.T, s *s3local.Server, data []byte) uploadResult {
	t.Helper()
	var seen requestCounter
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		if r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "uploadId") {
			return []string{"", "lose", "412"}[min(seen.inc(r.URL.String()), 2)]
		}
		return ""
	})
	var sent atomic.Int64
	res, err := upload(context.Background(), backupClient(s, proxy.URL, 3), bytes.NewReader(data), uploadOptions{
		Bucket: s.Bucket, Key: "lost/composite-2", SSE: "AES256", Checksum: "SHA256", PartSize: minPartSize, Concurrency: 2,
	}, &sent)
	if err != nil || res.LostAnswer == "" {
		t.Fatalf("upload losing Complete's answer: %v, lost %q", err, res.LostAnswer)
	}
	return res
}

// TestUploadFirst412StaysAnError: a 412 on a first attempt, with no answer
// lost before it, is a collision and never reported as stored, even when
// an earlier request of the same upload (a part) lost its answer.
func TestUploadFirst412StaysAnError(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	var seen requestCounter
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		if strings.Contains(r.URL.RawQuery, "partNumber=1") && seen.inc(r.URL.String()) == 1 {
			return "lose"
		}
		return ""
	})
	api := backupClient(s, proxy.URL, 3)
	for _, size := range []int{100, 2*minPartSize + 1} {
		key := fmt.Sprintf("taken/%d", size)
		adminPut(t, s, key, []byte("someone else's"))
		var sent atomic.Int64
		_, err := upload(context.Background(), api, bytes.NewReader(randomBytes(t, size)), uploadOptions{
			Bucket: s.Bucket, Key: key, SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 2,
		}, &sent)
		if !errors.Is(err, ErrObjectExists) {
			t.Errorf("%d bytes onto an existing key: err = %v, want ErrObjectExists", size, err)
		}
		if got := s3test.Get(t, s, key); string(got) != "someone else's" {
			t.Errorf("the existing object changed")
		}
	}
}

// TestUploadAbortReportedHonestly: when the upload fails, the error says
// whether the multipart upload was aborted; when AbortMultipartUpload
// answers 503 it says the upload is NOT aborted, names its id and its
// parts, and wraps ErrAbortFailed.
func TestUploadAbortReportedHonestly(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	for _, abortFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("abort fails %v", abortFails), func(t *testing.T) {
			proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
				switch {
				case r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, "partNumber=3"):
					return "503"
				case r.Method == http.MethodDelete && abortFails:
					return "503"
				}
				return ""
			})
			var sent atomic.Int64
			key := fmt.Sprintf("abort/%v", abortFails)
			_, err := upload(context.Background(), backupClient(s, proxy.URL, 2), bytes.NewReader(randomBytes(t, 3*minPartSize)), uploadOptions{
				Bucket: s.Bucket, Key: key, SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 1,
			}, &sent)
			var ue *UploadError
			if !errors.As(err, &ue) || ue.UploadID == "" {
				t.Fatalf("err = %v, want an UploadError naming the upload", err)
			}
			ups := s3test.PendingUploads(t, s)
			if !abortFails {
				if errors.Is(err, ErrAbortFailed) || !strings.Contains(err.Error(), "multipart upload aborted") || len(ups) != 0 {
					t.Fatalf("err = %v, pending %v; want the abort reported done", err, ups)
				}
				return
			}
			msg := err.Error()
			if !errors.Is(err, ErrAbortFailed) || strings.Contains(msg, "upload aborted") {
				t.Fatalf("err = %v, want ErrAbortFailed and no claim that the upload was aborted", err)
			}
			for _, want := range []string{ue.UploadID, "NOT aborted", "2 parts", "SlowDown", "lifecycle"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if len(ups) != 1 {
				t.Errorf("pending uploads %v, want the one that could not be aborted", ups)
			}
			abortAll(t, s)
		})
	}
}

// TestRunReportsCleanup: a failed dump says what was cleaned up, and a
// failed abort is not reported as "aborted"; a manifest whose first answer
// was lost is stored and logged as such.
func TestRunReportsCleanup(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	var abortFails atomic.Bool
	var seen requestCounter
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		switch {
		case r.Method == http.MethodDelete && abortFails.Load():
			return "503"
		case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, layout.ManifestSuffix) && seen.inc(r.URL.String()) == 1:
			return "lose"
		}
		return ""
	})
	api := backupClient(s, proxy.URL, 2)
	for _, fails := range []bool{false, true} {
		abortFails.Store(fails)
		job := testJob(t, s, id, "sh", "-c", fmt.Sprintf("head -c %d /dev/urandom; exit 3", 3*minPartSize))
		job.Compression = "none"
		_, err := Run(context.Background(), api, job, RunOptions{})
		if !errors.Is(err, ErrDumpFailed) {
			t.Fatalf("err = %v, want ErrDumpFailed", err)
		}
		if fails != errors.Is(err, ErrAbortFailed) || fails == strings.Contains(err.Error(), "upload aborted") {
			t.Errorf("abort fails %v: err = %v", fails, err)
		}
	}
	abortAll(t, s)

	var logs bytes.Buffer
	job := testJob(t, s, id, "sh", "-c", "echo small dump")
	res, err := Run(context.Background(), api, job, RunOptions{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("run whose manifest answer was lost: %v", err)
	}
	if !strings.Contains(logs.String(), "answer was lost") {
		t.Errorf("the log does not say the manifest's first answer was lost:\n%s", logs.String())
	}
	if got := s3test.Get(t, s, layout.ManifestKey(res.Key)); len(got) == 0 {
		t.Error("no manifest stored")
	}
}

// adminPut writes an object with the admin key.
func adminPut(t *testing.T, s *s3local.Server, key string, body []byte) {
	t.Helper()
	_, err := s.Client(s.Admin).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// abortAll aborts every pending multipart upload with the admin key.
func abortAll(t *testing.T, s *s3local.Server) {
	t.Helper()
	c := s.Client(s.Admin)
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		if _, err := c.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.Bucket), Key: u.Key, UploadId: u.UploadId,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunTimeoutCutsTricklingSetsidChild: a job whose dump leaves a setsid
// child writing a byte a second ends at its timeout (plus the abort), fails
// with the dump cut at the deadline, and leaves no object or upload.
func TestRunTimeoutCutsTricklingSetsidChild(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	job := testJob(t, s, id, "sh", "-c", fmt.Sprintf(`head -c %d /dev/zero; setsid sh -c 'while :; do printf x; sleep 1; done' & sleep 600`, 1000))
	job.Compression = "none"
	job.Timeout = 3 * time.Second
	t0 := time.Now()
	_, err := Run(context.Background(), backupClient(s, s.Endpoint, 3), job, RunOptions{})
	took := time.Since(t0)
	if !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), "cut at the deadline") {
		t.Fatalf("err = %v, want the dump cut at the deadline", err)
	}
	if took > job.Timeout+10*time.Second {
		t.Errorf("the job ran %s with a timeout of %s", took, job.Timeout)
	}
	if !strings.Contains(err.Error(), "multipart upload aborted") && !strings.Contains(err.Error(), "no object written") && !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("err = %v, want the cleanup said", err)
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("uploads left: %v", ups)
	}
	t.Logf("ended after %s: %v", took.Round(time.Millisecond), err)
}
