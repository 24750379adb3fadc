package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// startRestoreProgress prints "what: bytes, rate, elapsed" every second on
// a terminal (mode auto), or always, and returns the function that stops
// it and clears the line.
func startRestoreProgress(what string, n *atomic.Int64, mode string, w io.Writer) func() {
	if !(mode == "always" || (mode == "auto" && isTerminal(w))) {
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
				el := time.Since(start)
				fmt.Fprintf(w, "\r\033[K%s: %s restored, %s, %s", what, human(n.Load()), rate(n.Load(), el), el.Round(time.Second))
			}
		}
	}()
	// The stop function may be called more than once (a defer and the
	// normal path).
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
