package backup

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// DaemonConfig holds the options of 'putonly daemon' and of the state and
// metrics it keeps. 'run' reads only StateFile and Textfile.
type DaemonConfig struct {
	// StateFile records each job's last result and next run (state.go).
	StateFile string `yaml:"state_file"`
	// MetricsListen serves Prometheus /metrics on this loopback host:port.
	MetricsListen string `yaml:"metrics_listen"`
	// Textfile is rewritten after every job for node_exporter's textfile
	// collector (a *.prom file in its --collector.textfile.directory).
	Textfile string `yaml:"textfile"`
	// ShutdownGrace is how long running jobs may go on after SIGTERM
	// before they are cancelled (and their multipart uploads aborted).
	ShutdownGrace Duration `yaml:"shutdown_grace"`
}

// Daemon defaults.
const (
	DefaultStateFile     = "/var/lib/putonly/state.json"
	DefaultShutdownGrace = 10 * time.Minute
)

// Validate checks the daemon options on their own (flags may override the
// file's).
func (d DaemonConfig) Validate() error { return errors.Join(d.validate()...) }

func (d DaemonConfig) validate() []error {
	var errs []error
	if d.MetricsListen != "" {
		if err := checkLoopback(d.MetricsListen); err != nil {
			errs = append(errs, fieldError("daemon.metrics_listen", d.MetricsListen, err.Error(), "write it as 127.0.0.1:9465 (metrics name jobs and hosts: keep them off the network, scrape through a proxy or node_exporter)"))
		}
	}
	if d.ShutdownGrace < 0 || d.ShutdownGrace > Duration(24*time.Hour) {
		errs = append(errs, &FieldError{Field: "daemon.shutdown_grace", Value: d.ShutdownGrace.String(),
			Err: &rangeError{"0s to 24h"}, Hint: "use a duration such as 10m"})
	}
	return errs
}

// checkLoopback accepts host:port where host is a loopback address or
// localhost.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not host:port")
	}
	if port == "" {
		return errors.New("no port")
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("not a loopback address")
	}
	return nil
}

// scheduleParser takes the standard five fields (minute hour day-of-month
// month day-of-week) and the descriptors @yearly, @monthly, @weekly,
// @daily, @hourly and @every DURATION.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron spec in the time zone tz (an IANA name such as
// Europe/Berlin; empty is the host's local time).
func ParseSchedule(spec, tz string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, errors.New("time zone inside the schedule: set time_zone instead")
	}
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("unknown time zone %q", tz)
		}
		spec = "CRON_TZ=" + tz + " " + spec
	}
	s, err := scheduleParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if d, ok := s.(cron.ConstantDelaySchedule); ok && d.Delay < time.Minute {
		return nil, errors.New("@every below one minute")
	}
	return s, nil
}

func (j JobConfig) validateSchedule(field string) []error {
	var errs []error
	if j.TimeZone != "" {
		if _, err := time.LoadLocation(j.TimeZone); err != nil {
			errs = append(errs, setting("time_zone").fieldErr(field, j.TimeZone, errors.New("unknown time zone"), "use an IANA name such as UTC or Europe/Berlin (the host needs tzdata)"))
		}
	}
	if j.Schedule != "" && len(errs) == 0 {
		if _, err := ParseSchedule(j.Schedule, j.TimeZone); err != nil {
			errs = append(errs, setting("schedule").fieldErr(field, j.Schedule, err, `use five fields (minute hour day-of-month month day-of-week) such as "15 2 * * *", or @daily, @hourly, @every 6h`))
		}
	}
	return errs
}

// JitterDelay is the start delay of job on host: a fixed point in [0, max)
// derived from the host and job names. A fleet with the same schedule
// spreads over the window, while each host starts at the same offset every
// time, so its next run is known in advance.
func JitterDelay(host, job string, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write([]byte(job))
	return time.Duration(h.Sum64() % uint64(max))
}

// ScheduledJob is a resolved job with its schedule and destinations.
type ScheduledJob struct {
	*Job
	Spec     string // as written, for logs and status
	TimeZone string
	Schedule cron.Schedule
	Jitter   time.Duration
	Notify   []Destination
}

// Next is when the job starts after t: the next activation of the schedule
// plus the host's jitter delay.
func (sj *ScheduledJob) Next(t time.Time, host string) time.Time {
	return sj.Schedule.Next(t).Add(JitterDelay(host, sj.Name, sj.Jitter))
}

// ResolveSchedules resolves every job for the daemon: each needs a schedule.
func (c *Config) ResolveSchedules() ([]*ScheduledJob, error) {
	var out []*ScheduledJob
	for i, jc := range c.Jobs {
		m := c.merge(jc)
		if m.Schedule == "" {
			return nil, fieldError(fmt.Sprintf("jobs[%d] (%s).schedule", i, jc.Name), "", "no schedule: the daemon would never run it", `set schedule under defaults or in the job, such as "15 2 * * *" or @daily`)
		}
		sj, err := ResolveScheduledJob(m, c.Notify)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", jc.Name, err)
		}
		out = append(out, sj)
	}
	return out, nil
}

// ResolveScheduledJob resolves a merged job config; dests are the named
// destinations its notify list refers to.
func ResolveScheduledJob(jc JobConfig, dests map[string]NotifyConfig) (*ScheduledJob, error) {
	job, err := ResolveJob(jc)
	if err != nil {
		return nil, err
	}
	sched, err := ParseSchedule(jc.Schedule, jc.TimeZone)
	if err != nil {
		field := "job"
		if jc.FromFlags {
			field = ""
		}
		return nil, setting("schedule").fieldErr(field, jc.Schedule, err, "")
	}
	sj := &ScheduledJob{Job: job, Spec: jc.Schedule, TimeZone: jc.TimeZone, Schedule: sched}
	if jc.Jitter != nil {
		sj.Jitter = time.Duration(*jc.Jitter)
	}
	for _, name := range jc.Notify {
		nc, ok := dests[name]
		if !ok {
			return nil, fieldError("notify", name, "no such destination", "")
		}
		sj.Notify = append(sj.Notify, Destination{Name: name, NotifyConfig: nc})
	}
	return sj, nil
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Log  *slog.Logger
	Host string // for the jitter delay; default: the hostname
	// Run runs one job. Its ctx is cancelled when the shutdown grace period
	// ends, which kills the dump and aborts the multipart upload.
	Run func(ctx context.Context, sj *ScheduledJob)
	// Sleep waits d or until ctx ends (the jitter delay). Tests pass a
	// fake clock; the default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Scheduler runs jobs on their schedules with robfig/cron. cron.Recover and
// cron.SkipIfStillRunning are always installed (the library's default chain
// is empty), and a per-name lock keeps a job from overlapping with itself
// across config reloads too.
type Scheduler struct {
	o    SchedulerOptions
	cron *cron.Cron

	mu      sync.Mutex
	entries map[string]cron.EntryID
	jobs    map[string]*ScheduledJob
	locks   map[string]*sync.Mutex
	stopped bool

	stopping   context.Context // ends when scheduling stops: cuts jitter waits
	stopNow    context.CancelFunc
	jobsCtx    context.Context // ends at the end of the grace period
	cancelJobs context.CancelCauseFunc
	running    sync.WaitGroup
}

// NewScheduler returns a stopped scheduler with no jobs.
func NewScheduler(o SchedulerOptions) *Scheduler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Host == "" {
		o.Host = hostname()
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	l := cronLogger{o.Log}
	// Recover goes inside SkipIfStillRunning: v3.0.1's SkipIfStillRunning
	// releases its token only when the job returns, so a panic passing
	// through it would skip that job forever.
	chain := cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l))
	s := &Scheduler{
		o:       o,
		cron:    cron.New(cron.WithParser(scheduleParser), chain, cron.WithLogger(l)),
		entries: map[string]cron.EntryID{},
		jobs:    map[string]*ScheduledJob{},
		locks:   map[string]*sync.Mutex{},
	}
	s.stopping, s.stopNow = context.WithCancel(context.Background())
	s.jobsCtx, s.cancelJobs = context.WithCancelCause(context.Background())
	return s
}

// Load replaces the scheduled jobs. Runs in progress go on; a job still
// running under its old definition is skipped, not doubled, if its new
// schedule fires before it ends.
func (s *Scheduler) Load(jobs []*ScheduledJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, id := range s.entries {
		s.cron.Remove(id)
		delete(s.entries, name)
	}
	s.jobs = map[string]*ScheduledJob{}
	for _, sj := range jobs {
		sj := sj
		s.jobs[sj.Name] = sj
		if s.locks[sj.Name] == nil {
			s.locks[sj.Name] = &sync.Mutex{}
		}
		s.entries[sj.Name] = s.cron.Schedule(sj.Schedule, cron.FuncJob(func() { s.fire(sj) }))
	}
}

// Jobs returns the scheduled jobs.
func (s *Scheduler) Jobs() []*ScheduledJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*ScheduledJob, 0, len(s.jobs))
	for _, sj := range s.jobs {
		out = append(out, sj)
	}
	return out
}

// Host is the name the jitter delays derive from.
func (s *Scheduler) Host() string { return s.o.Host }

// fire is what cron runs, inside its Recover and SkipIfStillRunning chain.
func (s *Scheduler) fire(sj *ScheduledJob) { s.start(sj, true) }

// start runs sj under its per-name lock, after its jitter delay when
// jitter is set.
func (s *Scheduler) start(sj *ScheduledJob, jitter bool) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	lock := s.locks[sj.Name]
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()
	if !lock.TryLock() {
		s.o.Log.Warn("job still running, skipping this run", "job", sj.Name)
		return
	}
	defer lock.Unlock()
	if d := JitterDelay(s.o.Host, sj.Name, sj.Jitter); jitter && d > 0 {
		s.o.Log.Info("waiting for the jitter delay", "job", sj.Name, "delay", d.Round(time.Second).String())
		if err := s.o.Sleep(s.stopping, d); err != nil {
			s.o.Log.Info("shutting down: run not started", "job", sj.Name)
			return
		}
	}
	if s.jobsCtx.Err() != nil {
		return
	}
	s.o.Run(s.jobsCtx, sj)
}

// Trigger runs the named job now through the same chain as the schedule
// (Recover, SkipIfStillRunning, jitter, the per-name lock) and returns when
// it is done. It reports whether the job exists.
func (s *Scheduler) Trigger(name string) bool {
	s.mu.Lock()
	id, ok := s.entries[name]
	s.mu.Unlock()
	if !ok {
		return false
	}
	e := s.cron.Entry(id)
	if e.WrappedJob == nil {
		return false
	}
	e.WrappedJob.Run()
	return true
}

// RunNow runs the named job at once, without its jitter delay (the
// delay spreads a fleet's scheduled runs; a run asked for now is not one),
// under the same per-name lock as the schedule, so it never overlaps a
// scheduled run of the job, and with a recover like cron.Recover. It
// returns when the run is done and reports whether the job exists.
func (s *Scheduler) RunNow(name string) bool {
	s.mu.Lock()
	sj, ok := s.jobs[name]
	s.mu.Unlock()
	if !ok {
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			s.o.Log.Error("job panicked", "job", name, "panic", fmt.Sprint(r))
		}
	}()
	s.start(sj, false)
	return true
}

// Start begins scheduling.
func (s *Scheduler) Start() { s.cron.Start() }

// Shutdown stops scheduling (and cuts jitter waits: those runs never
// start), lets running jobs finish for up to grace, then cancels them, which
// kills their dumps and aborts their multipart uploads, and waits for them
// to end. It reports whether the jobs finished within the grace period.
func (s *Scheduler) Shutdown(grace time.Duration) bool {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.cron.Stop() // its context would wait for the jobs without a limit
	s.stopNow()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
	}
	s.o.Log.Warn("shutdown grace period over: cancelling running jobs and aborting their uploads", "grace", grace.String())
	s.cancelJobs(fmt.Errorf("%w grace period over", ErrShutdown))
	<-done
	return false
}

// Cancel cancels running jobs at once (a second signal).
func (s *Scheduler) Cancel() { s.cancelJobs(fmt.Errorf("%w: cancelled", ErrShutdown)) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cronLogger sends cron's own messages to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	// cron logs every wake-up; only skips matter.
	if msg == "skip" {
		c.l.Warn("job still running, skipping this run")
	}
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("scheduler: "+msg, append([]any{"err", fmt.Sprint(err)}, kv...)...)
}
