package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/metrics"
)

// Plan is what the daemon runs, from one load of the config (or of the
// command line): the jobs, the daemon's settings and the gate's.
type Plan struct {
	Jobs []*backup.ScheduledJob
	// Daemon has StateFile and ShutdownGrace set (the defaults applied).
	Daemon backup.DaemonConfig
	Gate   GateOptions
	// Checks are the drills and audits of the auditor's host; they change
	// only on restart.
	Checks []Check
}

// DaemonOptions say how the daemon gets its plan and when it reloads.
type DaemonOptions struct {
	Log *slog.Logger
	// Load reads the plan; called on every reload (the first plan is
	// NewDaemon's argument). An error keeps the running plan.
	Load func() (*Plan, error)
	// Reload: each value received reloads the plan (SIGHUP).
	Reload <-chan os.Signal
	// RunNow runs every job, drill and audit once at start.
	RunNow bool
	// Config names the config file in the log.
	Config string
}

// Daemon runs jobs on their schedules until its context ends, then drains.
// It owns no signals: its caller cancels ctx (with a cause wrapping
// backup.ErrShutdown) on SIGTERM, and sends on Reload on SIGHUP.
type Daemon struct {
	o        DaemonOptions
	log      *slog.Logger
	opts     backup.DaemonConfig // as loaded at start; a reload keeps them
	state    *backup.StateFile
	sched    *backup.Scheduler
	reporter *backup.Reporter
	metrics  *metrics.Server
	checks   *checks // nil without drills and audits

	mu   sync.Mutex
	gate GateOptions // of the plan last accepted
}

// NewDaemon prepares the daemon of plan: its state file, reporter, metrics
// listener (an error here is a start-up error) and scheduler.
func NewDaemon(plan *Plan, o DaemonOptions) (*Daemon, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{o: o, log: o.Log, opts: plan.Daemon, gate: plan.Gate}
	d.state = backup.NewStateFile(plan.Daemon.StateFile)
	d.reporter = &backup.Reporter{State: d.state, Notifier: &backup.Notifier{Log: d.log}, Log: d.log,
		Recorded: textfileWriter(plan.Daemon.Textfile, d.state, d.log)}
	if len(plan.Checks) > 0 {
		var err error
		if d.checks, err = newChecks(plan.Checks, d.log, d.reporter.Notifier); err != nil {
			return nil, err
		}
	}
	if addr := plan.Daemon.MetricsListen; addr != "" {
		reg := metrics.NewRegistry(d.state.Read, backup.Version)
		metrics.GoCollectors(reg)
		if d.checks != nil {
			reg.MustRegister(d.checks)
		}
		var err error
		if d.metrics, err = metrics.Listen(addr, reg, d.log); err != nil {
			return nil, err
		}
	}
	jobs := plan.Jobs
	SetMemoryLimit(plainJobs(jobs))
	d.sched = backup.NewScheduler(backup.SchedulerOptions{Log: d.log, Run: d.runOne})
	d.sched.Load(jobs)
	return d, nil
}

// Run schedules the jobs until ctx ends; then it stops scheduling and lets
// running jobs finish within the shutdown grace. It returns nil after a
// clean stop and an error when running jobs had to be cancelled.
func (d *Daemon) Run(ctx context.Context) error {
	// The lock next to the state file tells 'putonly status' whether a
	// daemon is running, and keeps a second one from running every job twice.
	release, err := LockDaemon(d.opts.StateFile)
	if err != nil {
		return err
	}
	defer release()
	if d.metrics != nil {
		go func() {
			if err := d.metrics.Serve(); err != nil {
				d.log.Error("metrics server stopped", "err", err.Error())
			}
		}()
		defer d.metrics.Shutdown(context.Background())
	}
	jobs := d.sched.Jobs()
	d.recordSchedule()
	d.sched.Start()
	if d.checks != nil {
		d.checks.start()
		d.log.Info("drills and audits scheduled", "checks", describeChecks(d.checks))
	}
	d.log.Info("daemon started", "jobs", describe(jobs, d.sched.Host()), "state", d.opts.StateFile,
		"metrics", d.opts.MetricsListen, "shutdown_grace", d.opts.ShutdownGrace.String())
	if d.o.RunNow {
		for _, sj := range jobs {
			go d.sched.RunNow(sj.Name) // at once: the jitter is for scheduled runs
		}
		if d.checks != nil {
			d.checks.runNow()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return d.drain()
		case <-d.o.Reload:
			d.reload()
		}
	}
}

// drain stops scheduling and waits for the running jobs, within the grace.
func (d *Daemon) drain() error {
	grace := time.Duration(d.opts.ShutdownGrace)
	d.log.Info("stopping: no new runs; running jobs may finish", "grace", grace.String())
	if d.checks != nil {
		d.checks.stop(grace)
	}
	if !d.sched.Shutdown(grace) {
		return fmt.Errorf("stopped: running jobs were cancelled after the %s grace period; their uploads were aborted", grace)
	}
	d.log.Info("stopped")
	return nil
}

// reload loads the plan again; an invalid one keeps the running jobs.
func (d *Daemon) reload() {
	plan, err := d.o.Load()
	if err != nil {
		d.log.Error("reload failed: keeping the running config", "config", d.o.Config, "err", cli.OneLine(err))
		return
	}
	if plan.Daemon != d.opts {
		d.log.Warn("daemon settings (state_file, textfile, metrics_listen, shutdown_grace) change only on restart")
	}
	d.mu.Lock()
	d.gate = plan.Gate
	d.mu.Unlock()
	d.sched.Load(plan.Jobs)
	d.recordSchedule()
	d.log.Info("config reloaded", "jobs", describe(plan.Jobs, d.sched.Host()))
}

// runOne is one scheduled run: the feedback loop around runJob, with a gate
// of this run alone (its in-process answers would never expire) on the
// settings of the plan last accepted.
func (d *Daemon) runOne(ctx context.Context, sj *backup.ScheduledJob) {
	d.mu.Lock()
	gate := NewGate(d.gate)
	d.mu.Unlock()
	gate.o.Log = d.log
	rep := *d.reporter
	rep.Selftest = Verdict(gate.AllowReadable())
	res, err := rep.Run(ctx, sj.Job, sj.Notify, func(ctx context.Context) (backup.Result, error) {
		return runJob(ctx, sj.Job, gate, d.log, nil)
	})
	if err != nil {
		d.log.Error("backup failed", "job", sj.Name, "reason", backup.FailureReason(err), "err", err.Error())
	} else {
		logComplete(d.log, res)
	}
	d.recordSchedule()
}

// recordSchedule writes the scheduled jobs' schedules and next runs to the
// state file; jobs no longer in the config (after a reload) lose theirs.
func (d *Daemon) recordSchedule() {
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

func plainJobs(jobs []*backup.ScheduledJob) []*backup.Job {
	out := make([]*backup.Job, len(jobs))
	for i, sj := range jobs {
		out[i] = sj.Job
	}
	return out
}

// describe lists "name (spec, next TIME)" for the log.
func describe(jobs []*backup.ScheduledJob, host string) string {
	now := time.Now()
	var parts []string
	for _, sj := range jobs {
		parts = append(parts, fmt.Sprintf("%s (%s, next %s)", sj.Name, sj.Spec, sj.Next(now, host).UTC().Format(time.RFC3339)))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func describeChecks(k *checks) string {
	var parts []string
	for _, r := range k.last {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", r.c.Kind, r.c.Name, r.c.Spec))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
