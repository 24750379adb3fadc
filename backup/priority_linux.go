package backup

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startAt starts cmd at priority p. Nice values and I/O priorities belong
// to threads on Linux and a child inherits both from the thread that forks
// it (setpriority(2) NOTES: "the nice value is a per-thread attribute";
// ioprio_set(2): "the I/O priority is inherited across fork"), so the
// priority is set on a locked thread of its own that then starts cmd: the
// dump and everything it starts run at p from their first instruction,
// with no window in which a child already forked escapes it. The thread
// then takes back its own priority before the Go scheduler may use it
// again (see below), so no goroutine of putonly runs at the dump's.
func startAt(cmd *exec.Cmd, p Priority) error {
	if p.isZero() {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		nice, nerr := unix.Getpriority(unix.PRIO_PROCESS, tid) // the kernel's 20-nice form
		io, _, ierr := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
		if err := setPriority(tid, p); err != nil {
			errc <- err
		} else {
			errc <- cmd.Start()
		}
		// Give the thread back only if it got its own priority back
		// (lowering a nice value needs CAP_SYS_NICE); otherwise the
		// goroutine ends locked and the runtime ends the thread (or, on
		// the main thread, parks it for good), so no goroutine ever runs
		// at the dump's priority.
		if nerr == nil && ierr == 0 &&
			unix.Setpriority(unix.PRIO_PROCESS, tid, 20-nice) == nil &&
			ioprioSet(tid, int(io)) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// setPriority sets the nice value and I/O priority of thread tid.
func setPriority(tid int, p Priority) error {
	if p.Nice != nil {
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, *p.Nice); err != nil {
			return fmt.Errorf("nice %d: %w (a negative nice, a higher priority, needs root or CAP_SYS_NICE)", *p.Nice, err)
		}
	}
	if p.IOClass != 0 {
		if err := ioprioSet(tid, p.IOClass<<ioprioClassShift|p.IOLevel); err != nil {
			return fmt.Errorf("ionice: %w (the realtime class needs root or CAP_SYS_ADMIN)", err)
		}
	}
	return nil
}

func ioprioSet(tid, prio int) error {
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(prio)); e != 0 {
		return e
	}
	return nil
}
