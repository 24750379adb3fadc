package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/s3test"
)

// A job's timeout bounds every phase, and the abort of a failed upload gets
// backup.AbortSlice more. The store is frozen with SIGSTOP: it accepts
// connections (the kernel does) and never answers, the worst case for a
// client.

// started is a putonly process the test waits for.
type started struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	start  time.Time
	done   chan struct{}
}

func (e *e2e) start(env []string, args ...string) *started {
	e.t.Helper()
	cmd := exec.Command(putonlyBin, args...)
	cmd.Env = append(e.env(), env...)
	p := &started{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait returns the exit status and how long the process ran; a process
// still running after limit fails the test (the limit it broke).
func (p *started) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("still running %s after start (the bound it must keep)\nstderr:\n%s", limit, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(p.start)
}

// freeze stops the local S3 server until the test ends.
func (e *e2e) freeze() {
	e.t.Helper()
	pid := e.s.PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
}

// margin covers starting the binary and the dump, not a phase of the job.
const margin = 10 * time.Second

// TestTimeoutFrozenBeforeGate: the store is frozen before the run starts,
// so the key's self-test cannot finish. It runs inside the job's timeout:
// the run ends when the timeout passes, saying so, with nothing sent.
func TestTimeoutFrozenBeforeGate(t *testing.T) {
	e := newE2E(t)
	e.freeze()
	timeout := 10 * time.Second
	p := e.start([]string{"PUTONLY_STATE_DIR=" + t.TempDir()}, "run", "--bucket", e.s.Bucket, "--prefix", "db1/",
		"--recipient", e.id.Recipient().String(), "--path-style", "--log-format", "json",
		"--timeout", timeout.String(), "--name", "frozen", "--", "echo", "x")
	code, took := p.wait(t, timeout+margin)
	t.Logf("exit %d after %s (timeout %s)", code, took.Round(100*time.Millisecond), timeout)
	last := lastLine(p.stderr.String())
	t.Logf("%s", last)
	if code != 1 || !strings.Contains(last, "job timeout of 10s reached") || !strings.Contains(last, "self-test") {
		t.Fatalf("exit %d, last line %q", code, last)
	}
	if strings.Contains(last, "allow-readable-key") {
		t.Errorf("a timeout suggests the safety switch: %q", last)
	}
}

// TestTimeoutFrozenDuringUpload: the store freezes after the multipart
// upload began. The dump is cut at the timeout; the abort cannot reach S3
// and gets its slice, then the run ends saying the upload is NOT aborted.
func TestTimeoutFrozenDuringUpload(t *testing.T) {
	e := newE2E(t)
	state := "PUTONLY_STATE_DIR=" + t.TempDir()
	base := []string{"run", "--bucket", e.s.Bucket, "--prefix", "db1/", "--recipient", e.id.Recipient().String(),
		"--path-style", "--log-format", "json", "--part-size", "5MiB", "--compression", "none"}
	// A first run records the key's passing self-test, so the second one
	// reaches the upload at once.
	if code, _ := e.start([]string{state}, append(base, "--name", "warm", "--", "echo", "x")...).wait(t, time.Minute); code != 0 {
		t.Fatalf("warm-up run: exit %d", code)
	}
	timeout := 10 * time.Second
	p := e.start([]string{state}, append(base, "--timeout", timeout.String(), "--name", "frozen", "--",
		"sh", "-c", "head -c 12582912 /dev/urandom; exec sleep 300")...)
	waitFor(t, "the multipart upload to begin", func() bool {
		for _, u := range s3test.PendingUploads(t, e.s) {
			if strings.Contains(u, "/frozen/") {
				return true
			}
		}
		return false
	})
	e.freeze()
	code, took := p.wait(t, timeout+backup.AbortSlice+margin)
	t.Logf("exit %d after %s (timeout %s, abort slice %s)", code, took.Round(100*time.Millisecond), timeout, backup.AbortSlice)
	last := lastLine(p.stderr.String())
	t.Logf("%s", last)
	for _, want := range []string{"job timeout of 10s reached", "NOT aborted", fmt.Sprintf("within the %s abort slice", backup.AbortSlice)} {
		if code != 1 || !strings.Contains(last, want) {
			t.Fatalf("exit %d, want %q in the last line %q", code, want, last)
		}
	}
}

// TestRunInterrupt: ctrl-C on run kills the dump, sends nothing and exits
// 130, the status of a process ended by SIGINT.
func TestRunInterrupt(t *testing.T) {
	e := newE2E(t)
	marker := filepath.Join(t.TempDir(), "started")
	p := e.start(nil, "run", "--bucket", e.s.Bucket, "--prefix", "db1/", "--recipient", e.id.Recipient().String(),
		"--path-style", "--log-format", "json", "--name", "interrupted", "--", "sh", "-c", "touch "+marker+"; exec sleep 300")
	waitFor(t, "the dump to start", func() bool { _, err := os.Stat(marker); return err == nil })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code, _ := p.wait(t, time.Minute)
	last := lastLine(p.stderr.String())
	if code != 130 || !strings.Contains(last, "job interrupted") || !strings.Contains(last, "interrupt received") {
		t.Fatalf("exit %d, last line %q", code, last)
	}
	for _, k := range s3test.Keys(t, e.s) {
		if strings.Contains(k, "/interrupted/") {
			t.Errorf("object written: %s", k)
		}
	}
}
