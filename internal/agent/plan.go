package agent

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/putonly/putonly/backup"
)

// DaemonArgs are the daemon's command line: run's, the ad-hoc job's
// notify destinations, and the daemon settings that override the config's
// daemon section when given (Set: metrics-listen, shutdown-grace, state,
// textfile).
type DaemonArgs struct {
	Args
	Webhook, Ping, SNS string // the ad-hoc job's destinations
	MetricsListen      string
	ShutdownGrace      time.Duration
}

// Plan reads the jobs, the daemon's settings and the gate's from the
// config (read once) or the command line: the daemon's start and each of
// its reloads.
func (a *DaemonArgs) Plan() (*Plan, error) {
	var p *Plan
	var err error
	if a.Config != "" {
		p, err = a.configPlan()
	} else {
		p, err = a.adhocPlan()
	}
	if err != nil {
		return nil, err
	}
	opts := &p.Daemon
	if a.Set["state"] {
		opts.StateFile = a.StateFile
	}
	if a.Set["textfile"] {
		opts.Textfile = a.Textfile
	}
	if a.Set["metrics-listen"] {
		opts.MetricsListen = a.MetricsListen
	}
	if a.Set["shutdown-grace"] {
		opts.ShutdownGrace = backup.Duration(a.ShutdownGrace)
	}
	opts.StateFile = cmp.Or(opts.StateFile, DefaultStatePath())
	opts.ShutdownGrace = cmp.Or(opts.ShutdownGrace, backup.Duration(backup.DefaultShutdownGrace))
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (a *DaemonArgs) configPlan() (*Plan, error) {
	src := a.Source
	src.Refuse = []string{"webhook", "ping", "sns"}
	cfg, err := src.LoadConfig()
	if err != nil {
		return nil, err
	}
	all, err := cfg.ResolveSchedules()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config, err)
	}
	p := &Plan{Daemon: cfg.Daemon, Gate: GateOptionsFrom(cfg, a.AllowReadableKey, a.Log), Checks: ChecksFrom(cfg)}
	var names []string
	for _, sj := range all {
		names = append(names, sj.Name)
		if a.Job == "" || sj.Name == a.Job {
			p.Jobs = append(p.Jobs, sj)
		}
	}
	if len(p.Jobs) == 0 && (a.Job != "" || len(p.Checks) == 0) {
		return nil, fmt.Errorf("no job named %q; the config has: %s", a.Job, strings.Join(names, ", "))
	}
	return p, nil
}

func (a *DaemonArgs) adhocPlan() (*Plan, error) {
	jc, err := a.Adhoc()
	if err != nil {
		return nil, err
	}
	if jc.Schedule == "" {
		return nil, errors.New("no --schedule\n\thint: putonly daemon --schedule '15 2 * * *' --bucket B --recipient age1... -- pg_dump -Fc -Z0 shop   (or --config FILE)")
	}
	dests := map[string]backup.NotifyConfig{}
	if a.Webhook != "" {
		dests["webhook"] = backup.NotifyConfig{Webhook: a.Webhook, Secret: os.Getenv("PUTONLY_WEBHOOK_SECRET")}
		jc.Notify = append(jc.Notify, "webhook")
	}
	if a.Ping != "" {
		dests["ping"] = backup.NotifyConfig{Ping: a.Ping}
		jc.Notify = append(jc.Notify, "ping")
	}
	if a.SNS != "" {
		dests["sns"] = backup.NotifyConfig{SNS: a.SNS, Profile: jc.Profile}
		jc.Notify = append(jc.Notify, "sns")
	}
	sj, err := backup.ResolveScheduledJob(jc, dests)
	if err != nil {
		return nil, err
	}
	if err := backup.ValidateNotifyFlags(dests); err != nil {
		return nil, err
	}
	return &Plan{Jobs: []*backup.ScheduledJob{sj}, Gate: GateOptionsFrom(nil, a.AllowReadableKey, a.Log)}, nil
}
