package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal says w is a terminal: /dev/null and other character devices
// are not (a mode check would say they are).
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ProgressLine redraws line(elapsed) every second on a terminal (mode
// auto), or always, until the returned function, which clears the line and
// may be called more than once (a defer and the normal path). Mode never,
// or auto off a terminal, draws nothing.
func ProgressLine(mode string, w io.Writer, line func(time.Duration) string) func() {
	if !(mode == "always" || (mode == "auto" && IsTerminal(w))) {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprint(w, "\r\033[K"+line(time.Since(start)))
			}
		}
	}()
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
