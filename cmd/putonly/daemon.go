package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time_zone works on hosts without tzdata

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	register(&command{name: "daemon", order: 12, run: runDaemon,
		summary: "daemon --config FILE               run every job on its schedule until stopped\n  putonly daemon --schedule SPEC [flags] -- COMMAND   one ad-hoc job on a schedule"})
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
// schedule, time zone and jitter are job settings: runFlags.adhoc).
type daemonFlags struct {
	runFlags
	webhook, ping, sns string
	metricsListen      string
	grace              time.Duration
	runNow             bool
}

func (f *daemonFlags) register(fs *flag.FlagSet) {
	f.runFlags.register(fs, true)
	fs.StringVar(&f.webhook, "webhook", "", "ad-hoc job: POST each result as JSON to this `URL` (signed with $PUTONLY_WEBHOOK_SECRET when set)")
	fs.StringVar(&f.ping, "ping", "", "ad-hoc job: healthchecks.io-style ping `URL` (URL/start, URL, URL/fail)")
	fs.StringVar(&f.sns, "sns", "", "ad-hoc job: publish each result to this SNS topic `ARN` (the key needs sns:Publish on it)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus /metrics on this loopback `host:port`, e.g. 127.0.0.1:9465")
	fs.DurationVar(&f.grace, "shutdown-grace", 0, "on SIGTERM, let running jobs finish for this `duration` before aborting them (default 10m)")
	fs.BoolVar(&f.runNow, "run-now", false, "also run every job once at start, at once (the jitter delays only scheduled runs)")
}

// registerFeedback adds the flags 'run' shares with the daemon.
func (f *runFlags) registerFeedback(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", "", "record each job's last result in this state `file`, read by 'putonly status' (default for the daemon and with --textfile: $PUTONLY_STATE_DIR/state.json, "+backup.DefaultStateFile+" as root)")
	fs.StringVar(&f.textfile, "textfile", "", "after each job, write Prometheus metrics to this `file` for node_exporter's textfile collector, e.g. /var/lib/prometheus/node-exporter/putonly.prom")
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly daemon", flag.ContinueOnError)
	var f daemonFlags
	f.register(fs)
	if done, err := cli.Parse(fs, daemonUsage, args, stdout, stderr); done {
		return err
	}
	log, err := cli.NewLogger(f.logFormat, stderr)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	argv, set := fs.Args(), flagsSet(fs)
	load := func() (*agent.Plan, error) { return f.plan(argv, set, log) }
	plan, err := load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	// main owns SIGTERM and SIGINT (they end ctx); SIGHUP reloads.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d, err := agent.NewDaemon(plan, agent.DaemonOptions{Log: log, Load: load, Reload: hup, RunNow: f.runNow, Config: f.config})
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	if err := d.Run(ctx); err != nil {
		return &exitError{Code: 1, Err: err}
	}
	return nil
}

// plan reads the jobs, the daemon's settings and the gate's from the
// config (read once) or the flags.
func (f *daemonFlags) plan(argv []string, set map[string]bool, log *slog.Logger) (*agent.Plan, error) {
	var p *agent.Plan
	var err error
	if f.config != "" {
		p, err = f.configPlan(argv, set, log)
	} else {
		p, err = f.adhocPlan(argv, set, log)
	}
	if err != nil {
		return nil, err
	}
	opts := &p.Daemon
	if set["state"] {
		opts.StateFile = f.state
	}
	if set["textfile"] {
		opts.Textfile = f.textfile
	}
	if set["metrics-listen"] {
		opts.MetricsListen = f.metricsListen
	}
	if set["shutdown-grace"] {
		opts.ShutdownGrace = backup.Duration(f.grace)
	}
	opts.StateFile = cmp.Or(opts.StateFile, agent.DefaultStatePath())
	opts.ShutdownGrace = cmp.Or(opts.ShutdownGrace, backup.Duration(backup.DefaultShutdownGrace))
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (f *daemonFlags) configPlan(argv []string, set map[string]bool, log *slog.Logger) (*agent.Plan, error) {
	if err := f.checkConfigFlags(argv, set); err != nil {
		return nil, err
	}
	for _, name := range []string{"webhook", "ping", "sns"} {
		if set[name] {
			return nil, fmt.Errorf("--%s cannot be combined with --config\n\thint: set it in the config file", name)
		}
	}
	cfg, err := backup.LoadConfig(f.config)
	if err != nil {
		return nil, err
	}
	cfg.Override(&f.adhoc, set)
	all, err := cfg.ResolveSchedules()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.config, err)
	}
	p := &agent.Plan{Daemon: cfg.Daemon, Gate: agent.GateOptionsFrom(cfg, f.allowReadableKey, log), Checks: agent.ChecksFrom(cfg)}
	var names []string
	for _, sj := range all {
		names = append(names, sj.Name)
		if f.job == "" || sj.Name == f.job {
			p.Jobs = append(p.Jobs, sj)
		}
	}
	if len(p.Jobs) == 0 && (f.job != "" || len(p.Checks) == 0) {
		return nil, fmt.Errorf("no job named %q; the config has: %s", f.job, strings.Join(names, ", "))
	}
	return p, nil
}

func (f *daemonFlags) adhocPlan(argv []string, set map[string]bool, log *slog.Logger) (*agent.Plan, error) {
	jc, err := f.adhocJob(argv, set)
	if err != nil {
		return nil, err
	}
	if jc.Schedule == "" {
		return nil, errors.New("no --schedule\n\thint: putonly daemon --schedule '15 2 * * *' --bucket B --recipient age1... -- pg_dump -Fc -Z0 shop   (or --config FILE)")
	}
	dests := map[string]backup.NotifyConfig{}
	if f.webhook != "" {
		dests["webhook"] = backup.NotifyConfig{Webhook: f.webhook, Secret: os.Getenv("PUTONLY_WEBHOOK_SECRET")}
		jc.Notify = append(jc.Notify, "webhook")
	}
	if f.ping != "" {
		dests["ping"] = backup.NotifyConfig{Ping: f.ping}
		jc.Notify = append(jc.Notify, "ping")
	}
	if f.sns != "" {
		dests["sns"] = backup.NotifyConfig{SNS: f.sns, Profile: jc.Profile}
		jc.Notify = append(jc.Notify, "sns")
	}
	sj, err := backup.ResolveScheduledJob(jc, dests)
	if err != nil {
		return nil, err
	}
	if err := backup.ValidateNotifyFlags(dests); err != nil {
		return nil, err
	}
	return &agent.Plan{Jobs: []*backup.ScheduledJob{sj}, Gate: agent.GateOptionsFrom(nil, f.allowReadableKey, log)}, nil
}
