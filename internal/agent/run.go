package agent

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/metrics"
)

// Feedback says where the results of runs go besides the log: the state
// file ('putonly status') and the node_exporter textfile.
type Feedback struct {
	StateFile string // empty: none, unless Textfile is set (then DefaultStatePath)
	Textfile  string
	Log       *slog.Logger
}

// Reporter is the feedback loop of runs: state file, textfile, notify
// destinations, and the self-test verdict of a gate that lets a readable
// key upload when allowReadable.
func (f Feedback) Reporter(allowReadable bool) *backup.Reporter {
	rep := &backup.Reporter{Log: f.Log, Notifier: &backup.Notifier{Log: f.Log}, Selftest: Verdict(allowReadable)}
	state := f.StateFile
	if state == "" && f.Textfile != "" {
		state = DefaultStatePath()
	}
	if state != "" {
		rep.State = backup.NewStateFile(state)
		rep.Recorded = textfileWriter(f.Textfile, rep.State, f.Log)
	}
	return rep
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

// RunOptions are what one pass over the jobs needs besides them.
type RunOptions struct {
	Log      *slog.Logger
	Reporter *backup.Reporter
	Dests    map[string][]backup.Destination // by job name
	Gate     backup.KeyChecker               // nil: no gate
	// Progress, when set, shows a running job's progress until stop is
	// called.
	Progress func(job string, p *backup.Progress) (stop func())
	// Completed is called with each completed backup as it completes.
	Completed func(backup.Result)
}

// RunJobs runs each job once, in order, through the reporter, and returns
// the error of each job that failed (or was not started because ctx ended),
// in order; nil when every job uploaded.
func RunJobs(ctx context.Context, jobs []*backup.Job, o RunOptions) []error {
	SetMemoryLimit(jobs)
	var failed []error
	for _, job := range jobs {
		if ctx.Err() != nil {
			failed = append(failed, fmt.Errorf("job %s: not started: %w", job.Name, context.Cause(ctx)))
			continue
		}
		res, err := o.Reporter.Run(ctx, job, o.Dests[job.Name], func(ctx context.Context) (backup.Result, error) {
			return runJob(ctx, job, o.Gate, o.Log, o.Progress)
		})
		if err != nil {
			o.Log.Error("backup failed", "job", job.Name, "reason", backup.FailureReason(err), "err", err.Error())
			failed = append(failed, err)
			continue
		}
		logComplete(o.Log, res)
		if o.Completed != nil {
			o.Completed(res)
		}
	}
	return failed
}

// runJob is one run of one job: its S3 client, then the pipeline with the
// gate in front.
func runJob(ctx context.Context, job *backup.Job, gate backup.KeyChecker, log *slog.Logger, progress func(string, *backup.Progress) func()) (backup.Result, error) {
	// Credentials and the endpoint are checked first, in seconds and
	// without an S3 request: a cause of set-up (s3err) is the job's
	// error, before any self-test.
	client, err := backup.Connect(ctx, job.Client, job.Bucket)
	if err != nil {
		return backup.Result{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	prog := &backup.Progress{}
	stop := func() {}
	if progress != nil {
		stop = progress(job.Name, prog)
	}
	res, err := backup.Run(ctx, client, job, backup.RunOptions{Log: log, Progress: prog, Keys: gate})
	stop()
	return res, err
}

func logComplete(log *slog.Logger, res backup.Result) {
	log.Info("backup complete",
		"job", res.Job,
		"object", "s3://"+res.Bucket+"/"+res.Key,
		"bytes_in", res.BytesIn,
		"bytes_out", res.BytesOut,
		"ratio", fmt.Sprintf("%.2f", res.Ratio()),
		"parts", res.Parts,
		"duration", res.Duration.Round(time.Millisecond).String(),
		"throughput", cli.Rate(res.BytesIn, res.Duration),
		"checksum", res.Checksum,
	)
}

// Args are what the command lines of run and daemon share: the jobs'
// source, the gate's --allow-readable-key, where results go besides the
// log.
type Args struct {
	Source
	AllowReadableKey bool
	StateFile        string // --state; default the config's daemon.state_file
	Textfile         string // --textfile; default the config's daemon.textfile
	Log              *slog.Logger
}

// OnceOptions are one 'putonly run'.
type OnceOptions struct {
	Args
	Progress  func(job string, p *backup.Progress) (stop func()) // nil: none
	Completed func(backup.Result)                                // each completed backup
}

// RunOnce loads the jobs once (a config error or bad flags: err) and runs
// each once, in order, behind one key gate on that same config; failed
// holds the error of each job that failed, as [RunJobs].
func RunOnce(ctx context.Context, o OnceOptions) (failed []error, err error) {
	cfg, jobs, err := o.Jobs()
	if err != nil {
		return nil, err
	}
	gate := NewGate(GateOptionsFrom(cfg, o.AllowReadableKey, o.Log))
	fb := Feedback{StateFile: o.StateFile, Textfile: o.Textfile, Log: o.Log}
	var dests map[string][]backup.Destination
	if cfg != nil {
		dests = cfg.Destinations()
		fb.StateFile = cmp.Or(fb.StateFile, cfg.Daemon.StateFile)
		fb.Textfile = cmp.Or(fb.Textfile, cfg.Daemon.Textfile)
	}
	return RunJobs(ctx, jobs, RunOptions{
		Log: o.Log, Reporter: fb.Reporter(gate.AllowReadable()), Dests: dests, Gate: gate,
		Progress: o.Progress, Completed: o.Completed,
	}), nil
}

// Progress is a [RunOptions] Progress that redraws "job: in N, out N,
// rate, elapsed" on w every second, in mode auto (on a terminal), always
// or never ([cli.ProgressLine]).
func Progress(mode string, w io.Writer) func(string, *backup.Progress) func() {
	return func(job string, p *backup.Progress) func() {
		return cli.ProgressLine(mode, w, func(el time.Duration) string {
			return fmt.Sprintf("%s: in %s, out %s, %s, %s", job,
				cli.Human(p.In.Load()), cli.Human(p.Out.Load()), cli.Rate(p.In.Load(), el), el.Round(time.Second))
		})
	}
}
