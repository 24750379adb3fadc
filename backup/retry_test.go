package backup

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// defaultRetryClient is the backup key's client through endpoint with
// putonly's own retryer, as NewS3Client builds it.
func defaultRetryClient(s *s3local.Server, endpoint string, attempts int, budget time.Duration) *s3.Client {
	return s3.New(s.Client(s.Backup).Options(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}, retryOptions(attempts, budget))
}

func TestRetryDelayBounds(t *testing.T) {
	var sum time.Duration
	for n := 1; n < DefaultMaxAttempts; n++ {
		d := retryDelay(n)
		nominal := min(retryMaxDelay, retryBaseDelay<<(n-1))
		if d < nominal/2 || d > nominal {
			t.Errorf("retry %d: pause %s outside [%s, %s]", n, d, nominal/2, nominal)
		}
		sum += retryDelayMin(n)
	}
	// The count alone must not end retries before the time budget does.
	if sum < DefaultMaxRetryTime {
		t.Errorf("%d attempts pause at least %s in all, less than max_retry_time %s: the count would end them first", DefaultMaxAttempts, sum, DefaultMaxRetryTime)
	}
	if d := retryDelay(1000); d > retryMaxDelay {
		t.Errorf("retry 1000: %s, over the cap", d)
	}
}

// TestUploadRidesOutOutage: with the default retry settings, an S3 outage of
// 60 s in the middle of a multipart upload (every request answered 503,
// 500 or cut by the fault proxy) is ridden out and the object completes,
// byte for byte.
func TestUploadRidesOutOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: takes over a minute")
	}
	if raceEnabled {
		t.Skip("-race: the run without it rides out the outage; a minute more is not worth it")
	}
	s := s3test.Start(t, s3local.Options{})
	const outage = 60 * time.Second
	var start atomic.Int64 // unix ns when the outage began; 0 before
	var during atomic.Int64
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		if st := start.Load(); st != 0 {
			if time.Since(time.Unix(0, st)) < outage {
				during.Add(1)
				return []string{"503", "cut", "500"}[n%3]
			}
			return ""
		}
		// The outage starts once part 1 went through: mid-upload, with a
		// client that has reached S3.
		if strings.Contains(r.URL.RawQuery, "partNumber=2") {
			start.CompareAndSwap(0, time.Now().UnixNano())
			during.Add(1)
			return "503"
		}
		return ""
	})
	api := defaultRetryClient(s, proxy.URL, 0, 0)
	data := randomBytes(t, 4*minPartSize+17)
	var sent atomic.Int64
	t0 := time.Now()
	_, err := upload(context.Background(), api, bytes.NewReader(data), uploadOptions{
		Bucket: s.Bucket, Key: "outage/obj", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 2,
	}, &sent)
	took := time.Since(t0)
	if err != nil {
		t.Fatalf("upload through a %s outage: %v", outage, err)
	}
	if start.Load() == 0 || took < outage {
		t.Fatalf("the outage did not happen as planned (started %v, upload took %s)", start.Load() != 0, took)
	}
	if got := s3test.Get(t, s, "outage/obj"); !bytes.Equal(got, data) {
		t.Fatal("object differs after the outage")
	}
	t.Logf("upload took %s through a %s outage; %d requests failed during it", took.Round(time.Second), outage, during.Load())
}

// TestRetryBounds: retries stop at max_retry_time, at the job's deadline,
// and at once on a client that never reached S3; each time with the error
// of the last try and ErrRetryBudget, not a bare context error.
func TestRetryBounds(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	down := newFaultProxy(t, s.Endpoint, func(int64, *http.Request) string { return "503" })
	put := func(api *s3.Client, ctx context.Context) error {
		var sent atomic.Int64
		_, err := upload(ctx, api, bytes.NewReader([]byte("x")), uploadOptions{
			Bucket: s.Bucket, Key: "bounds/x", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 1,
		}, &sent)
		return err
	}
	t.Run("max_retry_time", func(t *testing.T) {
		t0 := time.Now()
		err := put(defaultRetryClient(s, down.URL, 0, 4*time.Second), context.Background())
		took := time.Since(t0)
		if !errors.Is(err, ErrRetryBudget) || !strings.Contains(err.Error(), "SlowDown") || !strings.Contains(err.Error(), "max_retry_time") {
			t.Fatalf("err = %v, want the budget and the last SlowDown", err)
		}
		if took > 4*time.Second+5*time.Second {
			t.Errorf("retries went on %s with a budget of 4s", took)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		t0 := time.Now()
		err := put(defaultRetryClient(s, down.URL, 0, 0), ctx)
		took := time.Since(t0)
		if err == nil || !strings.Contains(err.Error(), "SlowDown") {
			t.Fatalf("err = %v, want the last SlowDown", err)
		}
		if took > 3*time.Second+2*time.Second {
			t.Errorf("retries went on %s past a deadline of 3s", took)
		}
	})
	t.Run("never reached", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String()
		l.Close()
		t0 := time.Now()
		err = put(defaultRetryClient(s, closed, 0, 0), context.Background())
		took := time.Since(t0)
		if !errors.Is(err, ErrRetryBudget) || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("err = %v, want a refused connection, given up", err)
		}
		if took > 10*time.Second {
			t.Errorf("a refused endpoint took %s to fail", took)
		}
		t.Logf("refused endpoint failed after %s: %v", took.Round(time.Millisecond), err)
	})
}

// TestRetriedPutOutlivesEarlyRefusals: a fresh client (a wal-push process)
// whose conditional PutObject is reset after it sent the request head, more
// times than a client that never reached S3 tries, keeps retrying and ends
// with the 412 of the attempt after them: for wal-push "already archived",
// not "S3 never answered this client". The resets are the fault proxy's,
// deterministic (the real server does it now and then, see reachedBy); the
// 412 is the proxy's fake of S3's answer. A refused port still gives up
// after three tries (TestRetryBounds/never_reached).
func TestRetriedPutOutlivesEarlyRefusals(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	const resets = unreachedAttempts + 1
	var puts atomic.Int64
	proxy := newFaultProxy(t, s.Endpoint, func(_ int64, r *http.Request) string {
		if r.Method != http.MethodPut {
			return ""
		}
		if puts.Add(1) <= resets {
			return "refuse"
		}
		return "412"
	})
	var sent atomic.Int64
	res, err := upload(context.Background(), defaultRetryClient(s, proxy.URL, 0, 0), bytes.NewReader(randomBytes(t, 4<<20)), uploadOptions{
		Bucket: s.Bucket, Key: "refused/x", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 1,
	}, &sent)
	// The 412 is either a collision or, when the client cannot tell a
	// reset from a lost answer (see attemptLog), "stored by an earlier
	// attempt"; both are S3's verdict. Giving up is the failure.
	if err != nil && !errors.Is(err, ErrObjectExists) {
		t.Fatalf("after %d resets: %v; want the 412 of the attempt after them", resets, err)
	}
	if err == nil && res.LostAnswer == "" {
		t.Fatalf("after %d resets: stored without the 412: %+v", resets, res)
	}
	if n := puts.Load(); n != resets+1 {
		t.Fatalf("%d PutObject attempts, want %d", n, resets+1)
	}
}
