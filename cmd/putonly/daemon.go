package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time_zone works on hosts without tzdata

	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	app.Register(&cli.Command{Name: "daemon", Order: 12, Run: runDaemon,
		Summary: "daemon --config FILE               run every job on its schedule until stopped\n  putonly daemon --schedule SPEC [flags] -- COMMAND   one ad-hoc job on a schedule"})
}

const daemonUsage = `Usage:
  putonly daemon --config FILE [--job NAME] [--metrics-listen 127.0.0.1:9465] [--run-now]
  putonly daemon --schedule SPEC [--jitter D] [run's job flags] -- COMMAND [ARG...]

Runs each job on its schedule until stopped: the same pipeline as 'run'
(dump | zstd | age | S3 multipart upload, with the PutObject-only key).

Schedules are cron specs: five fields (minute hour day-of-month month
day-of-week, such as "15 2 * * *"), or @daily, @hourly, @weekly, @monthly,
@every 6h; in time_zone (default: the host's). jitter delays each start by a
fixed per-host amount in [0, jitter), so a fleet does not hit the database
cluster at once. A job never overlaps with itself: a run still going when the
next is due makes that next one skip. Each run is bounded by its timeout.

After every job, the result goes to the state file ('putonly status'), the
metrics (--metrics-listen, --textfile) and the job's notify destinations
(webhooks, healthchecks.io-style pings, SNS topics). For the ad-hoc form,
--webhook (signed with $PUTONLY_WEBHOOK_SECRET when set), --ping and --sns.

Signals:
  SIGTERM, SIGINT   stop scheduling; running jobs get --shutdown-grace to
                    finish, then are cancelled: the dump is killed and the
                    multipart upload aborted, so no partial object is left.
                    A second signal exits at once.
  SIGHUP            reload --config; an invalid new config is logged and the
                    running one kept.

Exit status: 0 after a clean stop; 1 when running jobs had to be cancelled;
2 bad flags or config at start.

Flags:
`

// daemonFlags are run's flags plus the daemon's (the ad-hoc job's
// schedule, time zone and jitter are job settings: backup.RegisterFlags).
type daemonFlags struct {
	runFlags
	agent.DaemonArgs
	runNow bool
}

func (f *daemonFlags) register(fs *flag.FlagSet) {
	f.runFlags.register(fs, &f.Args, true)
	fs.StringVar(&f.Webhook, "webhook", "", "ad-hoc job: POST each result as JSON to this `URL` (signed with $PUTONLY_WEBHOOK_SECRET when set)")
	fs.StringVar(&f.Ping, "ping", "", "ad-hoc job: healthchecks.io-style ping `URL` (URL/start, URL, URL/fail)")
	fs.StringVar(&f.SNS, "sns", "", "ad-hoc job: publish each result to this SNS topic `ARN` (the key needs sns:Publish on it)")
	fs.StringVar(&f.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics on this loopback `host:port`, e.g. 127.0.0.1:9465")
	fs.DurationVar(&f.ShutdownGrace, "shutdown-grace", 0, "on SIGTERM, let running jobs finish for this `duration` before aborting them (default 10m)")
	fs.BoolVar(&f.runNow, "run-now", false, "also run every job, drill and audit once at start, at once (the jitter delays only scheduled runs)")
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly daemon", flag.ContinueOnError)
	var f daemonFlags
	f.register(fs)
	if done, err := f.parse(fs, &f.Args, daemonUsage, args, stdout, stderr); done {
		return err
	}
	plan, err := f.Plan()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	// main owns SIGTERM and SIGINT (they end ctx); SIGHUP reloads.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d, err := agent.NewDaemon(plan, agent.DaemonOptions{Log: f.Log, Load: f.Plan, Reload: hup, RunNow: f.runNow, Config: f.Config})
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	if err := d.Run(ctx); err != nil {
		return &exitError{Code: 1, Err: err}
	}
	return nil
}
