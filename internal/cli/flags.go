package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// ParseArgs parses args with fs, allowing up to max positional arguments
// before, between or after the flags, and returns them. Like [ParseFlags],
// done is true after --help (err nil) and on a bad flag or a surplus
// argument (an ExitError with status 2); usage is the command's text,
// printed before fs's flags.
func ParseArgs(fs *flag.FlagSet, usage string, args []string, max int, stdout, stderr io.Writer) (pos []string, done bool, err error) {
	for {
		if done, err := Parse(fs, usage, args, stdout, stderr); done {
			return nil, true, err
		}
		if fs.NArg() == 0 {
			return pos, false, nil
		}
		if len(pos) == max {
			return nil, true, &ExitError{Code: 2, Err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// FlagsSet names the flags given on the command line.
func FlagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
}

// Hint is err with hint (if any) on a line of its own, the way the
// commands print the fix after the cause.
func Hint(err error, hint string) error {
	if hint == "" {
		return err
	}
	return fmt.Errorf("%w\n\thint: %s", err, hint)
}

// StringList is a flag that may be repeated; it collects every value.
type StringList []string

func (s *StringList) String() string     { return strings.Join(*s, ",") }
func (s *StringList) Set(v string) error { *s = append(*s, v); return nil }

// Parse is [ParseFlags] with the usage text followed by fs's flags. It
// stops at the first argument that is not a flag (a command after --, say),
// which stays in fs.Args().
func Parse(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (done bool, err error) {
	return ParseFlags(fs, FlagUsage(fs, usage), args, stdout, stderr)
}
