package backup

import (
	"context"
	"log/slog"
	"time"

	"github.com/putonly/putonly/internal/state"
)

// Reporter is the feedback loop around one run of a job: it records the
// start and the result in the state file and sends them to the job's
// destinations.
type Reporter struct {
	State    *StateFile // optional
	Notifier *Notifier  // optional
	Host     string     // default: the hostname
	Log      *slog.Logger
	Now      func() time.Time
	// Recorded is called with the new state after each update (the
	// node_exporter textfile writer).
	Recorded func(*State)
	// NotifyTimeout bounds the delivery of one event to all destinations,
	// even after the job's context ended; default 2 minutes.
	NotifyTimeout time.Duration
	// Selftest, when set, tells what a run's result says of the key's
	// self-test: passed, failed (then the reason is "selftest"), or nil
	// when the result says nothing.
	Selftest func(err error) *SelftestState
}

// Run reports the start, calls run, and reports the result, which it
// returns unchanged.
func (r *Reporter) Run(ctx context.Context, job *Job, dests []Destination, run func(context.Context) (Result, error)) (Result, error) {
	start := r.now()
	r.report(ctx, dests, Event{Job: job.Name, Host: r.host(), Status: StatusStart, Bucket: job.Bucket, Start: start.UTC(), Version: Version})
	res, err := run(ctx)
	end := r.now()
	ev := Event{
		Job: job.Name, Host: r.host(), Status: StatusSuccess, Bucket: job.Bucket, Key: res.Key,
		BytesIn: res.BytesIn, BytesOut: res.BytesOut, DurationSeconds: end.Sub(start).Seconds(),
		Start: start.UTC(), End: end.UTC(), Version: Version,
	}
	var verdict *SelftestState
	if r.Selftest != nil {
		if verdict = r.Selftest(err); verdict != nil && verdict.Time.IsZero() {
			verdict.Time = end.UTC()
		}
	}
	if err != nil {
		ev.Status = StatusFailure
		ev.Reason = FailureReason(err)
		if verdict != nil && !verdict.OK {
			ev.Reason = "selftest"
		}
		ev.Error = err.Error()
	}
	r.report(ctx, dests, ev, verdict)
	return res, err
}

func (r *Reporter) report(ctx context.Context, dests []Destination, ev Event, verdict ...*SelftestState) {
	if r.State != nil {
		at := ev.End
		if at.IsZero() {
			at = ev.Start
		}
		s, err := r.State.Update(at, func(s *State) {
			s.Record(ev)
			if len(verdict) > 0 && verdict[0] != nil {
				s.Selftest = verdict[0]
			}
		})
		if err != nil {
			r.log().Error("state not recorded", "job", ev.Job, "err", err.Error())
		} else if r.Recorded != nil {
			r.Recorded(s)
		}
	}
	if r.Notifier == nil || len(dests) == 0 {
		return
	}
	// The job's context may be cancelled (shutdown): the result still goes
	// out, within a bound.
	timeout := r.NotifyTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	r.Notifier.Send(nctx, dests, ev) // failures are logged by the notifier
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reporter) host() string {
	if r.Host != "" {
		return r.Host
	}
	return hostname()
}

func (r *Reporter) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// The state file's format is owned by internal/state; these names are
// backup's view of it, for the Reporter's callers.
type (
	State         = state.State
	JobState      = state.JobState
	SelftestState = state.SelftestState
	StateFile     = state.File
)

// NewStateFile uses path; nothing is read or written yet.
func NewStateFile(path string) *StateFile { return state.NewFile(path) }

// ReadState reads a state file. A missing file is an error wrapping
// fs.ErrNotExist.
func ReadState(path string) (*State, error) { return state.Read(path) }
