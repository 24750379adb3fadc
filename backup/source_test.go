package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestRedactArgv(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mysqldump -psecret shop", "mysqldump -pREDACTED shop"},
		{"mariadb-dump --password=secret shop", "mariadb-dump --password=REDACTED shop"},
		{"tool --password secret x", "tool --password REDACTED x"},
		{"mongodump --uri=mongodb://u:secret@h/db --archive", "mongodump --uri=mongodb://u:REDACTED@h/db --archive"},
		{"pg_dump -p 5433 shop", "pg_dump -p 5433 shop"},
		{"pg_dump --dbname=host=db user=app password=hunter2 dbname=shop", "pg_dump --dbname=host=db user=app password=REDACTED dbname=shop"},
		{"pg_dump postgresql://app@db/shop?sslmode=require&password=hunter2", "pg_dump postgresql://app@db/shop?sslmode=require&password=REDACTED"},
		{"mongodump -p hunter2 --archive", "mongodump -p REDACTED --archive"},
		{"/usr/bin/mysqldump -phunter2 shop", "/usr/bin/mysqldump -pREDACTED shop"},
	}
	for _, tt := range tests {
		got := strings.Join(RedactArgv(strings.Fields(tt.in)), " ")
		if strings.Contains(got, "hunter2") || strings.Contains(got, "secret") && !strings.Contains(tt.in, "secret") {
			t.Errorf("RedactArgv(%q) = %q leaks", tt.in, got)
		}
		if got != tt.want {
			t.Errorf("RedactArgv(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRedactShellStrings: secrets inside one sh -c argument.
func TestRedactShellStrings(t *testing.T) {
	for _, in := range []string{
		"PGPASSWORD=hunter2 pg_dump -Fc shop",
		"MYSQL_PWD='hunter2' mysqldump shop",
		"mysqldump --single-transaction -phunter2 shop | cat",
		"mariadb-dump -p hunter2 shop",
		"tool --password hunter2",
		"tool --password=hunter2",
		"mongodump --uri=mongodb://u:hunter2@h/db",
	} {
		got := RedactArgv([]string{"sh", "-c", in})[2]
		if strings.Contains(got, "hunter2") {
			t.Errorf("sh -c %q: redacted to %q, still has the password", in, got)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCommandReaderExitStatus(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		wantOut string
		wantErr bool
	}{
		{"ok", []string{"sh", "-c", "printf hello"}, "hello", false},
		{"exit 1 after output", []string{"sh", "-c", "printf hello; exit 1"}, "hello", true},
		{"killed", []string{"sh", "-c", "printf x; kill -9 $$"}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := startCommand(context.Background(), tt.argv, nil, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(r)
			if string(out) != tt.wantOut {
				t.Errorf("out = %q", out)
			}
			if tt.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrDumpFailed)) {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	if _, err := startCommand(context.Background(), []string{"/nonexistent/pg_dump"}, nil, quietLog()); err == nil {
		t.Error("a missing binary started")
	}
}

// TestCommandReaderCloseKillsGroup: Close stops a dump still running,
// including the children of sh -c.
func TestCommandReaderCloseKillsGroup(t *testing.T) {
	r, err := startCommand(context.Background(), []string{"sh", "-c", "sleep 60 & sleep 60; wait"}, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Close of a killed dump returned nil")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the dump and its children")
	}
}

// TestCommandReaderHeldPipes: a child that keeps the dump's stdout open
// after the dump exited, or survives the kill of the process group, cannot
// hold the job: the stream is cut pipeGrace later and the job fails. A
// child holding only stderr costs nothing.
func TestCommandReaderHeldPipes(t *testing.T) {
	old := pipeGrace
	pipeGrace = 300 * time.Millisecond
	t.Cleanup(func() { pipeGrace = old })
	tests := []struct {
		name    string
		argv    []string
		timeout time.Duration
		wantErr string
	}{
		{"child holds stdout", []string{"sh", "-c", "sleep 30 & printf data"}, 0, "output stayed open"},
		{"child holds stderr", []string{"sh", "-c", "sleep 30 >/dev/null & printf data"}, 0, ""},
		{"setsid child survives the timeout", []string{"sh", "-c", "setsid sleep 30 & sleep 60"}, 500 * time.Millisecond, "dump failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			r, err := startCommand(ctx, tt.argv, nil, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(r)
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the held pipe hung the read")
			}
			r.Close()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrDumpFailed)):
				t.Fatalf("err = %v, want ErrDumpFailed with %q", err, tt.wantErr)
			}
		})
	}
}

// TestCommandReaderDeadlineCutsTrickle: a child that left the dump's
// process group and session (setsid) and keeps writing a byte a second is
// cut when the deadline passes, and killed: whether the dump itself is still
// running or already exited 0. pipeGrace stays at its default: the cut at
// the deadline does not wait for it.
func TestCommandReaderDeadlineCutsTrickle(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	trickle := `echo $$ > "$PIDFILE"; while :; do printf x; sleep 1; done`
	tests := []struct {
		name string
		argv []string
	}{
		// sh waits; its setsid child trickles. Killing the group kills sh.
		{"dump still running", []string{"sh", "-c", `setsid sh -c '` + trickle + `' & sleep 600`}},
		// setsid -f forks and exits 0 at once: the dump "ended", and its
		// orphan keeps the pipe open and trickling.
		{"dump exited 0", []string{"setsid", "-f", "sh", "-c", trickle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			env := append(os.Environ(), "PIDFILE="+pidfile)
			const timeout = 3 * time.Second
			ctx, cancel := context.WithTimeoutCause(context.Background(), timeout, errors.New("job timeout reached"))
			defer cancel()
			start := time.Now()
			r, err := startCommand(ctx, tt.argv, env, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			done := make(chan error, 1)
			var got atomic.Int64
			go func() {
				buf := make([]byte, 16)
				for {
					n, err := r.Read(buf)
					got.Add(int64(n))
					if err != nil {
						done <- err
						return
					}
				}
			}()
			select {
			case err = <-done:
			case <-time.After(timeout + 30*time.Second):
				// A guard, not a measurement: without the cut the
				// trickle never ends.
				t.Fatalf("still reading %s after the deadline (%d bytes trickled)", 30*time.Second, got.Load())
			}
			took := time.Since(start)
			if !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), "cut at the deadline") || !strings.Contains(err.Error(), "job timeout reached") {
				t.Fatalf("err = %v, want ErrDumpFailed cut at the deadline with the cause", err)
			}
			if got.Load() == 0 {
				t.Fatal("the child never trickled: the test did not exercise a writer")
			}
			// No wall-clock bound on the cut (it flaked on a loaded
			// 2-core machine): "cut at the deadline" with the deadline's
			// cause says the deadline ended the stream, not pipeGrace
			// (whose cut says "stayed open") nor the child; the select
			// above guards that the read ends at all.
			b, err := os.ReadFile(pidfile)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			for i := 0; ; i++ {
				if syscall.Kill(pid, 0) != nil || processState(pid) == "Z" {
					break
				}
				if i == 50 {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Fatalf("the setsid child %d still runs after the cut", pid)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("cut after %s, %d bytes trickled", took.Round(time.Millisecond), got.Load())
		})
	}
}

// processState is the state letter of /proc/PID/stat ("Z" for a zombie).
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

// A failed dump's error carries its last stderr line, the reason a person
// reads in the one-line summary; a line without a final newline counts.
func TestCommandReaderLastStderrLine(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{`echo "pg_dump: error: connection to server failed" >&2; echo 'pg_dump: error: database "nosuchdb" does not exist' >&2; echo >&2; exit 1`, `"pg_dump: error: database \"nosuchdb\" does not exist"`},
		{`printf 'no newline at the end' >&2; exit 2`, `exit status 2: "no newline at the end"`},
	} {
		r, err := startCommand(context.Background(), []string{"sh", "-c", tt.script}, nil, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		if err == nil || !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want it to hold %s", err, tt.want)
		}
	}
	r, err := startCommand(context.Background(), []string{"sh", "-c", "echo fine >&2"}, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("a dump that succeeds with stderr: %v", err)
	}
}

// TestCommandReaderShutdownSaysShutdown: a dump cut because the agent is
// shutting down (SIGTERM, ctrl-C) says so, not "at the deadline": no
// timeout was reached, and the message must not send the user to raise one.
func TestCommandReaderShutdownSaysShutdown(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	r, err := startCommand(ctx, []string{"sh", "-c", "printf x; sleep 600"}, os.Environ(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	cancel(fmt.Errorf("%w: interrupt received", ErrShutdown))
	_, err = io.ReadAll(r)
	if !errors.Is(err, ErrDumpFailed) || !strings.Contains(err.Error(), "cut at shutdown") || strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want ErrDumpFailed cut at shutdown", err)
	}
}
