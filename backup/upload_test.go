package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/crc64nvme"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

func TestPartSizeGrowth(t *testing.T) {
	const base = 16 << 20
	tests := []struct {
		part int
		want int64
	}{
		{1, base}, {900, base}, {901, 2 * base}, {1800, 2 * base}, {1801, 4 * base},
		{8100, 256 * base}, {8101, maxPartSize}, {10000, maxPartSize},
	}
	for _, tt := range tests {
		if got := partSize(base, tt.part); got != tt.want {
			t.Errorf("partSize(16MiB, %d) = %d, want %d", tt.part, got, tt.want)
		}
	}
	var total int64
	for n := 1; n <= maxParts; n++ {
		total += partSize(base, n)
	}
	if total < maxObjectSize {
		t.Fatalf("10,000 growing parts from 16MiB hold %d bytes, less than S3's 5 TiB", total)
	}
	// The smallest base allowed must reach 5 TiB as well.
	total = 0
	for n := 1; n <= maxParts; n++ {
		total += partSize(minPartSize, n)
	}
	if total < maxObjectSize {
		t.Errorf("10,000 growing parts from 5MiB hold %d bytes (%.1f TiB), less than S3's 5 TiB", total, float64(total)/(1<<40))
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func backupClient(s *s3local.Server, endpoint string, attempts int) *s3.Client {
	c := s.Client(s.Backup)
	return s3.New(c.Options(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 50 * time.Millisecond
			so.RateLimiter = ratelimit.None
		})
	})
}

// TestUploadConformance round-trips streams around every boundary through
// the real server with the PutObject-only key, and reads them back with
// the admin key.
func TestUploadConformance(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			s := s3test.Start(t, s3local.Options{TLS: tls})
			api := backupClient(s, s.Endpoint, 3)
			const ps = minPartSize
			sizes := []int{0, 1, ps - 1, ps, ps + 1, 2 * ps, 3*ps + 7}
			for _, checksum := range []string{"CRC64NVME", "SHA256"} {
				for _, size := range sizes {
					t.Run(fmt.Sprintf("%s/%d", checksum, size), func(t *testing.T) {
						data := randomBytes(t, size)
						key := fmt.Sprintf("conf/%s-%d", checksum, size)
						var sent atomic.Int64
						res, err := upload(context.Background(), api, bytes.NewReader(data), uploadOptions{
							Bucket: s.Bucket, Key: key, SSE: "AES256", Checksum: checksum,
							PartSize: ps, Concurrency: 2,
						}, &sent)
						if err != nil {
							t.Fatalf("upload: %v", err)
						}
						if res.Size != int64(size) || sent.Load() != int64(size) {
							t.Errorf("size = %d, sent %d, want %d", res.Size, sent.Load(), size)
						}
						wantParts := 0
						if size >= ps {
							wantParts = (size + ps - 1) / ps
						}
						if res.Parts != wantParts {
							t.Errorf("parts = %d, want %d", res.Parts, wantParts)
						}
						if got := s3test.Get(t, s, key); !bytes.Equal(got, data) {
							t.Fatalf("read back %d bytes, differ from the %d sent", len(got), len(data))
						}
					})
				}
			}
		})
	}
}

// failingReader returns data up to n bytes, then err.
type failingReader struct {
	r   io.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestUploadFailingStreamLeavesNothing: a stream that fails at any offset
// completes no object and leaves no multipart upload behind.
func TestUploadFailingStreamLeavesNothing(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	api := backupClient(s, s.Endpoint, 3)
	const ps = minPartSize
	boom := errors.New("dump exited 1")
	for _, off := range []int{0, 1, ps - 1, ps, ps + 1, 3*ps + 5} {
		t.Run(fmt.Sprint(off), func(t *testing.T) {
			var sent atomic.Int64
			r := &failingReader{r: bytes.NewReader(randomBytes(t, 4*ps)), n: off, err: boom}
			_, err := upload(context.Background(), api, r, uploadOptions{
				Bucket: s.Bucket, Key: fmt.Sprintf("fail/%d", off), SSE: "AES256", Checksum: "CRC64NVME",
				PartSize: ps, Concurrency: 2,
			}, &sent)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the stream's error", err)
			}
		})
	}
	if keys := s3test.Keys(t, s); len(keys) != 0 {
		t.Errorf("objects left after failed streams: %v", keys)
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("multipart uploads left after failed streams: %v", ups)
	}
}

// TestUploadRefusesOverwrite: If-None-Match: * makes the second upload under
// a key fail with ErrObjectExists, single-part and multipart, and the
// original object is intact.
func TestUploadRefusesOverwrite(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	api := backupClient(s, s.Endpoint, 3)
	for _, size := range []int{100, 2*minPartSize + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("once/%d", size)
			first := randomBytes(t, size)
			opts := uploadOptions{Bucket: s.Bucket, Key: key, SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 2}
			var sent atomic.Int64
			if _, err := upload(context.Background(), api, bytes.NewReader(first), opts, &sent); err != nil {
				t.Fatal(err)
			}
			_, err := upload(context.Background(), api, bytes.NewReader(randomBytes(t, size)), opts, &sent)
			if !errors.Is(err, ErrObjectExists) {
				t.Fatalf("second upload: err = %v, want ErrObjectExists", err)
			}
			if got := s3test.Get(t, s, key); !bytes.Equal(got, first) {
				t.Fatal("the original object changed")
			}
		})
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("multipart uploads left after refused overwrite: %v", ups)
	}
}

// faultProxy sits between the client and the real server and injects what
// a real server cannot produce on demand: 503 SlowDown storms and
// connections cut in the middle of a request body. It is a fake only for
// those faults; every request that gets through is served by versitygw.
type faultProxy struct {
	target   *url.URL
	rp       *httputil.ReverseProxy
	requests atomic.Int64
	// fault decides for the n-th request (1-based): "" pass, "503", "500", "412",
	// "cut" (the request never reaches the server), "lose" (the server
	// handles it, its answer never reaches the client).
	fault    func(n int64, r *http.Request) string
	injected atomic.Int64
}

func newFaultProxy(t *testing.T, endpoint string, fault func(int64, *http.Request) string) *httptest.Server {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: u, fault: fault}
	p.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // keep the host the client signed
	}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { t.Logf("fault proxy: %d requests, %d faults injected", p.requests.Load(), p.injected.Load()) })
	return srv
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.requests.Add(1)
	switch p.fault(n, r) {
	case "503":
		p.injected.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		return
	case "500":
		p.injected.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`)
		return
	case "412":
		// What AWS answers a retried CompleteMultipartUpload with
		// If-None-Match: * once the first attempt completed the object
		// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html,
		// If-None-Match). versitygw answers such a retry 200 instead, so
		// this answer is a fake of AWS.
		p.injected.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusPreconditionFailed)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
		return
	case "lose":
		// Let the server handle the request, then drop the connection
		// before its answer reaches the client: the write is done, the
		// client cannot know it.
		p.injected.Add(1)
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
		return
	case "detached":
		// Handle the request to its end even when the client goes away,
		// as a server does with a part it has received whole.
		p.rp.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
		return
	case "refuse":
		// Read the request's head only and reset the connection: a store
		// that refuses a conditional put before reading the body, whose
		// answer the reset loses (what versitygw does with its 412 to a
		// retried push, see resetWhileSending).
		p.injected.Add(1)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
		return
	case "cut":
		p.injected.Add(1)
		// Read part of the body, then drop the connection without a
		// response, as a failing load balancer does.
		_, _ = io.CopyN(io.Discard, r.Body, 64<<10)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
		return
	}
	p.rp.ServeHTTP(w, r)
}

// TestUploadSurvivesFaultStorm: with most part uploads failing once or twice
// by 503, 500 or a cut connection, the upload still completes, byte for byte.
func TestUploadSurvivesFaultStorm(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	var seen requestCounter
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			return ""
		}
		// Each distinct request (by URL) fails on its first two tries.
		k := r.Method + r.URL.String()
		switch seen.inc(k) {
		case 1:
			return []string{"503", "cut", "500"}[n%3]
		case 2:
			return "503"
		}
		return ""
	})
	api := backupClient(s, proxy.URL, 10)
	data := randomBytes(t, 4*minPartSize+123)
	var sent atomic.Int64
	_, err := upload(context.Background(), api, bytes.NewReader(data), uploadOptions{
		Bucket: s.Bucket, Key: "storm/obj", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 3,
	}, &sent)
	if err != nil {
		t.Fatalf("upload through the storm: %v", err)
	}
	if got := s3test.Get(t, s, "storm/obj"); !bytes.Equal(got, data) {
		t.Fatal("object differs after retries")
	}
	if seen.total() < 6 {
		t.Fatalf("the proxy saw only %d distinct write requests; the storm was not exercised", seen.total())
	}
}

// TestUploadGivesUpAndAborts: a storm longer than the retry budget fails the
// upload with the server's error and leaves no multipart upload behind, and
// the abort waits for the answer to the part that was in flight when the
// storm won: S3 may store a part still in progress after an abort (see
// finishAttempt), so every part sent must have its answer before the abort.
// The order is set by the proxy, not the scheduler: part 2 is refused only
// once part 3 has reached the server whole, and part 3 is answered only once
// the upload has been cancelled by part 2's failure.
func TestUploadGivesUpAndAborts(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	part3Arrived, cancelled := make(chan struct{}), make(chan struct{})
	wait := func(c chan struct{}, what string) {
		select {
		case <-c:
		case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
			t.Errorf("the proxy waited 30s for %s", what)
		}
	}
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		switch {
		case r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, "partNumber=2"):
			wait(part3Arrived, "part 3")
			return "503"
		case r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, "partNumber=3"):
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("part 3 did not arrive whole: %v", err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			close(part3Arrived)
			wait(cancelled, "the upload's cancellation")
			return "detached"
		}
		return ""
	})
	api := &partWatcher{Client: backupClient(s, proxy.URL, 3), cancelled: cancelled}
	var sent atomic.Int64
	_, err := upload(context.Background(), api, bytes.NewReader(randomBytes(t, 3*minPartSize)), uploadOptions{
		Bucket: s.Bucket, Key: "giveup/obj", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 2,
	}, &sent)
	if err == nil || !strings.Contains(err.Error(), "SlowDown") || !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("err = %v, want a SlowDown failure, aborted", err)
	}
	if api.unanswered != "" {
		t.Errorf("AbortMultipartUpload was sent while a part could still be in progress at the server: %s", api.unanswered)
	}
	if keys := s3test.Keys(t, s); len(keys) != 0 {
		t.Errorf("objects left: %v", keys)
	}
	if ups := s3test.PendingUploads(t, s); len(ups) != 0 {
		t.Errorf("multipart uploads left: %v", ups)
	}
}

// partWatcher is the client, watching the uploader's calls: it closes
// cancelled when the context of part 3's call is cancelled, and at the
// abort notes a part call that is still running or ended without an answer
// from the server.
type partWatcher struct {
	*s3.Client
	cancelled  chan struct{}
	once       sync.Once
	mu         sync.Mutex
	running    int
	noAnswer   []string
	unanswered string // what the abort found
}

func (w *partWatcher) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if aws.ToInt32(in.PartNumber) == 3 {
		stop := context.AfterFunc(ctx, func() { w.once.Do(func() { close(w.cancelled) }) })
		defer stop()
	}
	w.mu.Lock()
	w.running++
	w.mu.Unlock()
	out, err := w.Client.UploadPart(ctx, in, opts...)
	w.mu.Lock()
	w.running--
	if err != nil && noAnswer(err) {
		w.noAnswer = append(w.noAnswer, fmt.Sprintf("part %d: %v", aws.ToInt32(in.PartNumber), err))
	}
	w.mu.Unlock()
	return out, err
}

func (w *partWatcher) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	w.mu.Lock()
	if w.running > 0 || len(w.noAnswer) > 0 {
		w.unanswered = fmt.Sprintf("%d part calls running, cut without an answer: %v", w.running, w.noAnswer)
	}
	w.mu.Unlock()
	return w.Client.AbortMultipartUpload(ctx, in, opts...)
}

// TestUploadNeedsOnlyPut: the PutObject-only key is enough; the uploader
// never asks for more. (The server refuses the same key a read, proving the
// key is really write-only.)
func TestUploadNeedsOnlyPut(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	// Record every request the write path makes: only PUT (PutObject,
	// UploadPart), POST (Create/CompleteMultipartUpload) and DELETE with an
	// uploadId (AbortMultipartUpload) on object keys; never GET or HEAD.
	var mu sync.Mutex
	var calls []string
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		return ""
	})
	api := backupClient(s, proxy.URL, 1)
	var sent atomic.Int64
	for i, size := range []int{10, 2 * minPartSize} {
		if _, err := upload(context.Background(), api, bytes.NewReader(randomBytes(t, size)), uploadOptions{
			Bucket: s.Bucket, Key: fmt.Sprintf("only/put%d", i), SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 1,
		}, &sent); err != nil {
			t.Fatal(err)
		}
	}
	// A failed stream: the abort is a DELETE with an uploadId.
	upload(context.Background(), api, &failingReader{r: bytes.NewReader(randomBytes(t, 2*minPartSize)), n: minPartSize + 1, err: errors.New("boom")},
		uploadOptions{Bucket: s.Bucket, Key: "only/failed", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 1}, &sent)
	mu.Lock()
	recorded := append([]string(nil), calls...)
	mu.Unlock()
	var sawAbort bool
	for _, c := range recorded {
		method, rest, _ := strings.Cut(c, " ")
		switch {
		case method == http.MethodPut && strings.HasPrefix(rest, "/"+s.Bucket+"/only/"):
		case method == http.MethodPost && strings.HasPrefix(rest, "/"+s.Bucket+"/only/") && strings.Contains(rest, "uploads"):
		case method == http.MethodPost && strings.Contains(rest, "uploadId="):
		case method == http.MethodDelete && strings.Contains(rest, "uploadId="):
			sawAbort = true
		default:
			t.Errorf("the write path made a call the backup key does not need: %s", c)
		}
	}
	if !sawAbort || len(recorded) < 7 {
		t.Errorf("recorded %d calls, abort seen %v: %v", len(recorded), sawAbort, recorded)
	}
	_, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String("only/put")})
	if err == nil {
		t.Fatal("the backup key can read: the test server's policy is wrong")
	}
	_, err = api.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	if err == nil {
		t.Fatal("the backup key can list: the test server's policy is wrong")
	}
}

// requestCounter counts tries per distinct request.
type requestCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *requestCounter) inc(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	return c.m[k]
}

func (c *requestCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// TestServerVerifiesFullObjectChecksum: the server checks the FULL_OBJECT
// CRC64NVME sent on CompleteMultipartUpload, so the checksum putonly sends
// is a real write-time integrity check (a wrong one is refused).
func TestServerVerifiesFullObjectChecksum(t *testing.T) {
	s := s3test.Start(t, s3local.Options{})
	api := backupClient(s, s.Endpoint, 1)
	ctx := context.Background()
	data := randomBytes(t, 2*minPartSize)
	for _, tc := range []struct {
		name string
		crc  uint64
		ok   bool
	}{
		{"right", crc64nvme.Checksum(data), true},
		{"wrong", crc64nvme.Checksum(data) ^ 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			u := &uploader{api: api, sent: &sent, o: uploadOptions{
				Bucket: s.Bucket, Key: "crc/" + tc.name, SSE: "AES256", Checksum: "CRC64NVME",
				PartSize: minPartSize, Concurrency: 1, abortTimeout: time.Minute,
			}}
			if err := u.create(ctx); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if err := u.uploadPart(ctx, ctx, i+1, data[i*minPartSize:(i+1)*minPartSize]); err != nil {
					t.Fatal(err)
				}
			}
			_, err := u.completeWith(ctx, int64(len(data)), tc.crc)
			if tc.ok && err != nil {
				t.Fatalf("complete with the right checksum: %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("the server accepted a wrong full-object checksum")
				}
				u.abort(ctx, err)
			}
		})
	}
}

// TestUploadFailureCutsFrozenPart: when a part fails while another part's
// attempt hangs on a server that stopped answering, the hung attempt gets
// inFlightSlice, not the rest of the job's timeout: the upload fails with
// the first part's error and says it aborted. The frozen part is the
// proxy's (it never answers part 3 until the test ends).
func TestUploadFailureCutsFrozenPart(t *testing.T) {
	defer func(d time.Duration) { inFlightSlice = d }(inFlightSlice)
	inFlightSlice = 2 * time.Second
	s := s3test.Start(t, s3local.Options{})
	release, part3Sent := make(chan struct{}), make(chan struct{})
	var once sync.Once
	proxy := newFaultProxy(t, s.Endpoint, func(n int64, r *http.Request) string {
		switch {
		case r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, "partNumber=3"):
			once.Do(func() { close(part3Sent) })
			<-release // frozen
			return "503"
		case r.Method == http.MethodPut && strings.Contains(r.URL.RawQuery, "partNumber=2"):
			<-part3Sent
			return "503"
		}
		return ""
	})
	defer close(release)
	// The job's own deadline is far away: only inFlightSlice can end it.
	ctx, cancelJob := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancelJob()
	done := make(chan error, 1)
	go func() {
		var sent atomic.Int64
		_, err := upload(ctx, backupClient(s, proxy.URL, 1), bytes.NewReader(randomBytes(t, 3*minPartSize)), uploadOptions{
			Bucket: s.Bucket, Key: "frozen/obj", SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, Concurrency: 2,
		}, &sent)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "SlowDown") || !strings.Contains(err.Error(), "abort") {
			t.Fatalf("err = %v, want the part's SlowDown failure and the abort", err)
		}
	case <-time.After(2 * time.Minute): // a guard against the hang the test is about, not a measurement
		t.Fatal("the upload still waits for the frozen part 2 minutes after a part failed")
	}
	if keys := s3test.Keys(t, s); len(keys) != 0 {
		t.Errorf("objects left: %v", keys)
	}
}
