// Package cli holds what the putonly and putonly-policy commands share:
// how an error becomes an exit status and a message.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
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

// UsageError is an error of usage or of input: flags that do not parse or
// do not go together, a config or policy document that cannot be read or
// is not valid. It is the one kind of error that exits 2; Err may be nil
// when the command has already printed why (the usage text).
type UsageError struct{ Err error }

func (e *UsageError) Error() string {
	if e.Err == nil {
		return "usage"
	}
	return e.Err.Error()
}

func (e *UsageError) Unwrap() error { return e.Err }

// Usage marks err as a usage or input error (exit 2).
func Usage(err error) error { return &UsageError{Err: err} }

// ExitCode is the one place an error becomes an exit status, printed as
// "prog: message" on stderr: 0 for nil; an ExitError's own code (a
// verdict the command has printed); 2 for a UsageError; 130 for a run cut
// short by SIGINT or SIGTERM (the signal context's cancellation); 1 for
// any other failure: a network fault, an answer from AWS, an error of
// ours. A failure that is not the user's input never exits 2, so a script
// can tell "fix the command line" from "try again" or "look at the key".
func ExitCode(prog string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	var ue *UsageError
	switch {
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, ee.Err)
		}
		return ee.Code
	case errors.As(err, &ue):
		if ue.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	if errors.Is(err, context.Canceled) {
		return 130
	}
	return 1
}

// Build is what a release build stamps into a command with -ldflags -X
// (version, commit, date; see .goreleaser.yaml).
type Build struct {
	Version, Commit, Date string
}

// Resolve fills what the build did not stamp from what Go records itself:
// the module version of a 'go install ...@v1.2.3' build and the VCS
// revision of a build from a checkout. Version "dev" and "unknown" remain
// where nothing is known.
func (b Build) Resolve() Build {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		for _, s := range bi.Settings {
			if b.Commit == "" && s.Key == "vcs.revision" {
				b.Commit = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// Print writes the 'version' command's four lines.
func (b Build) Print(w io.Writer, prog string) {
	b = b.Resolve()
	fmt.Fprintf(w, "%s %s\ncommit %s\ndate %s\n%s %s/%s\n", prog, b.Version, b.Commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// ParseFlags parses args with fs and prints the usage exactly once: to
// stdout when asked for (-h, --help; help is then true and err nil), to
// stderr after the flag package's own line on a bad flag (err is then an
// ExitError with status 2). usage prints the command's text and flags to
// w. The flag package itself would print the usage on -h too, which with
// our own print to stdout made the help appear twice.
func ParseFlags(fs *flag.FlagSet, usage func(w io.Writer), args []string, stdout, stderr io.Writer) (help bool, err error) {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, once, where it belongs
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return true, nil
		}
		usage(stderr)
		return true, &ExitError{Code: 2}
	}
	return false, nil
}

// FlagUsage is the usage of ParseFlags for a text followed by fs's flags.
func FlagUsage(fs *flag.FlagSet, text string) func(io.Writer) {
	return func(w io.Writer) {
		fmt.Fprint(w, text)
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}
