// Package cli holds what the putonly and putonly-policy commands share:
// how an error becomes an exit status and a message.
package cli

import (
	"errors"
	"fmt"
	"io"
)

// ExitError carries a process exit status out of a subcommand. Err may be
// nil when the command has already printed why (a verdict, a usage text).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode prints err as "prog: message" on stderr and returns the exit
// status: an ExitError's code, 2 for any other error (bad input or usage),
// 0 for nil.
func ExitCode(prog string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	return 2
}
