// Command putonly-policy is the admin's companion to putonly: it generates the
// write-only bucket policy (and the IAM user policy and lifecycle rules that go
// with it) and verifies any policy offline by evaluating IAM semantics.
//
// It runs on an admin's workstation, never on a database host.
package main

import (
	"context"
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

// newApp is the program's commands; verify reads a policy from stdin.
func newApp(stdin io.Reader) *cli.App {
	app := &cli.App{Name: "putonly-policy", Title: "putonly-policy: write-only S3 bucket policies for putonly backups", Footer: `
Run 'putonly-policy COMMAND --help' for the options of one command.
Exit status 2 is always bad usage or input (flags, a policy or config that
cannot be read or is not valid); a network or AWS failure exits 1.
`}
	app.Register(&cli.Command{Name: "generate", Order: 10, Run: runGenerate,
		Summary: "generate --bucket B --principal ARN [options]   print a policy document"})
	app.Register(&cli.Command{Name: "verify", Order: 20, Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runVerify(ctx, args, stdin, stdout, stderr)
	}, Summary: "verify --bucket-policy FILE --principal ARN --bucket B [options]\n" +
		"                                                                  prove offline that the key cannot read"})
	app.Register(&cli.Command{Name: "selftest", Order: 30, Run: runSelftest,
		Summary: "selftest --profile backup --bucket B [--prefix P]  prove with S3 that the key cannot read"})
	app.Register(&cli.Command{Name: "version", Order: 40, Run: func(_ context.Context, _ []string, stdout, _ io.Writer) error { return runVersion(stdout) },
		Summary: "version                                          print version, commit, date and Go version"})
	return app
}

// exitError carries a verdict's exit status out of a subcommand; a
// cli.UsageError (exit 2) is bad flags or input; any other error exits 1
// (internal/cli.ExitCode is the one switch).
type exitError = cli.ExitError

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps an error from run to the process exit status and prints it.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode("putonly-policy", err, stderr) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return newApp(stdin).Run(ctx, args, stdout, stderr)
}

// runVersion prints what the release build stamped, completed from Go's
// build info (go install ...@v1.2.3).
func runVersion(stdout io.Writer) error {
	cli.Build{Version: version, Commit: commit, Date: date}.Print(stdout, "putonly-policy")
	return nil
}
