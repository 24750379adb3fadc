package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/restore"
	"github.com/robfig/cron/v3"
)

// Check is one scheduled drill or audit of the daemon on the auditor's
// host, resolved from the drills: and audits: sections.
type Check struct {
	Kind   string // "drill" or "audit"
	Name   string
	Spec   string
	Conn   backup.Connection // resolved
	Client backup.ClientOptions
	Notify []backup.Destination
	Drill  backup.DrillConfig
	Audit  backup.AuditConfig
}

// ChecksFrom resolves the config's drills and audits.
func ChecksFrom(cfg *backup.Config) []Check {
	var out []Check
	for _, d := range cfg.Drills {
		conn, co := cfg.Resolve(d.Connection)
		name := d.Name
		if name == "" {
			name = d.Job
		}
		out = append(out, Check{Kind: "drill", Name: name, Spec: d.Schedule, Conn: conn, Client: co, Notify: cfg.DestinationsOf(d.Notify), Drill: d})
	}
	for _, a := range cfg.Audits {
		conn, co := cfg.Resolve(a.Connection)
		name := a.Name
		if name == "" {
			name = conn.Bucket + "/" + conn.Prefix
		}
		out = append(out, Check{Kind: "audit", Name: name, Spec: a.Schedule, Conn: conn, Client: co, Notify: cfg.DestinationsOf(a.Notify), Audit: a})
	}
	return out
}

// checkResult is the last outcome of a check, for the metrics.
type checkResult struct {
	c           Check
	ok          bool
	end         time.Time
	lastSuccess time.Time
	duration    time.Duration
	rows        int64
	tables      int
	bytes       int64
	problems    int // audit: jobs with problems
}

// checks runs the drills and audits on their schedules (robfig/cron, with
// Recover and SkipIfStillRunning installed: a drill that outlives its
// period is not started twice), notifies like a backup run, and keeps the
// last results for the metrics.
type checks struct {
	log      *slog.Logger
	notifier *backup.Notifier
	cron     *cron.Cron
	// newAPI makes the read client of a check (tests swap it).
	newAPI func(ctx context.Context, c Check) (restore.API, error)

	mu   sync.Mutex
	last map[string]*checkResult
	now  sync.WaitGroup // the runs runNow started
}

func newChecks(list []Check, log *slog.Logger, notifier *backup.Notifier) (*checks, error) {
	cl := cronLogger{log}
	k := &checks{log: log, notifier: notifier, last: map[string]*checkResult{},
		cron: cron.New(cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))),
		newAPI: func(ctx context.Context, c Check) (restore.API, error) {
			return backup.NewS3Client(ctx, c.Client)
		}}
	for _, c := range list {
		c := c
		if _, err := k.cron.AddFunc(c.Spec, func() { k.run(context.Background(), c) }); err != nil {
			return nil, fmt.Errorf("%ss: %s: schedule %q: %w", c.Kind, c.Name, c.Spec, err)
		}
		k.last[c.Kind+"/"+c.Name] = &checkResult{c: c}
	}
	return k, nil
}

// run is one drill or audit, reported to its destinations.
func (k *checks) run(ctx context.Context, c Check) {
	start := time.Now()
	res := checkResult{c: c}
	var report any
	var err error
	switch c.Kind {
	case "drill":
		var rep restore.DrillReport
		rep, err = k.drill(ctx, c)
		report = rep
		if rep.Restored != nil {
			res.rows, res.tables, res.bytes = rep.Restored.Rows, len(rep.Restored.Tables), rep.Restored.Bytes
		}
		if res.bytes == 0 {
			res.bytes = rep.Bytes
		}
	case "audit":
		var rep *restore.AuditReport
		rep, err = k.audit(ctx, c)
		report = rep
		if rep != nil {
			for _, j := range rep.Jobs {
				if !j.OK() {
					res.problems++
				}
			}
		}
	}
	res.end, res.duration, res.ok = time.Now(), time.Since(start), err == nil
	k.mu.Lock()
	prev := k.last[c.Kind+"/"+c.Name]
	if prev != nil {
		res.lastSuccess = prev.lastSuccess
	}
	if res.ok {
		res.lastSuccess = res.end
	}
	k.last[c.Kind+"/"+c.Name] = &res
	k.mu.Unlock()

	ev := backup.Event{Job: c.Name, Kind: c.Kind, Status: backup.StatusSuccess, Bucket: c.Conn.Bucket,
		BytesIn: res.bytes, DurationSeconds: res.duration.Seconds(), Start: start.UTC(), End: res.end.UTC(), Version: backup.Version}
	ev.Host, _ = os.Hostname()
	if err != nil {
		ev.Status, ev.Error, ev.Reason = backup.StatusFailure, err.Error(), c.Kind
		k.log.Error(c.Kind+" failed", c.Kind, c.Name, "err", err.Error())
	} else {
		k.log.Info(c.Kind+" passed", c.Kind, c.Name, "rows", res.rows, "duration", res.duration.String())
	}
	if b, jerr := json.Marshal(report); jerr == nil {
		ev.Report = b
	}
	if len(c.Notify) > 0 {
		if nerr := k.notifier.Send(ctx, c.Notify, ev); nerr != nil {
			k.log.Error("notify failed", c.Kind, c.Name, "err", nerr.Error())
		}
	}
}

func (k *checks) drill(ctx context.Context, c Check) (restore.DrillReport, error) {
	d := c.Drill
	timeout := time.Duration(d.Timeout)
	if timeout == 0 {
		timeout = 12 * time.Hour
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("drill timeout of %s reached", timeout))
	defer cancel()
	var res restore.DrillResult
	ids, err := restore.LoadIdentities(d.Identity)
	if err != nil {
		return res.Report(d.Job, c.Conn.Bucket, err), err
	}
	api, err := k.newAPI(ctx, c)
	if err != nil {
		return res.Report(d.Job, c.Conn.Bucket, err), err
	}
	o := restore.DrillOptions{Bucket: c.Conn.Bucket, Prefix: c.Conn.Prefix, Job: d.Job, Identities: ids, Into: d.Into}
	if d.IntoDatabase != "" {
		o.Database = &restore.Database{Type: d.Type, Name: d.IntoDatabase}
	}
	var out bytes.Buffer
	o.Stdout, o.Stderr = &limited{b: &out}, &limited{b: &out}
	res, err = restore.Drill(ctx, api, o)
	if err != nil && out.Len() > 0 {
		err = fmt.Errorf("%w\n\ttarget output: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return res.Report(d.Job, c.Conn.Bucket, err), err
}

func (k *checks) audit(ctx context.Context, c Check) (*restore.AuditReport, error) {
	a := c.Audit
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	o := restore.AuditOptions{Bucket: c.Conn.Bucket, Prefix: c.Conn.Prefix, Jobs: a.Jobs, MaxAge: time.Duration(a.MaxAge)}
	if o.MaxAge == 0 {
		o.MaxAge = 26 * time.Hour
	}
	if a.Identity != "" {
		ids, err := restore.LoadIdentities(a.Identity)
		if err != nil {
			return nil, err
		}
		o.Identities = ids
	}
	api, err := k.newAPI(ctx, c)
	if err != nil {
		return nil, err
	}
	rep, err := restore.Audit(ctx, api, o)
	if err != nil {
		return rep, err
	}
	if !rep.OK() {
		var bad []string
		for _, j := range rep.Jobs {
			for _, p := range j.Problems {
				bad = append(bad, j.Prefix+j.Job+": "+p)
			}
		}
		return rep, fmt.Errorf("audit %s: %d problems: %v", c.Name, len(bad), bad)
	}
	return rep, nil
}

func (k *checks) start() { k.cron.Start() }

// runNow runs every drill and audit once, at once (daemon --run-now),
// through the chain of a scheduled run: one still running when its time
// comes is skipped, and a panic is recovered. Without it, --run-now on the
// auditor's host, which has no backup job, ran nothing at all.
func (k *checks) runNow() {
	for _, e := range k.cron.Entries() {
		k.now.Add(1)
		go func() {
			defer k.now.Done()
			e.WrappedJob.Run()
		}()
	}
}

// stop stops scheduling and waits up to grace for running checks.
func (k *checks) stop(grace time.Duration) {
	ctx := k.cron.Stop()
	done := make(chan struct{})
	go func() {
		<-ctx.Done()
		k.now.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
}

var (
	drillLabels       = []string{"bucket", "prefix", "job", "drill"}
	drillLastSuccess  = prometheus.NewDesc("putonly_drill_last_success_timestamp_seconds", "Time the last successful scheduled drill ended (0: none since the daemon started).", drillLabels, nil)
	drillLastOK       = prometheus.NewDesc("putonly_drill_last_attempt_success", "1 when the last scheduled drill passed.", drillLabels, nil)
	drillDuration     = prometheus.NewDesc("putonly_drill_last_duration_seconds", "Duration of the last scheduled drill.", drillLabels, nil)
	drillRows         = prometheus.NewDesc("putonly_drill_restored_rows", "Rows the scratch database held after the last drill.", drillLabels, nil)
	drillTables       = prometheus.NewDesc("putonly_drill_restored_tables", "Tables the scratch database held after the last drill.", drillLabels, nil)
	auditLabels       = []string{"bucket", "prefix", "audit"}
	auditLastSuccess  = prometheus.NewDesc("putonly_audit_last_success_timestamp_seconds", "Time the last scheduled audit that found no problem ended.", auditLabels, nil)
	auditLastOK       = prometheus.NewDesc("putonly_audit_last_attempt_success", "1 when the last scheduled audit found no problem.", auditLabels, nil)
	auditProblemJobs  = prometheus.NewDesc("putonly_audit_problem_jobs", "Jobs the last scheduled audit found stale, shrunk or without a good manifest.", auditLabels, nil)
	auditLastDuration = prometheus.NewDesc("putonly_audit_last_duration_seconds", "Duration of the last scheduled audit.", auditLabels, nil)
)

// Describe and Collect make the checks a Prometheus collector.
func (k *checks) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{drillLastSuccess, drillLastOK, drillDuration, drillRows, drillTables, auditLastSuccess, auditLastOK, auditProblemJobs, auditLastDuration} {
		ch <- d
	}
}

func (k *checks) Collect(ch chan<- prometheus.Metric) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ts := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.Unix())
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, r := range k.last {
		c := r.c
		switch c.Kind {
		case "drill":
			l := []string{c.Conn.Bucket, c.Conn.Prefix, c.Drill.Job, c.Name}
			ch <- prometheus.MustNewConstMetric(drillLastSuccess, prometheus.GaugeValue, ts(r.lastSuccess), l...)
			if r.end.IsZero() {
				continue
			}
			ch <- prometheus.MustNewConstMetric(drillLastOK, prometheus.GaugeValue, b2f(r.ok), l...)
			ch <- prometheus.MustNewConstMetric(drillDuration, prometheus.GaugeValue, r.duration.Seconds(), l...)
			ch <- prometheus.MustNewConstMetric(drillRows, prometheus.GaugeValue, float64(r.rows), l...)
			ch <- prometheus.MustNewConstMetric(drillTables, prometheus.GaugeValue, float64(r.tables), l...)
		case "audit":
			l := []string{c.Conn.Bucket, c.Conn.Prefix, c.Name}
			ch <- prometheus.MustNewConstMetric(auditLastSuccess, prometheus.GaugeValue, ts(r.lastSuccess), l...)
			if r.end.IsZero() {
				continue
			}
			ch <- prometheus.MustNewConstMetric(auditLastOK, prometheus.GaugeValue, b2f(r.ok), l...)
			ch <- prometheus.MustNewConstMetric(auditProblemJobs, prometheus.GaugeValue, float64(r.problems), l...)
			ch <- prometheus.MustNewConstMetric(auditLastDuration, prometheus.GaugeValue, r.duration.Seconds(), l...)
		}
	}
}

// limited keeps the first 4 KiB of a target's output, for the report.
type limited struct{ b *bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if room := 4096 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err.Error())...)
}
