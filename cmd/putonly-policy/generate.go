package main

import (
	"context"
	"errors"
	"io"
)

// runGenerate implements 'putonly-policy generate'. Owned by the generate issue.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("generate: not implemented yet")
}
