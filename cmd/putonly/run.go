package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

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

// runFlags are the flags of 'run'; the ad-hoc job and the overrides.
type runFlags struct {
	config, job string

	// adhoc holds the job settings' flags (backup.RegisterFlags): the
	// ad-hoc job, or with --config the connection overrides.
	adhoc backup.JobConfig

	logFormat string
	progress  string

	allowReadableKey bool // upload even if the self-test finds the key can read or delete

	state, textfile string // daemon.go: the state file and node_exporter textfile
}

// register adds run's flags to fs; daemon adds the daemon-only job settings
// (schedule, time zone, jitter).
func (f *runFlags) register(fs *flag.FlagSet, daemon bool) {
	fs.StringVar(&f.config, "config", "", "read jobs from this YAML `file` (see examples/putonly.yaml)")
	fs.StringVar(&f.job, "job", "", "with --config: run only the job with this `name`")
	backup.RegisterFlags(fs, &f.adhoc, daemon)
	fs.StringVar(&f.logFormat, "log-format", "auto", "log `format`: auto (text on a terminal, JSON otherwise), text, json")
	fs.StringVar(&f.progress, "progress", "auto", "progress line: auto (on a terminal), always, never")
	fs.BoolVar(&f.allowReadableKey, "allow-readable-key", false, "upload even if the self-test finds that the key can read or delete backups (a warning on every run)")
	f.registerFeedback(fs)
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly run", flag.ContinueOnError)
	var f runFlags
	f.register(fs, false)
	if done, err := cli.Parse(fs, runUsage, args, stdout, stderr); done {
		return err
	}
	set := flagsSet(fs)
	log, err := cli.NewLogger(f.logFormat, stderr)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	cfg, jobs, err := f.load(fs.Args(), set)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	gate := agent.NewGate(agent.GateOptionsFrom(cfg, f.allowReadableKey, log))
	fb := agent.Feedback{StateFile: f.state, Textfile: f.textfile, Log: log}
	var dests map[string][]backup.Destination
	if cfg != nil {
		dests = cfg.Destinations()
		fb.StateFile = cmp.Or(fb.StateFile, cfg.Daemon.StateFile)
		fb.Textfile = cmp.Or(fb.Textfile, cfg.Daemon.Textfile)
	}
	failed := agent.RunJobs(ctx, jobs, agent.RunOptions{
		Log: log, Reporter: fb.Reporter(gate.AllowReadable()), Dests: dests, Gate: gate,
		Progress: func(job string, p *backup.Progress) func() { return startProgress(job, p, f.progress, stderr) },
		// stdout carries only the completed objects, one per line, for
		// scripts; everything else is on stderr.
		Completed: func(res backup.Result) { fmt.Fprintf(stdout, "s3://%s/%s\n", res.Bucket, res.Key) },
	})
	for _, err := range failed {
		fmt.Fprintf(stderr, "putonly: %s\n", oneLine(err))
	}
	if len(failed) > 0 {
		return reported{errors.Join(failed...)}
	}
	return nil
}

// load reads the config once (nil for the ad-hoc form) and the jobs to run,
// with the connection flags applied.
func (f *runFlags) load(argv []string, set map[string]bool) (*backup.Config, []*backup.Job, error) {
	if f.config == "" {
		jc, err := f.adhocJob(argv, set)
		if err != nil {
			return nil, nil, err
		}
		job, err := backup.ResolveJob(jc)
		if err != nil {
			return nil, nil, err
		}
		return nil, []*backup.Job{job}, nil
	}
	if err := f.checkConfigFlags(argv, set); err != nil {
		return nil, nil, err
	}
	cfg, err := backup.LoadConfig(f.config)
	if err != nil {
		return nil, nil, err
	}
	cfg.Override(&f.adhoc, set)
	jobs, err := cfg.ResolveJobs(f.job)
	if err != nil {
		return nil, nil, err
	}
	return cfg, jobs, nil
}

// checkConfigFlags refuses job flags and a command next to --config, and
// checks the connection flags that override the config's.
func (f *runFlags) checkConfigFlags(argv []string, set map[string]bool) error {
	if err := backup.ConfigFlagsError(set); err != nil {
		return err
	}
	if len(argv) > 0 {
		return fmt.Errorf("a command (%q) cannot be combined with --config\n\thint: put it in the config as a job with source type: command", argv[0])
	}
	return backup.ValidateFlags(&f.adhoc, set)
}

// adhocJob is the job of the ad-hoc form, from the flags and the command.
func (f *runFlags) adhocJob(argv []string, set map[string]bool) (backup.JobConfig, error) {
	if f.job != "" {
		return backup.JobConfig{}, errors.New("--job needs --config\n\thint: name an ad-hoc job with --name")
	}
	if len(argv) == 0 {
		return backup.JobConfig{}, errors.New("no dump command\n\thint: putonly run --bucket B --recipient age1... -- pg_dump -Fc -Z0 shop   (or --config FILE)")
	}
	jc := f.adhoc
	jc.FromFlags = true
	if jc.Name == "" {
		jc.Name = jobNameFrom(argv[0])
	}
	jc.Source.Type = backup.SourceCommand
	jc.Source.Command = argv
	return jc, nil
}

var nonName = regexp.MustCompile(`[^a-z0-9._-]+`)

// jobNameFrom derives a job name from a command: "/usr/bin/pg_dump" → "pg_dump".
func jobNameFrom(argv0 string) string {
	n := nonName.ReplaceAllString(strings.ToLower(filepath.Base(argv0)), "-")
	n = strings.Trim(n, "-._")
	if n == "" {
		return "backup"
	}
	return n
}

// startProgress prints a progress line every second on a terminal and
// returns a function that stops it and clears the line.
func startProgress(job string, p *backup.Progress, mode string, w io.Writer) func() {
	return progressLine(mode, w, func(el time.Duration) string {
		return fmt.Sprintf("%s: in %s, out %s, %s, %s", job,
			human(p.In.Load()), human(p.Out.Load()), rate(p.In.Load(), el), el.Round(time.Second))
	})
}
