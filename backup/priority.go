package backup

import (
	"errors"
	"strconv"
	"strings"
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

// priority is the job's Priority from its merged settings.
func (s Settings) priority() Priority {
	p := Priority{Nice: s.Nice}
	if s.IONice != "" {
		p.IOClass, p.IOLevel, _ = parseIONice(s.IONice) // validated
	}
	return p
}
