// Package state owns the record of what the agent's jobs did: the [Event]
// each run emits (sent to notification destinations as JSON) and the
// [State] those events fold into, kept in a [File] that 'putonly status'
// prints and the metrics are computed from.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/putonly/putonly/internal/atomicfile"
)

// Event statuses.
const (
	StatusStart   = "start"
	StatusSuccess = "success"
	StatusFailure = "failure"
)

// Event is what a destination receives after every job (and, for pings,
// when it starts).
type Event struct {
	Job             string    `json:"job"`
	Host            string    `json:"host"`
	Status          string    `json:"status"`
	Bucket          string    `json:"bucket,omitempty"`
	Key             string    `json:"object_key,omitempty"`
	BytesIn         int64     `json:"bytes_in"`
	BytesOut        int64     `json:"bytes_out"`
	DurationSeconds float64   `json:"duration_seconds"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end,omitzero"`
	Reason          string    `json:"reason,omitempty"`
	Error           string    `json:"error,omitempty"`
	Version         string    `json:"putonly_version"`
	// Kind is "drill" or "audit" for the daemon's checks; empty for a
	// backup. Report is then the check's whole report (JSON).
	Kind   string          `json:"kind,omitempty"`
	Report json.RawMessage `json:"report,omitempty"`
}

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

// File is the state on disk, replaced atomically on each update and
// locked (flock on FILE.lock) against a 'run' from cron next to a daemon.
type File struct {
	path string
	mu   sync.Mutex
}

// NewFile uses path; nothing is read or written yet.
func NewFile(path string) *File { return &File{path: path} }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Read reads a state file. A missing file is an error wrapping
// fs.ErrNotExist.
func Read(path string) (*State, error) {
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
func (f *File) Read() (*State, error) {
	s, err := Read(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Jobs: map[string]*JobState{}}, nil
	}
	return s, err
}

// Update reads the state, applies fn and writes it back atomically. It
// returns the new state.
func (f *File) Update(now time.Time, fn func(*State)) (*State, error) {
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
	if err := atomicfile.WriteFile(f.path, append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return s, nil
}
