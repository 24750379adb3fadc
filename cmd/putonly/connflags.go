package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/restore"
)

// connFlags are the connection flags of the commands that read a bucket
// (backup.ConnFlags); credentials come from the standard AWS chain, never
// from a flag.
type connFlags = backup.ConnFlags

// stringList is a repeatable flag (internal/cli).
type stringList = cli.StringList

func usageError(err error, hint string) error { return &exitError{Code: 2, Err: cli.Hint(err, hint)} }

// parseFlags parses args, which must hold flags only; --help prints the
// usage on stdout and returns done. Bad flags are exit status 2 (the flag
// package has printed why).
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (done bool, err error) {
	_, done, err = cli.ParseArgs(fs, usage, args, 0, stdout, stderr)
	return done, err
}

// failure is a failed operation: exit status 1, with a hint for the errors
// a user can act on.
func failure(err error) error {
	// Refused, no such bucket, wrong credentials...: the cause and its fix.
	c := s3err.Classify(err, s3err.Where{})
	if s3err.Setup(c) {
		return &exitError{Code: 1, Err: c}
	}
	var hint string
	switch {
	case errors.Is(err, restore.ErrWrongIdentity):
		hint = "use the identity whose recipient the job encrypts to (age-keygen -y IDENTITY prints it; the object metadata putonly-recipient-types names its type)"
	case errors.Is(err, restore.ErrCorrupt):
		hint = "the object is damaged or incomplete: restore an older backup (putonly list)"
	case errors.Is(err, restore.ErrMismatch):
		hint = "the restored data is not what the dump produced: restore an older backup (putonly list)"
	case errors.Is(c, s3err.ErrAccessDenied):
		hint = "these credentials cannot read the bucket: restore with read credentials, never with the backup key"
	}
	if hint != "" && !strings.Contains(err.Error(), "\thint:") {
		err = fmt.Errorf("%w\n\thint: %s", err, hint)
	}
	return &exitError{Code: 1, Err: err}
}
