package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrDumpFailed is wrapped by every error that comes from the dump command
// itself (non-zero exit, killed, timed out), as opposed to the pipeline.
var ErrDumpFailed = errors.New("dump failed")

// commandReader is the stdout of a running dump command. Read returns io.EOF
// only after the command exited with status 0; a non-zero exit, a signal or a
// timeout turns the end of the stream into an error wrapping ErrDumpFailed, so
// a consumer that completes an upload only on io.EOF never completes a
// truncated dump. Close kills the command if it is still running.
//
// The command is waited for in its own goroutine, not at the end of the
// stream: a child that keeps stdout open after the dump exited (sh -c 'x &
// pg_dump ...') or survives a kill of the process group (setsid) must not
// hold the job past its timeout. Once the command has exited, the stream
// gets pipeGrace to reach its end; then it is closed and the job fails. When
// ctx is done (the job's deadline), the stream is cut at once, whether or not
// something still writes to it, and every process holding it is killed: the
// group, and children that left it (setsid) but kept the pipe.
type commandReader struct {
	cmd    *exec.Cmd
	stdout *os.File
	argv0  string
	ctx    context.Context
	grace  time.Duration // pipeGrace when started
	stderr *lineLogger   // the dump's stderr; its last line goes into the error

	exited    chan struct{} // closed when cmd.Wait returned
	waitErr   error         // valid after exited
	closeMu   sync.Once
	closeOnce sync.Once
	closed    chan struct{}          // closed by Close
	killed    atomic.Bool            // the stream was cut: stdout held open too long, or the deadline passed
	cutWhy    atomic.Pointer[string] // why the stream was cut
	pipeIno   uint64                 // inode of the stdout pipe, to find the processes holding it
	eof       atomic.Bool            // the stream reached its end
	// readingSince is when the Read in progress started (unix ns), 0 when
	// none is.
	readingSince atomic.Int64
}

// pipeGrace is how long the stream may go on after the command exited (or
// was killed): what it wrote is already in the pipe, so a clean end comes at
// once unless a child still holds the pipe open.
var pipeGrace = 5 * time.Second

// startCommand starts argv with stdout piped to the returned reader and each
// stderr line logged at warn level. The command is killed when ctx is done.
func startCommand(ctx context.Context, argv []string, env []string, log *slog.Logger) (*commandReader, error) {
	return startDump(ctx, argv, env, Priority{}, log)
}

// startDump is startCommand at priority prio (priority.go).
func startDump(ctx context.Context, argv []string, env []string, prio Priority, log *slog.Logger) (*commandReader, error) {
	if len(argv) == 0 {
		return nil, errors.New("start dump: empty command")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start dump %s: %w", argv[0], err)
	}
	growPipe(pr)
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = env
	}
	cmd.Stdout = pw
	// exec copies stderr through its own goroutine; WaitDelay bounds that
	// copy when a child keeps stderr open.
	stderr := &lineLogger{log: log, argv0: argv[0]}
	cmd.Stderr = stderr
	cmd.WaitDelay = pipeGrace
	// Kill the whole process group: sh -c 'pg_dump ...' must not leave the
	// dump running when the shell is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startAt(cmd, prio); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start dump %s: %w", argv[0], err)
	}
	pw.Close() // the child has its copy; EOF comes when every writer closed
	r := &commandReader{cmd: cmd, stdout: pr, argv0: argv[0], ctx: ctx, stderr: stderr, exited: make(chan struct{}), closed: make(chan struct{}), grace: pipeGrace}
	var st unix.Stat_t
	if rc, err := pr.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if unix.Fstat(int(fd), &st) == nil {
				r.pipeIno = st.Ino
			}
		})
	}
	go func() {
		err := cmd.Wait()
		if errors.Is(err, exec.ErrWaitDelay) {
			// The dump exited 0 but a child of it kept stderr open:
			// nothing of the dump is lost (stdout is read apart).
			log.Warn("dump exited, but a child process kept its stderr open", "cmd", argv[0])
			err = nil
		}
		r.waitErr = err
		close(r.exited)
	}()
	go r.watch()
	return r, nil
}

// watch cuts the stream and kills every process holding it when ctx is
// done: the job failed at its deadline, so nothing still in the pipe
// matters, and a child that left the process group (setsid) and keeps
// writing, even a byte a second, must not hold the job. Once the command has
// exited, a Read that stays blocked for pipeGrace means the pipe is empty yet
// still open: a child holds it. The stream is then cut and the job fails,
// rather than waiting for the child. A slow consumer is not cut: it is not
// blocked in Read.
func (r *commandReader) watch() {
	select {
	case <-r.exited:
	case <-r.ctx.Done():
		r.cut(cutReason(r.ctx))
		return
	case <-r.closed:
		return
	}
	ended := time.Now().UnixNano()
	t := time.NewTicker(r.grace / 10)
	defer t.Stop()
	for {
		select {
		case <-r.closed:
			return
		case <-r.ctx.Done():
			if !r.eof.Load() {
				r.cut(cutReason(r.ctx))
			}
			return
		case <-t.C:
		}
		if r.eof.Load() {
			return
		}
		since := r.readingSince.Load()
		if since == 0 {
			continue
		}
		if time.Since(time.Unix(0, max(since, ended))) > r.grace {
			r.cut(fmt.Sprintf("its output stayed open %s after it ended (a child process holds stdout)", r.grace))
			return
		}
	}
}

// cut ends the stream with why: it kills the group and every other process
// holding the pipe, then closes putonly's end, so a blocked Read returns and
// a writer left behind gets SIGPIPE.
// cutReason says why ctx ended the stream: a shutdown (SIGTERM or ctrl-C,
// whose cause wraps [ErrShutdown]) is not a deadline, and saying "deadline"
// there sends the user to raise a timeout that was never reached.
func cutReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), ErrShutdown) {
		return "its output was cut at shutdown"
	}
	return "its output was cut at the deadline"
}

func (r *commandReader) cut(why string) {
	r.cutWhy.CompareAndSwap(nil, &why)
	r.killed.Store(true)
	r.kill()
	r.closeMu.Do(func() { r.stdout.Close() })
}

// kill sends SIGKILL to the dump's process group and to any process that
// still holds its stdout pipe: a child that called setsid is in neither the
// group nor the session, but it cannot write the dump without the pipe.
func (r *commandReader) kill() {
	if p := r.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
	for _, pid := range pipeHolders(r.pipeIno) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// pipeHolders lists the processes other than putonly that have the pipe
// with inode ino open, from /proc/PID/fd (Linux; empty elsewhere). Both ends
// of a pipe share the inode, and putonly holds the read end open while it
// looks, so the inode cannot have been reused by another pipe.
func pipeHolders(ino uint64) []int {
	if ino == 0 {
		return nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := fmt.Sprintf("pipe:[%d]", ino)
	self := os.Getpid()
	var out []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		dir := "/proc/" + p.Name() + "/fd"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to look at
		}
		for _, fd := range fds {
			if l, err := os.Readlink(dir + "/" + fd.Name()); err == nil && l == want {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

func (r *commandReader) Read(p []byte) (int, error) {
	r.readingSince.Store(time.Now().UnixNano())
	n, err := r.stdout.Read(p)
	r.readingSince.Store(0)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		r.eof.Store(true)
	}
	if r.killed.Load() {
		return n, r.fail(errors.New(*r.cutWhy.Load()))
	}
	if err != io.EOF {
		if werr := r.result(); werr != nil {
			return n, werr
		}
		return n, fmt.Errorf("read dump %s: %w", r.argv0, err)
	}
	if werr := r.result(); werr != nil {
		return n, werr
	}
	return n, io.EOF
}

// result waits for the command (its stream has ended; the job's timeout
// bounds the wait) and says how it ended.
func (r *commandReader) result() error {
	select {
	case <-r.exited:
	case <-r.ctx.Done():
		r.kill()
		<-r.exited
	}
	if r.waitErr == nil {
		return nil
	}
	return r.fail(r.waitErr)
}

// fail is the dump's error: how it ended and, when it said why, its last
// stderr line ('database "shop" does not exist'), so the one-line summary
// cron mails names the dump's own reason.
func (r *commandReader) fail(err error) error {
	why := ""
	if r.stderr != nil {
		if l := r.stderr.lastLine(); l != "" {
			why = fmt.Sprintf(": %q", l)
		}
	}
	if r.ctx.Err() != nil {
		return fmt.Errorf("%w: %s: %w (%v)%s", ErrDumpFailed, r.argv0, context.Cause(r.ctx), err, why)
	}
	return fmt.Errorf("%w: %s: %v%s", ErrDumpFailed, r.argv0, err, why)
}

// Close kills the command if it has not exited, reaps it, and returns how it
// ended (nil if it had already succeeded).
func (r *commandReader) Close() error {
	// Kill the group even when the dump has exited: a child it left behind
	// must not outlive the job.
	r.kill()
	r.closeMu.Do(func() { r.stdout.Close() })
	r.closeOnce.Do(func() { close(r.closed) })
	<-r.exited
	if r.waitErr != nil {
		return r.fail(r.waitErr)
	}
	return nil
}

// lineLogger logs a dump's stderr line by line at warn level, and keeps
// the last line that is not blank.
type lineLogger struct {
	log   *slog.Logger
	argv0 string
	buf   []byte

	mu   sync.Mutex
	last string
}

// lastLine is the last non-blank line the dump wrote to stderr (a final
// line without a newline too), at most 300 bytes.
func (l *lineLogger) lastLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.last
	if t := strings.TrimSpace(string(l.buf)); t != "" {
		s = t
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log.Warn("dump stderr", "cmd", l.argv0, "line", string(l.buf[:i]))
		if t := strings.TrimSpace(string(l.buf[:i])); t != "" {
			l.last = t
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a very long line: log it in pieces
		l.log.Warn("dump stderr", "cmd", l.argv0, "line", string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

// growPipe asks Linux for a 1 MiB pipe between the dump and putonly (the
// default is 64 KiB). Best effort.
func growPipe(f *os.File) {
	const fSetPipeSz = 1031 // F_SETPIPE_SZ, linux/fcntl.h
	// Through SyscallConn, not Fd: Fd would put the pipe in blocking mode,
	// and a blocked Read could then not be cut by Close.
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, fSetPipeSz, 1<<20) })
	}
}

// tailCheck wraps a dump whose last bytes say whether it is complete: at the
// end of the stream, the last bytes must end with want, or the dump failed.
// sqlite3 .dump exits 0 on a corrupt database, writing what it could read
// and ending with "ROLLBACK; -- due to errors" instead of "COMMIT;" — a
// backup that restores to an empty database.
type tailCheck struct {
	r    io.Reader
	want []byte
	tail []byte
	what string
}

func (t *tailCheck) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.tail = append(t.tail, p[:n]...)
		if k := len(t.tail) - 256; k > 0 {
			t.tail = append(t.tail[:0], t.tail[k:]...)
		}
	}
	if err == io.EOF && !bytes.HasSuffix(bytes.TrimRight(t.tail, " \n"), t.want) {
		last := strings.TrimSpace(string(t.tail))
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return n, fmt.Errorf("%w: %s: the dump does not end with %q but with %q", ErrDumpFailed, t.what, t.want, last)
	}
	return n, err
}

// RedactArgv returns argv with values that look like passwords replaced, for
// logs. A dump command should take its password from the environment or a
// file (PGPASSFILE, ~/.my.cnf), but if one is on the command line it must not
// reach the log.
func RedactArgv(argv []string) []string {
	out := make([]string, len(argv))
	redactNext := false
	pIsPassword := len(argv) > 0 && passwordDashP(filepath.Base(argv[0]))
	for i, a := range argv {
		switch {
		case redactNext:
			out[i] = "REDACTED"
			redactNext = false
		case a == "--password" || (a == "-p" && pIsPassword):
			out[i] = a
			redactNext = true
		case strings.HasPrefix(a, "-p") && len(a) > 2 && pIsPassword:
			out[i] = "-pREDACTED"
		default:
			out[i] = redactString(a)
		}
	}
	return out
}

// passwordDashP says whether -p is the password option of a tool (it is the
// port of pg_dump).
func passwordDashP(tool string) bool {
	switch tool {
	case "mysqldump", "mariadb-dump", "mysql", "mariadb", "mongodump", "mongosh", "mongo":
		return true
	}
	return false
}

var (
	// key=value secrets: --password=x, libpq conninfo password=x, URI
	// query ?password=x, PGPASSWORD=x and MYSQL_PWD=x in a sh -c string.
	secretKV = regexp.MustCompile(`(?i)(\b|--)(password|passwd|pwd|pgpassword|mysql_pwd|aws_secret_access_key|secret|token)=("[^"]*"|'[^']*'|[^\s&;'"]+)`)
	// scheme://user:password@host
	secretURL = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):[^@\s/]*@`)
	// --password VALUE inside a shell string
	secretFlag = regexp.MustCompile(`(--password\s+)(\S+)`)
	// -pVALUE of the MySQL and MongoDB tools inside a shell string
	secretDashP = regexp.MustCompile(`\b((?:mysqldump|mariadb-dump|mysql|mariadb|mongodump)\b[^|;&]*?\s)-p(\s*)(\S+)`)
)

// redactString hides secrets inside one argument, which may be a whole
// shell command (sh -c '...').
func redactString(a string) string {
	a = secretKV.ReplaceAllString(a, "$1$2=REDACTED")
	a = secretURL.ReplaceAllString(a, "$1:REDACTED@")
	a = secretFlag.ReplaceAllString(a, "${1}REDACTED")
	a = secretDashP.ReplaceAllString(a, "$1-p${2}REDACTED")
	return a
}
