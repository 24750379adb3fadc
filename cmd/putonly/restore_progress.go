package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/internal/cli"
)

// startRestoreProgress prints "what: bytes, rate, elapsed" every second on
// a terminal (mode auto), or always, and returns the function that stops
// it and clears the line.
func startRestoreProgress(what string, n *atomic.Int64, mode string, w io.Writer) func() {
	return cli.ProgressLine(mode, w, func(el time.Duration) string {
		return fmt.Sprintf("%s: %s restored, %s, %s", what, human(n.Load()), rate(n.Load(), el), el.Round(time.Second))
	})
}
