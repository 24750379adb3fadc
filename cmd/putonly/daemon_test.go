package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemonProc is a running 'putonly daemon'.
type daemonProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

// startDaemon runs the binary with the backup key of s (nil: no S3).
func startDaemon(t *testing.T, s *s3local.Server, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(putonlyBin, append([]string{"daemon", "--log-format", "json"}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "STATE_DIRECTORY=") && !strings.HasPrefix(kv, "PUTONLY_STATE_DIR=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if s != nil {
		env = append(env, "AWS_ACCESS_KEY_ID="+s.Backup.ID, "AWS_SECRET_ACCESS_KEY="+s.Backup.Secret, "AWS_ENDPOINT_URL_S3="+s.Endpoint)
	}
	cmd.Env = env
	d := &daemonProc{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		d.code = cmd.ProcessState.ExitCode()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon stderr:\n%s", d.stderr.String())
		}
	})
	return d
}

// waitFor polls cond until it holds; the bound only stops a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemonProc) waitLog(msg string) {
	d.t.Helper()
	waitFor(d.t, "log "+msg, func() bool { return strings.Contains(d.stderr.String(), msg) })
}

func (d *daemonProc) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemonProc) wait() int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		d.t.Fatal("the daemon did not exit")
	}
	return d.code
}

// under lists keys and pending uploads under prefix (the key's self-test
// writes canaries of its own).
func under(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func daemonConfig(s *s3local.Server, id *age.X25519Identity, dir, extra, jobs string) string {
	return fmt.Sprintf(`daemon:
  state_file: %s
  textfile: %s
%s
defaults:
  bucket: %s
  prefix: db1/
  endpoint: %s
  path_style: true
  recipients: [%s]
  part_size: 5MiB
  compression: none
  schedule: "@daily"
jobs:
%s`, filepath.Join(dir, "state.json"), filepath.Join(dir, "putonly.prom"), extra, s.Bucket, s.Endpoint, id.Recipient(), jobs)
}

// TestDaemonSIGTERMAbortsUpload: SIGTERM in the middle of an upload that
// outlives the grace period cancels it: the dump is killed, the multipart
// upload aborted, and no object is left, not even a partial one.
func TestDaemonSIGTERMAbortsUpload(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "putonly.yaml")
	// 12 MB of random bytes (two full parts go up), then a dump that hangs.
	writeConfig(t, cfg, daemonConfig(s, id, dir, "  shutdown_grace: 1s", `  - name: slow
    source: {type: command, command: [sh, -c, "head -c 12000000 /dev/urandom; exec sleep 300"]}
`))
	d := startDaemon(t, s, "--config", cfg, "--run-now")
	waitFor(t, "a multipart upload in progress", func() bool { return len(under(s3test.PendingUploads(t, s), "db1/slow/")) > 0 })
	d.signal(syscall.SIGTERM)
	if code := d.wait(); code != 1 {
		t.Errorf("exit status %d, want 1 (a job was cancelled)", code)
	}
	if !strings.Contains(d.stderr.String(), "grace period") {
		t.Errorf("stderr does not say the grace period ran out:\n%s", d.stderr.String())
	}
	if keys := under(s3test.Keys(t, s), "db1/slow/"); len(keys) != 0 {
		t.Errorf("objects left: %v", keys)
	}
	if ups := under(s3test.PendingUploads(t, s), "db1/slow/"); len(ups) != 0 {
		t.Errorf("multipart uploads left: %v", ups)
	}
	st, err := backup.ReadState(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if js := st.Jobs["slow"]; js == nil || js.LastStatus != backup.StatusFailure || js.LastReason != "cancelled" {
		t.Errorf("state %+v", js)
	}
}

// TestDaemonDrainsWithinGrace: a job running at SIGTERM that ends within
// the grace period completes its backup; its result reaches the state file,
// the textfile, a webhook and 'putonly status'.
func TestDaemonDrainsWithinGrace(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	var mu sync.Mutex
	var events []backup.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev backup.Event
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
		if len(events) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // retried
		}
	}))
	defer hook.Close()
	cfg := filepath.Join(dir, "putonly.yaml")
	// The dump waits for a file the test creates after SIGTERM.
	gate := filepath.Join(dir, "go-on")
	writeConfig(t, cfg, daemonConfig(s, id, dir, fmt.Sprintf("  shutdown_grace: 5m\nnotify:\n  team: {webhook: %q}", hook.URL), fmt.Sprintf(`  - name: shop
    notify: [team]
    source: {type: command, command: [sh, -c, "head -c 12000000 /dev/urandom; while [ ! -e %s ]; do sleep 0.05; done"]}
`, gate)))
	d := startDaemon(t, s, "--config", cfg, "--run-now")
	waitFor(t, "a multipart upload in progress", func() bool { return len(under(s3test.PendingUploads(t, s), "db1/shop/")) > 0 })
	d.signal(syscall.SIGTERM)
	d.waitLog("stopping: no new runs")
	writeConfig(t, gate, "")
	if code := d.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	keys := under(s3test.Keys(t, s), "db1/shop/")
	if len(keys) != 2 { // the backup and its manifest
		t.Fatalf("objects %v, want the backup and its manifest", keys)
	}
	mu.Lock()
	if len(events) != 2 || events[1].Status != "success" || events[1].Job != "shop" || events[1].BytesIn != 12000000 || !strings.HasPrefix(events[1].Key, "db1/shop/") {
		t.Errorf("webhook events %+v", events)
	}
	mu.Unlock()
	prom, err := os.ReadFile(filepath.Join(dir, "putonly.prom"))
	if err != nil || !strings.Contains(string(prom), `putonly_backup_last_success_timestamp_seconds{backup_job="shop"}`) || !strings.Contains(string(prom), `putonly_backup_successes_total{backup_job="shop"} 1`) ||
		!strings.Contains(string(prom), "putonly_selftest_ok 1") {
		t.Errorf("textfile: %v\n%s", err, prom)
	}
	out, err := exec.Command(putonlyBin, "status", "--config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "success") || !strings.Contains(string(out), "@daily") {
		t.Errorf("status: %v\n%s", err, out)
	}
}

// TestDaemonSIGHUP: a bad config on SIGHUP keeps the running one; a good one
// replaces it.
func TestDaemonSIGHUP(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "putonly.yaml")
	state := filepath.Join(dir, "state.json")
	config := func(jobs string) string {
		return fmt.Sprintf(`daemon: {state_file: %s}
defaults:
  bucket: bkt
  recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]
jobs:
%s`, state, jobs)
	}
	writeConfig(t, cfg, config("  - {name: alpha, source: {type: postgres, database: a}, schedule: '@daily'}\n"))
	d := startDaemon(t, nil, "--config", cfg)
	d.waitLog("daemon started")
	schedules := func() map[string]string {
		st, err := backup.ReadState(state)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for n, js := range st.Jobs {
			out[n] = js.Schedule
		}
		return out
	}
	if got := schedules(); got["alpha"] != "@daily" {
		t.Fatalf("schedules %v", got)
	}

	for i, bad := range []string{
		config("  - {name: alpha, source: {type: postgres, database: a}, schedule: '61 * * * *'}\n"),
		config("  - {name: alpha, source: {type: postgres, database: a}, schedule: '@hourly', compresion: best}\n"),
		"not: [yaml",
	} {
		writeConfig(t, cfg, bad)
		d.signal(syscall.SIGHUP)
		waitFor(t, "the reload to fail", func() bool {
			return strings.Count(d.stderr.String(), "reload failed: keeping the running config") == i+1
		})
	}
	if got := schedules(); len(got) != 1 || got["alpha"] != "@daily" {
		t.Errorf("after bad reloads: %v", got)
	}

	writeConfig(t, cfg, config("  - {name: beta, source: {type: postgres, database: b}, schedule: '@hourly', time_zone: UTC}\n"))
	d.signal(syscall.SIGHUP)
	d.waitLog("config reloaded")
	if got := schedules(); got["beta"] != "@hourly (UTC)" || got["alpha"] != "" {
		t.Errorf("after a good reload: %v", got)
	}
	d.signal(syscall.SIGTERM)
	if code := d.wait(); code != 0 {
		t.Errorf("exit status %d", code)
	}
}

func TestDaemonFlags(t *testing.T) {
	rcpt := "age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bucket", "bkt", "--recipient", rcpt, "--", "true"}, "no --schedule"},
		{[]string{"--schedule", "5 * *", "--bucket", "bkt", "--recipient", rcpt, "--", "true"}, `--schedule "5 * *"`},
		{[]string{"--schedule", "@daily", "--time-zone", "Nowhere/Land", "--bucket", "bkt", "--recipient", rcpt, "--", "true"}, `--time-zone "Nowhere/Land": unknown time zone`},
		{[]string{"--schedule", "@daily", "--bucket", "bkt", "--recipient", rcpt, "--webhook", "http://hooks.example.net/x", "--", "true"}, "--webhook"},
		{[]string{"--schedule", "@daily", "--recipient", rcpt, "--", "true"}, "--bucket: no bucket"},
		{[]string{"--schedule", "@daily", "--bucket", "bkt", "--recipient", rcpt, "--metrics-listen", "0.0.0.0:9465", "--", "true"}, "not a loopback address"},
		{[]string{"--config", "/nonexistent.yaml", "--schedule", "@daily"}, "--schedule cannot be combined with --config"},
		{[]string{"--schedule", "@daily", "--bucket", "bkt", "--recipient", rcpt, "--sns", "arn:aws:sqs:eu-west-1:111122223333:q", "--", "true"}, `--sns "arn:aws:sqs:eu-west-1:111122223333:q": not an SNS topic ARN`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append([]string{"daemon"}, tc.args...), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("daemon %v: exit %d\n%s\nwant %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestStatusNoStateFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"status", "--state", filepath.Join(t.TempDir(), "none.json")}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), "no state file") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

// TestRunTextfileAndNotify: 'run' records each job in the state file,
// rewrites the node_exporter textfile and notifies the job's destinations;
// a later failed run keeps the earlier success in the metrics.
func TestRunTextfileAndNotify(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev backup.Event
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		got = append(got, r.URL.Path+" "+ev.Job+" "+ev.Status+" "+ev.Reason)
		mu.Unlock()
	}))
	defer hook.Close()
	cfg := filepath.Join(dir, "putonly.yaml")
	writeConfig(t, cfg, daemonConfig(s, id, dir, fmt.Sprintf("notify:\n  dev: {webhook: %q, on: failure}\n  ops: {webhook: %q}", hook.URL+"/dev", hook.URL+"/ops"), `  - name: ok
    notify: [ops]
    source: {type: command, command: [echo, hello]}
  - name: bad
    notify: [dev, ops]
    source: {type: command, command: [sh, -c, "echo partial; exit 3"]}
`))
	runOnce := func(args ...string) int {
		cmd := exec.Command(putonlyBin, append([]string{"run", "--config", cfg, "--log-format", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s.Backup.ID, "AWS_SECRET_ACCESS_KEY="+s.Backup.Secret,
			"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3="+s.Endpoint, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, _ := cmd.CombinedOutput()
		t.Logf("putonly run %v:\n%s", args, out)
		return cmd.ProcessState.ExitCode()
	}
	if code := runOnce(); code != 1 {
		t.Fatalf("exit %d, want 1 (bad failed)", code)
	}
	if code := runOnce("--job", "bad"); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	prom, err := os.ReadFile(filepath.Join(dir, "putonly.prom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`putonly_backup_last_success_timestamp_seconds{backup_job="ok"}`,
		`putonly_backup_successes_total{backup_job="ok"} 1`,
		`putonly_backup_failures_total{backup_job="bad",reason="dump"} 2`,
		`putonly_backup_last_attempt_success{backup_job="bad"} 0`,
	} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("textfile lacks %s:\n%s", want, prom)
		}
	}
	if strings.Contains(string(prom), `putonly_backup_last_success_timestamp_seconds{backup_job="bad"}`) {
		t.Error("a job that never succeeded has a last success")
	}
	mu.Lock()
	defer mu.Unlock()
	want := "/ops ok success |/dev bad failure dump|/ops bad failure dump|/dev bad failure dump|/ops bad failure dump"
	if strings.Join(got, "|") != want {
		t.Errorf("webhooks got\n %s\nwant\n %s", strings.Join(got, "|"), want)
	}
}

// TestDaemonSecondSignal: a second SIGTERM during the grace period exits at
// once.
func TestDaemonSecondSignal(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "putonly.yaml")
	started := filepath.Join(dir, "started")
	writeConfig(t, cfg, daemonConfig(s, id, dir, "  shutdown_grace: 1h", fmt.Sprintf(`  - name: hang
    source: {type: command, command: [sh, -c, "touch %s; exec sleep 300"]}
`, started)))
	d := startDaemon(t, s, "--config", cfg, "--run-now")
	waitFor(t, "the dump to start", func() bool { _, err := os.Stat(started); return err == nil })
	d.signal(syscall.SIGTERM)
	d.waitLog("stopping: no new runs")
	d.signal(syscall.SIGTERM)
	if code := d.wait(); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if !strings.Contains(d.stderr.String(), "second signal") {
		t.Errorf("stderr:\n%s", d.stderr.String())
	}
}

// 'putonly status' knows whether the daemon runs: the daemon holds a lock
// next to the state file (with its pid); without it NEXT RUN is not shown as
// a run that will happen. A second daemon on the same state file is refused.
func TestStatusKnowsDaemonStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if _, err := backup.NewStateFile(path).Update(time.Now(), func(st *backup.State) {
		st.Job("shop").Schedule = "15 2 * * *"
		st.Job("shop").NextRun = time.Now().Add(58 * time.Second)
	}); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := exitCode(run(t.Context(), []string{"status", "--state", path}, &stdout, &stderr), &stderr); code != 0 {
			t.Fatalf("status: exit %d\n%s", code, stderr.String())
		}
		return stdout.String()
	}
	release, err := agent.LockDaemon(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agent.LockDaemon(path); !errors.Is(err, agent.ErrDaemonRunning) {
		t.Errorf("a second daemon: %v, want ErrDaemonRunning", err)
	}
	if out := status(); !strings.Contains(out, fmt.Sprintf("daemon running (pid %d)", os.Getpid())) || !strings.Contains(out, "from now") {
		t.Errorf("with the daemon:\n%s", out)
	}
	release()
	out := status()
	if !strings.Contains(out, "- (daemon not running)") || strings.Contains(out, "from now") || !strings.Contains(out, "daemon not running: no scheduled run will start") {
		t.Errorf("after the daemon stopped:\n%s", out)
	}
}
