package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// State is what the state file records: each job's last result and next
// run, and the last self-test verdict. 'putonly status' prints it and the
// metrics are computed from it, so a failed run from cron still reports the
// last success of an earlier one.
type State struct {
	Updated  time.Time            `json:"updated,omitzero"`
	Jobs     map[string]*JobState `json:"jobs"`
	Selftest *SelftestState       `json:"selftest,omitempty"`
}

// JobState is one job's history in brief.
type JobState struct {
	Schedule string    `json:"schedule,omitempty"` // empty: not scheduled by a daemon
	NextRun  time.Time `json:"next_run,omitzero"`

	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	LastStatus   string    `json:"last_status,omitempty"` // running, success, failure
	LastReason   string    `json:"last_reason,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	LastDuration float64   `json:"last_duration_seconds,omitempty"`

	LastSuccess       time.Time `json:"last_success,omitzero"`
	LastSuccessObject string    `json:"last_success_object,omitempty"` // s3://bucket/key
	LastBytesIn       int64     `json:"last_success_bytes_in,omitempty"`
	LastBytesOut      int64     `json:"last_success_bytes_out,omitempty"`

	Successes int64            `json:"successes"`
	Failures  map[string]int64 `json:"failures,omitempty"` // by FailureReason
}

// SelftestState is the verdict of the last self-test.
type SelftestState struct {
	Time   time.Time `json:"time"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"`
}

// Job returns the named job's state, adding it if new.
func (s *State) Job(name string) *JobState {
	if s.Jobs == nil {
		s.Jobs = map[string]*JobState{}
	}
	js := s.Jobs[name]
	if js == nil {
		js = &JobState{}
		s.Jobs[name] = js
	}
	return js
}

// Names lists the jobs in order.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Jobs))
	for n := range s.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Record applies a job's start or end event.
func (s *State) Record(ev Event) {
	js := s.Job(ev.Job)
	switch ev.Status {
	case StatusStart:
		js.LastAttempt = ev.Start
		js.LastStatus = StatusStart
		js.LastReason, js.LastError = "", ""
		return
	case StatusSuccess:
		js.LastSuccess = ev.End
		js.LastSuccessObject = "s3://" + ev.Bucket + "/" + ev.Key
		js.LastBytesIn, js.LastBytesOut = ev.BytesIn, ev.BytesOut
		js.LastReason, js.LastError = "", ""
		js.Successes++
	case StatusFailure:
		js.LastReason, js.LastError = ev.Reason, ev.Error
		if js.Failures == nil {
			js.Failures = map[string]int64{}
		}
		js.Failures[ev.Reason]++
	}
	js.LastAttempt = ev.Start
	js.LastStatus = ev.Status
	js.LastDuration = ev.DurationSeconds
}

// StateFile is the state on disk, replaced atomically on each update and
// locked (flock on FILE.lock) against a 'run' from cron next to a daemon.
type StateFile struct {
	path string
	mu   sync.Mutex
}

// NewStateFile uses path; nothing is read or written yet.
func NewStateFile(path string) *StateFile { return &StateFile{path: path} }

// Path is the file's path.
func (f *StateFile) Path() string { return f.path }

// ReadState reads a state file. A missing file is an error wrapping
// fs.ErrNotExist.
func ReadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Jobs == nil {
		s.Jobs = map[string]*JobState{}
	}
	return &s, nil
}

// Read returns the current state; a missing file is an empty state.
func (f *StateFile) Read() (*State, error) {
	s, err := ReadState(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Jobs: map[string]*JobState{}}, nil
	}
	return s, err
}

// Update reads the state, applies fn and writes it back atomically. It
// returns the new state.
func (f *StateFile) Update(now time.Time, fn func(*State)) (*State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	lock, err := os.OpenFile(f.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("state: lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	s, err := f.Read()
	if err != nil {
		// A corrupt file must not stop backups: start afresh.
		s = &State{Jobs: map[string]*JobState{}}
	}
	fn(s)
	s.Updated = now.UTC()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(f.path, append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return s, nil
}

// writeFileAtomic writes a temporary file in the same directory, syncs it
// and renames it over path, so readers see the old or the new file whole.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

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
