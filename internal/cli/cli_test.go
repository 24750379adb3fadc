package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestExitCode is the exit-status contract of the one switch: 2 only for
// usage and input, a verdict's own status, 130 for an interrupted run, 1
// for every other failure (a network fault must not read as "fix the
// command line").
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"nil", nil, 0, ""},
		{"verdict", &ExitError{Code: 1}, 1, ""},
		{"verdict with message", &ExitError{Code: 3, Err: errors.New("why")}, 3, "prog: why\n"},
		{"usage", Usage(errors.New("--bucket is required")), 2, "prog: --bucket is required\n"},
		{"usage wrapped", fmt.Errorf("verify: %w", Usage(errors.New("bad policy"))), 2, "prog: verify: bad policy\n"},
		{"usage printed", &UsageError{}, 2, ""},
		{"network", errors.New("dial tcp 127.0.0.1:1: connection refused"), 1, "prog: dial tcp 127.0.0.1:1: connection refused\n"},
		{"interrupted", fmt.Errorf("get user: %w", context.Canceled), 130, "prog: get user: context canceled\n"},
		{"deadline", fmt.Errorf("get user: %w", context.DeadlineExceeded), 1, "prog: get user: context deadline exceeded\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if code := ExitCode("prog", tc.err, &b); code != tc.code || b.String() != tc.stderr {
				t.Errorf("ExitCode(%v) = %d, stderr %q; want %d, %q", tc.err, code, b.String(), tc.code, tc.stderr)
			}
		})
	}
}
