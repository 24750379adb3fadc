// Command putonly-policy is the admin's companion to putonly: it generates the
// write-only bucket policy (and the IAM user policy and lifecycle rules that go
// with it) and verifies any policy offline by evaluating IAM semantics.
//
// It runs on an admin's workstation, never on a database host.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/putonly/putonly/internal/cli"
)

// Set by the release build (-ldflags "-X main.version=...").
var (
	version = ""
	commit  = ""
	date    = ""
)

const usage = `putonly-policy: write-only S3 bucket policies for putonly backups

Usage:
  putonly-policy generate --bucket B --principal ARN [options]   print a policy document
  putonly-policy verify --bucket-policy FILE --principal ARN --bucket B [options]
                                                                  prove offline that the key cannot read
  putonly-policy selftest --profile backup --bucket B [--prefix P]  prove with S3 that the key cannot read
  putonly-policy version                                          print version, commit, date and Go version
  putonly-policy help [command]

Run 'putonly-policy COMMAND --help' for the options of one command.
Exit status 2 is always bad usage or input (flags, a policy or config that
cannot be read or is not valid); a network or AWS failure exits 1.
`

// exitError carries a verdict's exit status out of a subcommand; a
// usageError (exit 2) is bad flags or input; any other error exits 1
// (internal/cli.ExitCode is the one switch).
type (
	exitError  = cli.ExitError
	usageError = cli.UsageError
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps an error from run to the process exit status and prints it.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode("putonly-policy", err, stderr) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &usageError{}
	}
	switch args[0] {
	case "generate":
		return runGenerate(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdin, stdout, stderr)
	case "selftest":
		return runSelftest(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		// 'help CMD' is 'CMD --help'; 'help help' and 'help --help' are
		// the usage itself (not a recursion), an unknown CMD a usage error.
		if len(args) > 1 {
			switch args[1] {
			case "help", "-h", "-help", "--help":
			case "generate", "verify", "selftest":
				return run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
			default:
				fmt.Fprint(stderr, usage)
				return cli.Usage(fmt.Errorf("help: unknown command %q", args[1]))
			}
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return cli.Usage(fmt.Errorf("unknown command %q", args[0]))
	}
}

// runVersion prints what the release build stamped, completed from Go's
// build info (go install ...@v1.2.3).
func runVersion(stdout io.Writer) error {
	cli.Build{Version: version, Commit: commit, Date: date}.Print(stdout, "putonly-policy")
	return nil
}
