package backup

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Priority is the CPU and I/O priority a dump runs at (the nice and ionice
// settings), so a backup on a busy database host yields to the database.
// The zero value leaves the dump at putonly's own priority.
type Priority struct {
	Nice    *int // -20 (first) to 19 (last); nil: putonly's own
	IOClass int  // ioprio_set(2) class: 1 realtime, 2 best-effort, 3 idle; 0: putonly's own
	IOLevel int  // 0 (first) to 7 (last), for realtime and best-effort
}

// I/O scheduling classes and their names, as ionice(1) and ioprio_set(2)
// call them (linux/ioprio.h).
const (
	ioprioClassRT   = 1
	ioprioClassBE   = 2
	ioprioClassIdle = 3

	ioprioWhoProcess = 1  // IOPRIO_WHO_PROCESS: one thread, by id
	ioprioClassShift = 13 // IOPRIO_CLASS_SHIFT
)

var ioClasses = map[string]int{"realtime": ioprioClassRT, "best-effort": ioprioClassBE, "idle": ioprioClassIdle}

// parseIONice reads the ionice setting: idle, best-effort[:LEVEL] or
// realtime[:LEVEL] with LEVEL 0 to 7 (default 4, the kernel's for
// best-effort).
func parseIONice(s string) (class, level int, err error) {
	name, lv, hasLevel := strings.Cut(s, ":")
	class, ok := ioClasses[name]
	if !ok {
		return 0, 0, errors.New("unknown I/O class: use idle, best-effort[:0-7] or realtime[:0-7]")
	}
	level = 4
	if hasLevel {
		if class == ioprioClassIdle {
			return 0, 0, errors.New("the idle class has no level")
		}
		if level, err = strconv.Atoi(lv); err != nil || level < 0 || level > 7 {
			return 0, 0, &rangeError{"level 0 to 7"}
		}
	}
	return class, level, nil
}

// checkIONice is the table's check of the ionice setting.
func checkIONice(p any) error {
	_, _, err := parseIONice(*p.(*string))
	return err
}

func (p Priority) isZero() bool { return p.Nice == nil && p.IOClass == 0 }

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

// priority is the job's Priority from its merged settings.
func (s Settings) priority() Priority {
	p := Priority{Nice: s.Nice}
	if s.IONice != "" {
		p.IOClass, p.IOLevel, _ = parseIONice(s.IONice) // validated
	}
	return p
}
