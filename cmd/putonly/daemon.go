package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time_zone works on hosts without tzdata

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/metrics"
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
	fs.BoolVar(&f.runNow, "run-now", false, "also run every job once at start (after its jitter delay)")
}

// registerFeedback adds the flags 'run' shares with the daemon.
func (f *runFlags) registerFeedback(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", "", "record each job's last result in this state `file`, read by 'putonly status' (default for the daemon and with --textfile: $PUTONLY_STATE_DIR/state.json, "+backup.DefaultStateFile+" as root)")
	fs.StringVar(&f.textfile, "textfile", "", "after each job, write Prometheus metrics to this `file` for node_exporter's textfile collector, e.g. /var/lib/prometheus/node-exporter/putonly.prom")
}

// defaultStatePath is state.json in $PUTONLY_STATE_DIR, else in systemd's
// StateDirectory= ($STATE_DIRECTORY), else /var/lib/putonly as root, else
// $XDG_STATE_HOME/putonly (~/.local/state/putonly): where the self-test
// keeps its cache.
func defaultStatePath() string {
	dir := os.Getenv("PUTONLY_STATE_DIR")
	if dir == "" && os.Getenv("STATE_DIRECTORY") != "" {
		dir = strings.Split(os.Getenv("STATE_DIRECTORY"), ":")[0]
	}
	if dir == "" && os.Geteuid() == 0 {
		return backup.DefaultStateFile
	}
	if dir == "" {
		dir = os.Getenv("XDG_STATE_HOME")
		if dir == "" {
			if home, err := os.UserHomeDir(); err == nil {
				dir = filepath.Join(home, ".local", "state")
			}
		}
		dir = filepath.Join(dir, "putonly")
	}
	return filepath.Join(dir, "state.json")
}

// feedback builds run's reporter: the state file and textfile (from the
// flags, or the config's daemon section) and each job's destinations.
func (f *runFlags) feedback(log *slog.Logger) (*backup.Reporter, map[string][]backup.Destination, error) {
	state, textfile := f.state, f.textfile
	dests := map[string][]backup.Destination{}
	allowReadable := false
	if f.config != "" {
		cfg, err := backup.LoadConfig(f.config)
		if err != nil {
			return nil, nil, err
		}
		dests = cfg.Destinations()
		allowReadable = cfg.Selftest.AllowReadableKey
		if state == "" {
			state = cfg.Daemon.StateFile
		}
		if textfile == "" {
			textfile = cfg.Daemon.Textfile
		}
	}
	if state == "" && textfile != "" {
		state = defaultStatePath()
	}
	rep := &backup.Reporter{Log: log, Notifier: &backup.Notifier{Log: log}, Selftest: selftestVerdict(f.allowReadableKey || allowReadable)}
	if state != "" {
		rep.State = backup.NewStateFile(state)
		rep.Recorded = textfileWriter(textfile, rep.State, log)
	}
	return rep, dests, nil
}

// textfileWriter rewrites the node_exporter textfile after each state
// update; nil without a textfile.
func textfileWriter(path string, sf *backup.StateFile, log *slog.Logger) func(*backup.State) {
	if path == "" {
		return nil
	}
	reg := metrics.NewRegistry(sf.Read, backup.Version)
	return func(*backup.State) {
		if err := metrics.WriteTextfile(path, reg); err != nil {
			log.Error("metrics textfile not written", "err", err.Error())
		}
	}
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly daemon", flag.ContinueOnError)
	var f daemonFlags
	f.register(fs)
	if done, err := parseCommandFlags(fs, daemonUsage, args, stdout, stderr); done {
		return err
	}
	set := flagsSet(fs)
	log, err := newLogger(f.logFormat, stderr)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	// main cancels ctx on the first SIGTERM or SIGINT; the daemon also
	// takes them here, so that a second one exits at once however close it
	// follows the first, and SIGHUP.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	d := &daemon{f: &f, argv: fs.Args(), set: set, log: log, exitNow: func() {
		fmt.Fprintln(stderr, "putonly: second signal, exiting now")
		os.Exit(130)
	}}
	return d.run(ctx, sigs)
}

// daemon is one 'putonly daemon' process.
type daemon struct {
	f    *daemonFlags
	argv []string
	set  map[string]bool
	log  *slog.Logger
	// exitNow ends the process on a second SIGTERM or SIGINT.
	exitNow func()
	// allowReadable: the config's selftest.allow_readable_key at start.
	allowReadable bool

	opts     backup.DaemonConfig // as loaded at start; a reload keeps them
	state    *backup.StateFile
	sched    *backup.Scheduler
	reporter *backup.Reporter
	metrics  *metrics.Server
}

// load reads the jobs and the daemon options from the config or the flags.
func (d *daemon) load() ([]*backup.ScheduledJob, backup.DaemonConfig, error) {
	f := d.f
	var jobs []*backup.ScheduledJob
	var opts backup.DaemonConfig
	if f.config != "" {
		if err := f.checkConfigFlags(d.argv, d.set); err != nil {
			return nil, opts, err
		}
		for _, name := range []string{"webhook", "ping", "sns"} {
			if d.set[name] {
				return nil, opts, fmt.Errorf("--%s cannot be combined with --config\n\thint: set it in the config file", name)
			}
		}
		cfg, err := backup.LoadConfig(f.config)
		if err != nil {
			return nil, opts, err
		}
		all, err := cfg.ResolveSchedules()
		if err != nil {
			return nil, opts, fmt.Errorf("%s: %w", f.config, err)
		}
		var names []string
		for _, sj := range all {
			names = append(names, sj.Name)
			if f.job == "" || sj.Name == f.job {
				f.conn().override(&sj.Job.Client, d.set)
				jobs = append(jobs, sj)
			}
		}
		if len(jobs) == 0 {
			return nil, opts, fmt.Errorf("no job named %q; the config has: %s", f.job, strings.Join(names, ", "))
		}
		opts = cfg.Daemon
		d.allowReadable = cfg.Selftest.AllowReadableKey
	} else {
		jc, err := f.adhocJob(d.argv, d.set)
		if err != nil {
			return nil, opts, err
		}
		if jc.Schedule == "" {
			return nil, opts, errors.New("no --schedule\n\thint: putonly daemon --schedule '15 2 * * *' --bucket B --recipient age1... -- pg_dump -Fc -Z0 shop   (or --config FILE)")
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
			return nil, opts, err
		}
		if err := backup.ValidateNotifyFlags(dests); err != nil {
			return nil, opts, err
		}
		jobs = []*backup.ScheduledJob{sj}
	}
	if d.set["state"] {
		opts.StateFile = f.state
	}
	if d.set["textfile"] {
		opts.Textfile = f.textfile
	}
	if d.set["metrics-listen"] {
		opts.MetricsListen = f.metricsListen
	}
	if d.set["shutdown-grace"] {
		opts.ShutdownGrace = backup.Duration(f.grace)
	}
	if opts.StateFile == "" {
		opts.StateFile = defaultStatePath()
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = backup.Duration(backup.DefaultShutdownGrace)
	}
	if err := opts.Validate(); err != nil {
		return nil, opts, err
	}
	return jobs, opts, nil
}

// run schedules the jobs until ctx ends or a SIGTERM or SIGINT arrives on
// sigs; then it drains. A second SIGTERM or SIGINT calls exitNow; SIGHUP
// reloads.
func (d *daemon) run(ctx context.Context, sigs <-chan os.Signal) error {
	jobs, opts, err := d.load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	d.opts = opts
	d.state = backup.NewStateFile(opts.StateFile)
	d.reporter = &backup.Reporter{State: d.state, Notifier: &backup.Notifier{Log: d.log}, Log: d.log,
		Recorded: textfileWriter(opts.Textfile, d.state, d.log), Selftest: selftestVerdict(d.f.allowReadableKey || d.allowReadable)}
	if opts.MetricsListen != "" {
		reg := metrics.NewRegistry(d.state.Read, backup.Version)
		metrics.GoCollectors(reg)
		if d.metrics, err = metrics.Listen(opts.MetricsListen, reg, d.log); err != nil {
			return &exitError{Code: 2, Err: err}
		}
		go func() {
			if err := d.metrics.Serve(); err != nil {
				d.log.Error("metrics server stopped", "err", err.Error())
			}
		}()
		defer d.metrics.Shutdown(context.Background())
	}
	setMemoryLimit(plainJobs(jobs))
	d.sched = backup.NewScheduler(backup.SchedulerOptions{Log: d.log, Run: d.runOne})
	d.sched.Load(jobs)
	d.recordSchedule()
	d.sched.Start()
	d.log.Info("daemon started", "jobs", describe(jobs, d.sched.Host()), "state", opts.StateFile,
		"metrics", opts.MetricsListen, "shutdown_grace", opts.ShutdownGrace.String())
	if d.f.runNow {
		for _, sj := range jobs {
			go d.sched.Trigger(sj.Name)
		}
	}
	terms := 0
	var drained chan bool
	stop := func() {
		if drained != nil {
			return
		}
		grace := time.Duration(d.opts.ShutdownGrace)
		d.log.Info("stopping: no new runs; running jobs may finish", "grace", grace.String())
		drained = make(chan bool, 1)
		go func() { drained <- d.sched.Shutdown(grace) }()
	}
	done := ctx.Done()
	for {
		select {
		case <-done:
			done = nil
			stop()
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if drained == nil {
					d.reload()
				}
				continue
			}
			if terms++; terms > 1 {
				d.sched.Cancel()
				d.exitNow()
				return &exitError{Code: 130}
			}
			stop()
		case ok := <-drained:
			if !ok {
				grace := time.Duration(d.opts.ShutdownGrace)
				return &exitError{Code: 1, Err: fmt.Errorf("stopped: running jobs were cancelled after the %s grace period; their uploads were aborted", grace)}
			}
			d.log.Info("stopped")
			return nil
		}
	}
}

// reload re-reads the config; an invalid one keeps the running jobs.
func (d *daemon) reload() {
	jobs, opts, err := d.load()
	if err != nil {
		d.log.Error("reload failed: keeping the running config", "config", d.f.config, "err", oneLine(err))
		return
	}
	if opts != d.opts {
		d.log.Warn("daemon settings (state_file, textfile, metrics_listen, shutdown_grace) change only on restart")
	}
	d.sched.Load(jobs)
	d.recordSchedule()
	d.log.Info("config reloaded", "jobs", describe(jobs, d.sched.Host()))
}

// runOne is one scheduled run: the feedback loop around runJob.
func (d *daemon) runOne(ctx context.Context, sj *backup.ScheduledJob) {
	if gctx, err := withKeyGate(ctx, d.f.config, d.f.allowReadableKey); err == nil {
		ctx = gctx
	} else {
		// The config on disk is broken now (the running one is kept): a
		// gate of this run alone, not the process-wide default, whose
		// answers would never expire.
		ctx = context.WithValue(ctx, keyGateCtxKey{}, &keyGate{cache: DefaultSelftestCache, allowReadable: d.f.allowReadableKey})
	}
	// The verdict follows this run's gate: allow_readable_key may have
	// changed in the file since the daemon started.
	rep := *d.reporter
	rep.Selftest = selftestVerdict(keyGateFrom(ctx).allowReadable)
	res, err := rep.Run(ctx, sj.Job, sj.Notify, func(ctx context.Context) (backup.Result, error) {
		return runJob(ctx, sj.Job, d.log, "never", io.Discard)
	})
	if err != nil {
		d.log.Error("backup failed", "job", sj.Name, "reason", backup.FailureReason(err), "err", err.Error())
	} else {
		d.log.Info("backup complete", "job", res.Job, "object", "s3://"+res.Bucket+"/"+res.Key,
			"bytes_in", res.BytesIn, "bytes_out", res.BytesOut, "ratio", fmt.Sprintf("%.2f", res.Ratio()),
			"parts", res.Parts, "duration", res.Duration.Round(time.Millisecond).String(), "checksum", res.Checksum)
	}
	d.recordSchedule()
}

// recordSchedule writes the scheduled jobs' schedules and next runs to the
// state file; jobs no longer in the config (after a reload) lose theirs.
func (d *daemon) recordSchedule() {
	now := time.Now()
	jobs := d.sched.Jobs()
	current := map[string]bool{}
	for _, sj := range jobs {
		current[sj.Name] = true
	}
	_, err := d.state.Update(now, func(s *backup.State) {
		for _, sj := range jobs {
			js := s.Job(sj.Name)
			js.Schedule = sj.Spec
			if sj.TimeZone != "" {
				js.Schedule += " (" + sj.TimeZone + ")"
			}
			js.NextRun = sj.Next(now, d.sched.Host()).UTC()
		}
		for name, js := range s.Jobs {
			if !current[name] {
				js.Schedule, js.NextRun = "", time.Time{}
			}
		}
	})
	if err != nil {
		d.log.Error("state not recorded", "err", err.Error())
	}
}

// selftestVerdict reads the key gate's verdict in a run's result: refused
// (ErrReadableKey) is a failed self-test; an upload without
// allow-readable-key means the gate passed. Otherwise nothing is known.
func selftestVerdict(allowReadable bool) func(error) *backup.SelftestState {
	return func(err error) *backup.SelftestState {
		switch {
		case errors.Is(err, ErrReadableKey), errors.Is(err, ErrSelftestInconclusive):
			return &backup.SelftestState{OK: false, Detail: oneLine(err)}
		case err == nil && !allowReadable:
			return &backup.SelftestState{OK: true}
		}
		return nil
	}
}

func plainJobs(jobs []*backup.ScheduledJob) []*backup.Job {
	out := make([]*backup.Job, len(jobs))
	for i, sj := range jobs {
		out[i] = sj.Job
	}
	return out
}

// describe lists "name: spec, next TIME" for the log.
func describe(jobs []*backup.ScheduledJob, host string) string {
	now := time.Now()
	var parts []string
	for _, sj := range jobs {
		parts = append(parts, fmt.Sprintf("%s (%s, next %s)", sj.Name, sj.Spec, sj.Next(now, host).UTC().Format(time.RFC3339)))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
