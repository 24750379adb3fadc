package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrDumpFailed is wrapped by every error that comes from the dump command
// itself (non-zero exit, killed, timed out), as opposed to the pipeline.
var ErrDumpFailed = errors.New("dump failed")

// commandReader is the stdout of a running dump command. Read returns io.EOF
// only after the command exited with status 0; a non-zero exit, a signal or a
// timeout turns the end of the stream into an error wrapping ErrDumpFailed, so
// a consumer that completes an upload only on io.EOF never completes a
// truncated dump. Close kills the command if it is still running.
type commandReader struct {
	cmd     *exec.Cmd
	stdout  io.ReadCloser
	argv0   string
	stderrW sync.WaitGroup

	once    sync.Once
	waitErr error
	ctx     context.Context
}

// startCommand starts argv with stdout piped to the returned reader and each
// stderr line logged at warn level. The command is killed when ctx is done.
func startCommand(ctx context.Context, argv []string, env []string, log *slog.Logger) (*commandReader, error) {
	if len(argv) == 0 {
		return nil, errors.New("start dump: empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = env
	}
	// Kill the whole process group: sh -c 'pg_dump ...' must not leave the
	// dump running when the shell is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dump %s: %w", argv[0], err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start dump %s: %w", argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dump %s: %w", argv[0], err)
	}
	r := &commandReader{cmd: cmd, stdout: stdout, argv0: argv[0], ctx: ctx}
	r.stderrW.Add(1)
	go func() {
		defer r.stderrW.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			log.Warn("dump stderr", "cmd", argv[0], "line", sc.Text())
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	return r, nil
}

func (r *commandReader) Read(p []byte) (int, error) {
	n, err := r.stdout.Read(p)
	if err == io.EOF {
		if werr := r.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// wait reaps the command once and reports how it ended.
func (r *commandReader) wait() error {
	r.once.Do(func() {
		r.stderrW.Wait()
		err := r.cmd.Wait()
		switch {
		case err == nil:
		case r.ctx.Err() != nil:
			r.waitErr = fmt.Errorf("%w: %s: %v (%v)", ErrDumpFailed, r.argv0, context.Cause(r.ctx), err)
		default:
			r.waitErr = fmt.Errorf("%w: %s: %v", ErrDumpFailed, r.argv0, err)
		}
	})
	return r.waitErr
}

// Close kills the command if it has not exited and reaps it. It returns nil
// if the command had already succeeded.
func (r *commandReader) Close() error {
	if r.cmd.ProcessState == nil && r.cmd.Process != nil {
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	}
	_ = r.stdout.Close()
	return r.wait()
}

// RedactArgv returns argv with values that look like passwords replaced, for
// logs. A dump command should take its password from the environment or a
// file (PGPASSFILE, ~/.my.cnf), but if one is on the command line it must not
// reach the log.
func RedactArgv(argv []string) []string {
	out := make([]string, len(argv))
	redactNext := false
	for i, a := range argv {
		switch {
		case redactNext:
			out[i] = "REDACTED"
			redactNext = false
		case a == "--password" || a == "-p" && i > 0 && isMySQLDump(argv[0]):
			out[i] = a
			redactNext = a == "--password"
		case strings.HasPrefix(a, "--password="):
			out[i] = "--password=REDACTED"
		case strings.HasPrefix(a, "-p") && len(a) > 2 && isMySQLDump(argv[0]):
			out[i] = "-pREDACTED"
		case strings.Contains(a, "://") && strings.Contains(a, "@"):
			out[i] = redactURL(a)
		default:
			out[i] = a
		}
	}
	return out
}

func isMySQLDump(argv0 string) bool {
	return strings.HasSuffix(argv0, "mysqldump") || strings.HasSuffix(argv0, "mariadb-dump")
}

// redactURL hides the password of scheme://user:password@host URIs.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return s
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if !hasPass {
		return s
	}
	return scheme + "://" + user + ":REDACTED@" + host
}
