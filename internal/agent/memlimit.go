package agent

import (
	"os"
	"runtime/debug"

	"github.com/putonly/putonly/backup"
)

// SetMemoryLimit gives the Go runtime a soft memory limit sized to the jobs'
// upload buffers, unless GOMEMLIMIT is set. Without it the collector lets
// garbage grow to twice the live heap (GOGC=100), so peak RSS drifts
// upwards the longer a dump runs; with it, peak RSS stays flat whatever the
// dump size. The limit is soft: the runtime exceeds it rather than fail.
func SetMemoryLimit(jobs []*backup.Job) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	var need int64
	for _, j := range jobs {
		if n := backup.MemoryEstimate(j); n > need {
			need = n
		}
	}
	if need > 0 {
		debug.SetMemoryLimit(need)
	}
}
