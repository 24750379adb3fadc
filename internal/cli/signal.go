package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// NotifyShutdown is the one owner of SIGTERM and SIGINT. The first cancels
// the returned context with a cause wrapping stop (the caller's shutdown
// sentinel), so that what runs can drain and tell a shutdown from a
// failure; a second one exits 130 at once, saying so as prog. The channel
// is registered before anything runs, so no signal falls into a gap
// between the two.
func NotifyShutdown(prog string, stop error) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("%w: %v received", stop, s))
		<-sigs
		fmt.Fprintf(os.Stderr, "%s: second signal, exiting now\n", prog)
		os.Exit(130)
	}()
	return ctx
}
