//go:build !linux

package backup

import (
	"errors"
	"os/exec"
)

// startAt starts cmd. nice and ionice are thread attributes the agent sets
// through Linux's setpriority(2) and ioprio_set(2) (priority_linux.go);
// elsewhere a job that asks for them fails rather than run unthrottled.
func startAt(cmd *exec.Cmd, p Priority) error {
	if p.isZero() {
		return cmd.Start()
	}
	return errors.New("nice and ionice are supported on Linux only: remove them from the job")
}
