package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

const runUsage = `Usage:
  putonly run [flags] -- COMMAND [ARG...]
  putonly run --config FILE [--job NAME] [connection flags]

Runs the dump COMMAND (argv, no shell: write sh -c '...' for one), compresses
its stdout with zstd, encrypts it with age to the recipients, and uploads it to
s3://BUCKET/PREFIX<job>/YYYY/MM/DD/<job>-<time>-<random>.dump.zst.age with
server-side encryption and If-None-Match: * (an existing object is never
overwritten). No plaintext touches the disk. The object is completed only if
the dump exits 0; otherwise the upload is aborted.

Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID/..., AWS_PROFILE,
SSO, web identity, instance role). The key needs s3:PutObject and, to clean up
a failed upload, s3:AbortMultipartUpload; nothing else.

Examples:
  putonly run --bucket acme-backups --prefix db1/ --recipient age1... -- pg_dump -Fc -Z0 shop
  putonly run --bucket b --recipients-file /etc/putonly/recipients.txt --name shop \
      -- sh -c 'mysqldump --single-transaction shop'
  putonly run --config /etc/putonly/putonly.yaml --job shop

Output: each completed object's s3:// URL on stdout, one per line; logs,
the progress line and errors on stderr.

The timeout bounds each job from its start: the key's self-test, the dump,
the upload and the manifest. A failed multipart upload's abort gets 15s
more; if S3 does not answer within it, the error says the upload is NOT
aborted and names it.

Exit status: 0 every job uploaded; 1 a job failed (one line per job on
stderr); 2 bad flags or config; 130 stopped by SIGINT or SIGTERM.

Flags:
`

// runFlags are the flags of 'run' that are not agent.Args (daemon adds
// its own).
type runFlags struct{ logFormat, progress string }

// register adds run's flags to fs, writing into f and a; daemon adds the
// daemon-only job settings (schedule, time zone, jitter).
func (f *runFlags) register(fs *flag.FlagSet, a *agent.Args, daemon bool) {
	fs.StringVar(&a.Config, "config", "", "read jobs from this YAML `file` (see examples/putonly.yaml)")
	fs.StringVar(&a.Job, "job", "", "with --config: run only the job with this `name`")
	backup.RegisterFlags(fs, &a.Flags, daemon)
	fs.StringVar(&f.logFormat, "log-format", "auto", "log `format`: auto (text on a terminal, JSON otherwise), text, json")
	fs.StringVar(&f.progress, "progress", "auto", "progress line: auto (on a terminal), always, never")
	fs.BoolVar(&a.AllowReadableKey, "allow-readable-key", false, "upload even if the self-test finds that the key can read or delete backups (a warning on every run)")
	fs.StringVar(&a.StateFile, "state", "", "record each job's last result in this state `file`, read by 'putonly status' (default for the daemon and with --textfile: $PUTONLY_STATE_DIR/state.json, "+backup.DefaultStateFile+" as root)")
	fs.StringVar(&a.Textfile, "textfile", "", "after each job, write Prometheus metrics to this `file` for node_exporter's textfile collector, e.g. /var/lib/prometheus/node-exporter/putonly.prom")
}

// parse parses args into f and a (the command after -- is the ad-hoc
// job's); done as cli.Parse.
func (f *runFlags) parse(fs *flag.FlagSet, a *agent.Args, usage string, args []string, stdout, stderr io.Writer) (done bool, err error) {
	if done, err := cli.Parse(fs, usage, args, stdout, stderr); done {
		return true, err
	}
	a.Argv, a.Set = fs.Args(), cli.FlagsSet(fs)
	if a.Log, err = cli.NewLogger(f.logFormat, stderr); err != nil {
		return true, &exitError{Code: 2, Err: err}
	}
	return false, nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly run", flag.ContinueOnError)
	var f runFlags
	var a agent.Args
	f.register(fs, &a, false)
	if done, err := f.parse(fs, &a, runUsage, args, stdout, stderr); done {
		return err
	}
	failed, err := agent.RunOnce(ctx, agent.OnceOptions{Args: a, Progress: agent.Progress(f.progress, stderr),
		// stdout carries only the completed objects, one per line, for
		// scripts; everything else is on stderr.
		Completed: func(res backup.Result) { fmt.Fprintf(stdout, "s3://%s/%s\n", res.Bucket, res.Key) },
	})
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	for _, err := range failed {
		fmt.Fprintf(stderr, "putonly: %s\n", cli.OneLine(err))
	}
	if len(failed) > 0 {
		return reported{errors.Join(failed...)}
	}
	return nil
}
