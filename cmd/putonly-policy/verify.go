package main

import (
	"context"
	"errors"
	"io"
)

// runVerify implements 'putonly-policy verify'. Owned by the verify issue.
func runVerify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("verify: not implemented yet")
}
