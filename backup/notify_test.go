package backup

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/putonly/putonly/internal/s3err"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookServer is a real HTTP server that records what it receives and
// answers with the given status codes in turn (then 200).
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	codes []int
	got   []hookRequest
}

type hookRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newHookServer(t *testing.T, codes ...int) *hookServer {
	t.Helper()
	h := &hookServer{codes: codes}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		code := http.StatusOK
		if len(h.codes) > 0 {
			code, h.codes = h.codes[0], h.codes[1:]
		}
		h.mu.Unlock()
		if r.Method != http.MethodPost {
			code = http.StatusMethodNotAllowed
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// testNotifier retries without waiting and records the backoffs.
func testNotifier(waits *[]time.Duration) *Notifier {
	return &Notifier{
		Sleep: func(ctx context.Context, d time.Duration) error { *waits = append(*waits, d); return ctx.Err() },
		Now:   func() time.Time { return time.Unix(1790000000, 0) },
	}
}

func TestWebhookRetriesAndSigns(t *testing.T) {
	h := newHookServer(t, 500, 503)
	var waits []time.Duration
	n := testNotifier(&waits)
	ev := Event{Job: "shop", Host: "db1", Status: StatusSuccess, Bucket: "b", Key: "p/shop/x.dump.zst.age",
		BytesIn: 1000, BytesOut: 300, DurationSeconds: 2.5, Start: time.Unix(1790000000, 0).UTC(), Version: "dev"}
	err := n.Send(context.Background(), []Destination{{Name: "oncall", NotifyConfig: NotifyConfig{Webhook: h.URL + "/hook", Secret: "s3cret"}}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	got := h.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (500, 503, then 200)", len(got))
	}
	if fmt.Sprint(waits) != "[1s 2s]" {
		t.Errorf("backoff %v, want [1s 2s]", waits)
	}
	last := got[2]
	var back Event
	if err := json.Unmarshal(last.Body, &back); err != nil {
		t.Fatal(err)
	}
	if back.Job != "shop" || back.Host != "db1" || back.Status != "success" || back.Key != ev.Key || back.BytesOut != 300 || back.DurationSeconds != 2.5 {
		t.Errorf("event = %+v", back)
	}
	for _, field := range []string{`"job"`, `"host"`, `"status"`, `"object_key"`, `"bytes_in"`, `"bytes_out"`, `"duration_seconds"`} {
		if !strings.Contains(string(last.Body), field) {
			t.Errorf("body lacks %s: %s", field, last.Body)
		}
	}
	if last.Header.Get("Content-Type") != "application/json" || last.Header.Get("X-Putonly-Event") != "success" {
		t.Errorf("headers %v", last.Header)
	}
	ts := last.Header.Get("X-Putonly-Timestamp")
	if ts != "1790000000" {
		t.Errorf("timestamp %q", ts)
	}
	// What a receiver does: recompute over timestamp.body.
	if sig := last.Header.Get("X-Putonly-Signature"); !hmac.Equal([]byte(sig), []byte(Sign("s3cret", ts, last.Body))) || !strings.HasPrefix(sig, "sha256=") {
		t.Errorf("signature %q does not verify", sig)
	}
	if Sign("other", ts, last.Body) == last.Header.Get("X-Putonly-Signature") {
		t.Error("another secret gives the same signature")
	}
	// One delivery id across the retries.
	if id := got[0].Header.Get("X-Putonly-Delivery"); id == "" || id != got[2].Header.Get("X-Putonly-Delivery") {
		t.Errorf("delivery ids %q, %q", id, got[2].Header.Get("X-Putonly-Delivery"))
	}
}

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	h := newHookServer(t)
	var waits []time.Duration
	err := testNotifier(&waits).Send(context.Background(), []Destination{{Name: "d", NotifyConfig: NotifyConfig{Webhook: h.URL}}}, Event{Job: "a", Status: StatusFailure, Error: "boom"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.requests(); len(got) != 1 || got[0].Header.Get("X-Putonly-Signature") != "" {
		t.Errorf("requests %+v", got)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		codes    []int
		attempts int
		want     string
	}{
		{"client error is not retried", []int{400}, 1, "400"},
		{"gone is not retried", []int{410}, 1, "410"},
		{"5xx until the last attempt", []int{500, 500, 500, 500, 500}, 5, "5 attempts: HTTP 500"},
		{"429 is retried", []int{429, 429}, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHookServer(t, tc.codes...)
			var waits []time.Duration
			err := testNotifier(&waits).Send(context.Background(), []Destination{{Name: "d", NotifyConfig: NotifyConfig{Webhook: h.URL}}}, Event{Job: "a", Status: StatusSuccess})
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if n := len(h.requests()); n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}
	t.Run("unreachable, the URL's token is not in the error", func(t *testing.T) {
		h := newHookServer(t)
		u := h.URL + "/secret-token"
		h.Close()
		var waits []time.Duration
		n := testNotifier(&waits)
		n.MaxAttempts = 2
		err := n.Send(context.Background(), []Destination{{Name: "d", NotifyConfig: NotifyConfig{Webhook: u}}}, Event{Job: "a", Status: StatusSuccess})
		if err == nil || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		h := newHookServer(t, 500, 500)
		ctx, cancel := context.WithCancel(context.Background())
		n := &Notifier{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
		err := n.Send(ctx, []Destination{{Name: "d", NotifyConfig: NotifyConfig{Webhook: h.URL}}}, Event{Job: "a", Status: StatusSuccess})
		if !errors.Is(err, context.Canceled) || len(h.requests()) != 1 {
			t.Errorf("err = %v after %d requests", err, len(h.requests()))
		}
	})
}

func TestPingAndRouting(t *testing.T) {
	h := newHookServer(t)
	var waits []time.Duration
	n := testNotifier(&waits)
	dests := []Destination{
		{Name: "hc", NotifyConfig: NotifyConfig{Ping: h.URL + "/ping/uuid"}},
		{Name: "hook", NotifyConfig: NotifyConfig{Webhook: h.URL + "/all"}},
		{Name: "pager", NotifyConfig: NotifyConfig{Webhook: h.URL + "/failures", On: "failure"}},
	}
	for _, ev := range []Event{
		{Job: "a", Status: StatusStart},
		{Job: "a", Status: StatusSuccess, Bucket: "b", Key: "k"},
		{Job: "a", Status: StatusFailure, Error: "job a: dump failed: exit status 3"},
	} {
		if err := n.Send(context.Background(), dests, ev); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, r := range h.requests() {
		paths = append(paths, r.Path)
	}
	want := "/ping/uuid/start /ping/uuid /all /ping/uuid/fail /all /failures"
	if strings.Join(paths, " ") != want {
		t.Errorf("requests\n %s\nwant\n %s", strings.Join(paths, " "), want)
	}
	if got := h.requests(); string(got[3].Body) != "job a: dump failed: exit status 3" {
		t.Errorf("fail ping body %q", got[3].Body)
	}
}

func TestFailureReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("job a: %w: exit status 3", ErrDumpFailed), "dump"},
		{fmt.Errorf("job a: %w: killed (%w)", ErrDumpFailed, &TimeoutError{Timeout: 2 * time.Second}), "timeout"},
		{fmt.Errorf("job a: upload: %w", context.Canceled), "cancelled"},
		{fmt.Errorf("job a: %w", ErrAccessDenied), "access_denied"},
		{fmt.Errorf("job a: %w", ErrObjectExists), "object_exists"},
		{fmt.Errorf("job a: backup s3://b/k is stored, but its %w: boom", ErrManifest), "manifest"},
		{fmt.Errorf("job a: upload part 3: %w", fmt.Errorf("%w: terminated received", ErrShutdown)), "cancelled"},
		{fmt.Errorf("job a: %w: refusing", ErrReadableKey), "selftest"},
		{fmt.Errorf("job a: create multipart upload: %w", &s3err.Error{Cause: s3err.ErrRefused}), "unreachable"},
		{fmt.Errorf("job a: %w", &s3err.Error{Cause: s3err.ErrNoCredentials}), "credentials"},
		{fmt.Errorf("job a: put: %w", &s3err.Error{Cause: s3err.ErrNoSuchBucket}), "bucket"},
		{fmt.Errorf("job a: upload part 2: %w: %w", &s3err.Error{Cause: s3err.ErrRefused}, fmt.Errorf("%w grace period over", ErrShutdown)), "cancelled"},
		{errors.New("job a: upload part 3: connection reset"), "upload"},
	} {
		if got := FailureReason(tc.err); got != tc.want {
			t.Errorf("FailureReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestReporter: one run's start and result reach the state file and the
// destinations.
func TestReporter(t *testing.T) {
	h := newHookServer(t, 500)
	var waits []time.Duration
	clock := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	sf := NewStateFile(filepath.Join(t.TempDir(), "sub", "state.json"))
	var recorded []*State
	r := &Reporter{State: sf, Notifier: testNotifier(&waits), Host: "db1", Now: now, Recorded: func(s *State) { recorded = append(recorded, s) }}
	dests := []Destination{{Name: "hook", NotifyConfig: NotifyConfig{Webhook: h.URL}}}
	job := &Job{Name: "shop", Bucket: "b"}

	_, err := r.Run(context.Background(), job, dests, func(ctx context.Context) (Result, error) {
		return Result{Job: "shop", Bucket: "b", Key: "p/shop/1.dump.zst.age", BytesIn: 100, BytesOut: 40}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Run(context.Background(), job, dests, func(ctx context.Context) (Result, error) {
		return Result{}, fmt.Errorf("job shop: %w: exit status 1", ErrDumpFailed)
	})
	if !errors.Is(err, ErrDumpFailed) {
		t.Fatalf("err = %v: the reporter must return the run's error", err)
	}
	st, err := ReadState(sf.Path())
	if err != nil {
		t.Fatal(err)
	}
	js := st.Jobs["shop"]
	if js.LastStatus != StatusFailure || js.LastReason != "dump" || js.Failures["dump"] != 1 || js.Successes != 1 ||
		js.LastSuccessObject != "s3://b/p/shop/1.dump.zst.age" || js.LastBytesOut != 40 ||
		!js.LastSuccess.Equal(time.Date(2026, 11, 26, 2, 15, 2, 0, time.UTC)) ||
		!js.LastAttempt.Equal(time.Date(2026, 11, 26, 2, 15, 3, 0, time.UTC)) {
		t.Errorf("state = %+v", js)
	}
	if len(recorded) != 4 {
		t.Errorf("Recorded called %d times, want 4 (start, end, start, end)", len(recorded))
	}
	var statuses []string
	for _, req := range h.requests() {
		var ev Event
		json.Unmarshal(req.Body, &ev)
		statuses = append(statuses, ev.Status)
	}
	// The first success is retried after a 500; webhooks get no start.
	if strings.Join(statuses, ",") != "success,success,failure" {
		t.Errorf("webhook got %v", statuses)
	}
}

func TestNotifyConfigEnvAndSecretFile(t *testing.T) {
	t.Setenv("HOOK_SECRET", "from-env")
	cfg, err := ParseConfig([]byte(`
notify:
  a: {webhook: "https://hooks.example.net/a", secret: "${HOOK_SECRET}"}
defaults: {bucket: bkt, recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]}
jobs: [{name: j, source: {type: postgres, database: d}, notify: [a]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Notify["a"].Secret; got != "from-env" {
		t.Errorf("secret = %q: ${VAR} in notify not expanded", got)
	}
	if d := cfg.Destinations()["j"]; len(d) != 1 || d[0].Name != "a" {
		t.Errorf("destinations %+v", d)
	}
	if _, err := ParseConfig([]byte(`
notify:
  a: {webhook: "https://hooks.example.net/a", secret: "${UNSET_HOOK_SECRET_X}"}
defaults: {bucket: bkt, recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]}
jobs: [{name: j, source: {type: postgres, database: d}}]
`)); err == nil || !strings.Contains(err.Error(), "notify.a.secret") {
		t.Errorf("unset variable: err = %v", err)
	}

	h := newHookServer(t)
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("file-secret\n"), 0o600)
	var waits []time.Duration
	if err := testNotifier(&waits).Send(context.Background(), []Destination{{Name: "a", NotifyConfig: NotifyConfig{Webhook: h.URL, SecretFile: secretFile}}}, Event{Job: "j", Status: StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	r := h.requests()[0]
	if r.Header.Get("X-Putonly-Signature") != Sign("file-secret", r.Header.Get("X-Putonly-Timestamp"), r.Body) {
		t.Error("not signed with the secret file's content")
	}
	err = testNotifier(&waits).Send(context.Background(), []Destination{{Name: "a", NotifyConfig: NotifyConfig{Webhook: h.URL, SecretFile: secretFile + ".missing"}}}, Event{Job: "j", Status: StatusSuccess})
	if err == nil || len(h.requests()) != 1 {
		t.Errorf("missing secret file: err = %v; an unsigned event went out", err)
	}
}

func TestReporterSelftestVerdict(t *testing.T) {
	errGate := errors.New("the backup key has more than write rights")
	sf := NewStateFile(filepath.Join(t.TempDir(), "state.json"))
	r := &Reporter{State: sf, Now: func() time.Time { return time.Unix(1790000000, 0) }, Selftest: func(err error) *SelftestState {
		switch {
		case errors.Is(err, errGate):
			return &SelftestState{OK: false, Detail: err.Error()}
		case err == nil:
			return &SelftestState{OK: true}
		}
		return nil
	}}
	job := &Job{Name: "shop"}
	r.Run(context.Background(), job, nil, func(context.Context) (Result, error) { return Result{}, fmt.Errorf("job shop: %w", errGate) })
	st, _ := sf.Read()
	if st.Selftest == nil || st.Selftest.OK || st.Jobs["shop"].LastReason != "selftest" || st.Selftest.Time.IsZero() {
		t.Errorf("after a refused key: %+v %+v", st.Selftest, st.Jobs["shop"])
	}
	r.Run(context.Background(), job, nil, func(context.Context) (Result, error) { return Result{}, ErrDumpFailed })
	if st, _ := sf.Read(); st.Selftest == nil || st.Selftest.OK {
		t.Errorf("a dump failure changed the verdict: %+v", st.Selftest)
	}
	r.Run(context.Background(), job, nil, func(context.Context) (Result, error) { return Result{}, nil })
	if st, _ := sf.Read(); st.Selftest == nil || !st.Selftest.OK {
		t.Errorf("after a clean run: %+v", st.Selftest)
	}
}
