package agent

import (
	"os"
	"runtime/debug"

	"github.com/putonly/putonly/backup"
)

// SetMemoryLimit gives the Go runtime a soft memory limit sized to the
// jobs (backup.MemoryLimit), unless GOMEMLIMIT is set. Without it the
// collector lets garbage grow to twice the live heap (GOGC=100), so peak RSS
// drifts upwards the longer a dump runs; with it, peak RSS stays under the
// README's bound whatever the dump. The limit is soft: the runtime exceeds
// it rather than fail.
func SetMemoryLimit(jobs []*backup.Job) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if n := backup.MemoryLimit(jobs); n > 0 {
		debug.SetMemoryLimit(n)
	}
}
