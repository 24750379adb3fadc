package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDaemonRunning means another daemon holds the lock of the same state
// file: two daemons would run every job twice.
var ErrDaemonRunning = errors.New("another putonly daemon is running with this state file")

// daemonLockPath is the daemon's lock next to its state file: it holds the
// pid, and an exclusive flock for as long as the daemon lives (the kernel
// drops it when the process ends, however it ends).
func daemonLockPath(stateFile string) string { return stateFile + ".daemon" }

// LockDaemon takes the daemon lock of stateFile and writes the pid into it;
// release drops it. It fails with ErrDaemonRunning while another daemon
// holds it.
func LockDaemon(stateFile string) (release func(), err error) {
	path := daemonLockPath(stateFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("daemon lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := readPid(path)
			return nil, fmt.Errorf("%w (pid %d, lock %s)", ErrDaemonRunning, pid, path)
		}
		return nil, fmt.Errorf("daemon lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0)
		f.Close() // drops the flock
	}, nil
}

// DaemonStatus says whether a daemon holds the lock of stateFile, and its
// pid (0 when none ran, or it stopped cleanly).
func DaemonStatus(stateFile string) (pid int, running bool) {
	path := daemonLockPath(stateFile)
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	pid, _ = readPid(path)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return pid, errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return pid, false
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
