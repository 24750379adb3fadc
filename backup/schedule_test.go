package backup

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseScheduleNext(t *testing.T) {
	from := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) // a Thursday
	for _, tc := range []struct {
		spec, tz string
		want     time.Time
	}{
		{"15 2 * * *", "UTC", time.Date(2026, 11, 27, 2, 15, 0, 0, time.UTC)},
		{"*/20 * * * *", "UTC", time.Date(2026, 11, 26, 10, 20, 0, 0, time.UTC)},
		{"0 3 * * 1", "UTC", time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)},
		{"0 0 1 * *", "UTC", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"@daily", "UTC", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{"@hourly", "UTC", time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)},
		{"@weekly", "UTC", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)},
		{"@every 6h", "", from.Add(6 * time.Hour)},
		// Midnight in Berlin (UTC+1 in November) is 23:00 UTC.
		{"@daily", "Europe/Berlin", time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)},
		{"15 2 * * *", "America/New_York", time.Date(2026, 11, 27, 7, 15, 0, 0, time.UTC)},
	} {
		t.Run(tc.spec+"/"+tc.tz, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec, tc.tz)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(from); !got.Equal(tc.want) {
				t.Errorf("Next(%s) = %s, want %s", from, got.UTC(), tc.want)
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ spec, tz, want string }{
		{"", "", "empty"},
		{"61 * * * *", "", "above maximum"},
		{"* * * *", "", "expected exactly 5 fields"},
		{"0 0 * * * *", "", "expected exactly 5 fields"},
		{"@every 10s", "", "below one minute"},
		{"@fortnightly", "", "unrecognized descriptor"},
		{"CRON_TZ=UTC @daily", "", "set time_zone instead"},
		{"@daily", "Mars/Olympus", "unknown time zone"},
	} {
		_, err := ParseSchedule(tc.spec, tc.tz)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q, %q) = %v, want an error containing %q", tc.spec, tc.tz, err, tc.want)
		}
	}
}

func TestJitterDelay(t *testing.T) {
	if d := JitterDelay("db1", "shop", 0); d != 0 {
		t.Errorf("no jitter: %s", d)
	}
	// The delay is a function of the names alone, the same in every
	// process and every version, so a restart or an upgrade does not move
	// a host's start: FNV-1a 64 of "host\x00job", modulo the window
	// (values computed outside Go, with Python).
	for _, tc := range []struct {
		host, job string
		max, want time.Duration
	}{
		{"db1", "shop", time.Hour, 3025045977214},
		{"db2", "wiki", 24 * time.Hour, 9581719477709},
	} {
		if d := JitterDelay(tc.host, tc.job, tc.max); d != tc.want {
			t.Errorf("JitterDelay(%q, %q, %s) = %s, want %s", tc.host, tc.job, tc.max, d, tc.want)
		}
	}
	// A fleet spreads over the window.
	lo, hi := time.Hour, time.Duration(0)
	seen := map[time.Duration]bool{}
	for i := range 200 {
		d := JitterDelay("db"+string(rune('a'+i%26))+string(rune('a'+i/26)), "shop", time.Hour)
		if d < 0 || d >= time.Hour {
			t.Fatalf("delay %s outside [0, 1h)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
		seen[d] = true
	}
	if lo > 5*time.Minute || hi < 55*time.Minute || len(seen) < 190 {
		t.Errorf("200 hosts span %s..%s with %d distinct delays", lo, hi, len(seen))
	}
	if JitterDelay("db1", "shop", time.Hour) == JitterDelay("db1", "wiki", time.Hour) {
		t.Error("two jobs of a host start at the same offset")
	}
}

// fakeSleep records the delays asked for and returns at once, or blocks
// until ctx ends when block is set.
type fakeSleep struct {
	mu     sync.Mutex
	delays []time.Duration
	block  bool
	asked  chan struct{}
}

func (f *fakeSleep) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.delays = append(f.delays, d)
	block := f.block
	f.mu.Unlock()
	if f.asked != nil {
		f.asked <- struct{}{}
	}
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func scheduled(t *testing.T, name, spec string, jitter time.Duration) *ScheduledJob {
	t.Helper()
	s, err := ParseSchedule(spec, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return &ScheduledJob{Job: &Job{Name: name}, Spec: spec, Schedule: s, Jitter: jitter}
}

func TestSchedulerJitterFakeClock(t *testing.T) {
	clock := &fakeSleep{}
	var ran []string
	s := NewScheduler(SchedulerOptions{Host: "db1", Sleep: clock.Sleep, Run: func(ctx context.Context, sj *ScheduledJob) {
		ran = append(ran, sj.Name)
	}})
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@daily", 30*time.Minute), scheduled(t, "wiki", "@daily", 0)})
	if !s.Trigger("shop") || !s.Trigger("wiki") {
		t.Fatal("jobs not loaded")
	}
	if s.Trigger("nope") {
		t.Error("triggered an unknown job")
	}
	want := JitterDelay("db1", "shop", 30*time.Minute)
	if len(clock.delays) != 1 || clock.delays[0] != want {
		t.Errorf("slept %v, want [%s] (wiki has no jitter)", clock.delays, want)
	}
	if strings.Join(ran, ",") != "shop,wiki" {
		t.Errorf("ran %v", ran)
	}
	// The next run is the schedule's next activation plus the same delay.
	sj := scheduled(t, "shop", "@daily", 30*time.Minute)
	from := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	if got := sj.Next(from, "db1"); !got.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(want)) {
		t.Errorf("Next = %s", got)
	}
}

// TestSchedulerShutdownDuringJitter: a run still waiting for its jitter
// delay when the daemon stops never starts.
func TestSchedulerShutdownDuringJitter(t *testing.T) {
	clock := &fakeSleep{block: true, asked: make(chan struct{}, 1)}
	var ran atomic.Int32
	s := NewScheduler(SchedulerOptions{Host: "db1", Sleep: clock.Sleep, Run: func(ctx context.Context, sj *ScheduledJob) { ran.Add(1) }})
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@daily", time.Hour)})
	done := make(chan struct{})
	go func() { s.Trigger("shop"); close(done) }()
	<-clock.asked
	if !s.Shutdown(time.Hour) {
		t.Error("shutdown waited for the grace period")
	}
	<-done
	if ran.Load() != 0 {
		t.Error("the job started after shutdown")
	}
}

// TestSchedulerNoOverlap: a job still running is skipped, not doubled, by
// cron.SkipIfStillRunning and, across a reload, by the per-name lock.
func TestSchedulerNoOverlap(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var runs atomic.Int32
	s := NewScheduler(SchedulerOptions{Host: "db1", Run: func(ctx context.Context, sj *ScheduledJob) {
		runs.Add(1)
		started <- struct{}{}
		<-release
	}})
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@hourly", 0)})
	first := make(chan struct{})
	go func() { s.Trigger("shop"); close(first) }()
	<-started
	s.Trigger("shop") // same entry: returns at once
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@daily", 0)})
	s.Trigger("shop") // reloaded entry, old run still going: skipped
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs at once, want 1", n)
	}
	close(release)
	<-first
	s.Trigger("shop")
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs after the first ended, want 2", n)
	}
}

func TestSchedulerRecover(t *testing.T) {
	var runs atomic.Int32
	s := NewScheduler(SchedulerOptions{Host: "db1", Run: func(ctx context.Context, sj *ScheduledJob) {
		if runs.Add(1) == 1 {
			panic("boom")
		}
	}})
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@hourly", 0)})
	s.Trigger("shop")
	s.Trigger("shop") // the lock was released by the panic
	if runs.Load() != 2 {
		t.Errorf("runs = %d, want 2", runs.Load())
	}
}

// TestSchedulerShutdownGrace: running jobs may finish within the grace
// period; after it their context is cancelled.
func TestSchedulerShutdownGrace(t *testing.T) {
	t.Run("finishes", func(t *testing.T) {
		started, finish := make(chan struct{}), make(chan struct{})
		var cancelled atomic.Bool
		s := NewScheduler(SchedulerOptions{Host: "db1", Run: func(ctx context.Context, sj *ScheduledJob) {
			close(started)
			select {
			case <-finish:
			case <-ctx.Done():
				cancelled.Store(true)
			}
		}})
		s.Load([]*ScheduledJob{scheduled(t, "shop", "@hourly", 0)})
		go s.Trigger("shop")
		<-started
		go close(finish)
		if !s.Shutdown(time.Hour) || cancelled.Load() {
			t.Error("a job that finished within the grace period was cancelled")
		}
		finish = make(chan struct{})
		close(finish)
		started = make(chan struct{})
		s.Trigger("shop")
		select {
		case <-started:
			t.Error("a job ran after shutdown")
		default:
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		started := make(chan struct{})
		var cause error
		s := NewScheduler(SchedulerOptions{Host: "db1", Run: func(ctx context.Context, sj *ScheduledJob) {
			close(started)
			<-ctx.Done()
			cause = context.Cause(ctx)
		}})
		s.Load([]*ScheduledJob{scheduled(t, "shop", "@hourly", 0)})
		go s.Trigger("shop")
		<-started
		if s.Shutdown(time.Millisecond) {
			t.Error("Shutdown says the job finished in time")
		}
		if cause == nil || !strings.Contains(cause.Error(), "grace period") {
			t.Errorf("cause = %v", cause)
		}
	})
}

func TestConfigSchedule(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
notify:
  oncall: {webhook: "https://hooks.example.net/putonly", secret: s3cret}
  devs: {webhook: "http://127.0.0.1:9/dev", on: failure}
  shop-hc: {ping: "https://hc-ping.com/0b6f"}
daemon:
  metrics_listen: 127.0.0.1:9465
  state_file: /tmp/state.json
defaults:
  bucket: bkt
  recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]
  schedule: "15 2 * * *"
  time_zone: Europe/Berlin
  jitter: 30m
  notify: [oncall]
jobs:
  - name: shop
    source: {type: postgres, database: shop}
    notify: [oncall, shop-hc]
  - name: dev
    source: {type: postgres, database: dev}
    schedule: "@every 6h"
    jitter: 0s
    notify: [devs]
  - name: quiet
    source: {type: postgres, database: q}
    notify: []
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveSchedules()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*ScheduledJob{}
	for _, j := range jobs {
		got[j.Name] = j
	}
	if s := got["shop"]; s.Spec != "15 2 * * *" || s.TimeZone != "Europe/Berlin" || s.Jitter != 30*time.Minute || len(s.Notify) != 2 || s.Notify[1].Ping == "" {
		t.Errorf("shop = %+v", s)
	}
	if s := got["dev"]; s.Spec != "@every 6h" || s.Jitter != 0 || len(s.Notify) != 1 || s.Notify[0].On != "failure" {
		// jitter: 0s turns the default's jitter off.
		t.Errorf("dev = %+v", s)
	}
	if s := got["quiet"]; s.Jitter != 30*time.Minute {
		t.Errorf("quiet jitter %s, want the default's 30m", s.Jitter)
	}
	if s := got["quiet"]; len(s.Notify) != 0 {
		t.Errorf("quiet notifies %v", s.Notify)
	}
}

func TestConfigScheduleErrors(t *testing.T) {
	base := `
defaults:
  bucket: bkt
  recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]
`
	for _, tc := range []struct{ yaml, want string }{
		{"jobs: [{name: a, source: {type: postgres, database: a}, schedule: '61 * * * *'}]", `jobs[0] (a).schedule "61 * * * *"`},
		{"jobs: [{name: a, source: {type: postgres, database: a}, schedule: '@daily', time_zone: Mars/Base}]", `jobs[0] (a).time_zone "Mars/Base": unknown time zone`},
		{"jobs: [{name: a, source: {type: postgres, database: a}, jitter: -1m}]", `jobs[0] (a).jitter "-1m0s": out of range: 0s to 24h`},
		{"jobs: [{name: a, source: {type: postgres, database: a}, notify: [pager]}]", `jobs[0] (a).notify[0] "pager": no such destination`},
		{"notify: {x: {}}\njobs: [{name: a, source: {type: postgres, database: a}}]", `notify.x: no webhook, ping or sns`},
		{"notify: {x: {webhook: 'http://hooks.example.net/'}}\njobs: [{name: a, source: {type: postgres, database: a}}]", `notify.x.webhook "http://hooks.example.net/…": plain http to a remote host`},
		{"notify: {x: {ping: 'https://hc-ping.com/u', secret: s}}\njobs: [{name: a, source: {type: postgres, database: a}}]", `notify.x.secret: set on a ping destination`},
		{"notify: {x: {ping: 'https://hc-ping.com/u', on: sometimes}}\njobs: [{name: a, source: {type: postgres, database: a}}]", `notify.x.on "sometimes": unknown`},
		{"daemon: {metrics_listen: '0.0.0.0:9465'}\njobs: [{name: a, source: {type: postgres, database: a}}]", `daemon.metrics_listen "0.0.0.0:9465": not a loopback address`},
		{"daemon: {metrics_listen: ':9465'}\njobs: [{name: a, source: {type: postgres, database: a}}]", `not a loopback address`},
		{"daemon: {shutdown_grace: -1s}\njobs: [{name: a, source: {type: postgres, database: a}}]", `daemon.shutdown_grace`},
	} {
		_, err := ParseConfig([]byte(base + tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\nerr = %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
	// A job without a schedule is valid for 'run' but not for the daemon.
	cfg, err := ParseConfig([]byte(base + "jobs: [{name: a, source: {type: postgres, database: a}}]"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.ResolveSchedules()
	var ce *FieldError
	if !errors.As(err, &ce) || ce.Field != "jobs[0] (a).schedule" {
		t.Errorf("err = %v", err)
	}
}

// TestExampleDaemonConfig: examples/daemon.yaml runs under the daemon.
func TestExampleDaemonConfig(t *testing.T) {
	t.Setenv("PUTONLY_BUCKET", "acme-backups")
	cfg, err := LoadConfig("../examples/daemon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveSchedules()
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) < 3 || cfg.Daemon.MetricsListen == "" || len(cfg.Notify) < 3 {
		t.Errorf("example shows %d jobs, metrics %q, %d destinations", len(jobs), cfg.Daemon.MetricsListen, len(cfg.Notify))
	}
}

// RunNow (daemon --run-now) runs at once, without the jitter delay the
// scheduled runs of the same job wait for; an unknown job is reported.
func TestSchedulerRunNowSkipsJitter(t *testing.T) {
	clock := &fakeSleep{}
	var ran []string
	s := NewScheduler(SchedulerOptions{Host: "db1", Sleep: clock.Sleep, Run: func(ctx context.Context, sj *ScheduledJob) {
		ran = append(ran, sj.Name)
	}})
	s.Load([]*ScheduledJob{scheduled(t, "shop", "@daily", 4*time.Hour)})
	if !s.RunNow("shop") || s.RunNow("nope") {
		t.Fatal("RunNow: shop not run, or nope run")
	}
	if len(clock.delays) != 0 || strings.Join(ran, ",") != "shop" {
		t.Errorf("slept %v, ran %v: want no delay and one run", clock.delays, ran)
	}
	s.Trigger("shop") // the schedule's path still waits its delay
	if len(clock.delays) != 1 || clock.delays[0] != JitterDelay("db1", "shop", 4*time.Hour) {
		t.Errorf("scheduled run slept %v", clock.delays)
	}
}
