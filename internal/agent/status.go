package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
)

// StatusOptions say where 'putonly status' finds the state file: State,
// else the config's daemon.state_file, else DefaultStatePath.
type StatusOptions struct {
	Config, State string
	JSON          bool // print the state file as JSON instead of the table
	Stdout        io.Writer
}

// ErrLastRunFailed: some job's last run failed (Status printed which).
var ErrLastRunFailed = errors.New("a job's last run failed")

// StateError means the state file, or the config naming it, cannot be
// read: there is nothing to report.
type StateError struct{ Err error }

func (e *StateError) Error() string { return e.Err.Error() }
func (e *StateError) Unwrap() error { return e.Err }

// Status prints what each job last did and when it runs next, from the
// state file the daemon (and 'run' with --state or --textfile) keeps, and
// whether the daemon runs. It makes no request to S3.
func Status(o StatusOptions) error {
	path := o.State
	if path == "" && o.Config != "" {
		cfg, err := backup.LoadConfig(o.Config)
		if err != nil {
			return &StateError{err}
		}
		path = cfg.Daemon.StateFile
	}
	if path == "" {
		path = DefaultStatePath()
	}
	st, err := backup.ReadState(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return &StateError{fmt.Errorf("no state file at %s\n\thint: the daemon writes it; 'putonly run' does with --state FILE or --textfile FILE", path)}
	}
	if err != nil {
		return &StateError{err}
	}
	if o.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	pid, running := DaemonStatus(path)
	failed := PrintStatus(o.Stdout, st, time.Now(), running)
	switch {
	case running:
		fmt.Fprintf(o.Stdout, "\ndaemon running (pid %d)\n", pid)
	case hasSchedule(st):
		fmt.Fprintf(o.Stdout, "\ndaemon not running: no scheduled run will start (NEXT RUN is what it would be)\n")
	}
	if failed > 0 {
		return ErrLastRunFailed
	}
	return nil
}

// PrintStatus writes one line per job and, under a failed one, its error.
// It returns how many jobs' last run failed.
func PrintStatus(w io.Writer, st *backup.State, now time.Time, daemonRunning bool) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tLAST RUN\tRESULT\tDURATION\tLAST SUCCESS\tNEXT RUN\tSCHEDULE")
	failed := 0
	var errs []string
	for _, name := range st.Names() {
		js := st.Jobs[name]
		result := js.LastStatus
		switch js.LastStatus {
		case "":
			result = "never run"
		case backup.StatusStart:
			result = "running"
		case backup.StatusFailure:
			result = "failed (" + js.LastReason + ")"
			failed++
			errs = append(errs, fmt.Sprintf("%s: %s", name, js.LastError))
		}
		success := when(js.LastSuccess, now)
		if js.LastSuccessObject != "" {
			success += " " + cli.Human(js.LastBytesOut)
		}
		schedule := js.Schedule
		if schedule == "" {
			schedule = "-"
		}
		next := when(js.NextRun, now)
		if !daemonRunning && !js.NextRun.IsZero() {
			next = "- (daemon not running)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, when(js.LastAttempt, now), result, lastDuration(js), success, next, schedule)
	}
	tw.Flush()
	for _, e := range errs {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(e))
	}
	if s := st.Selftest; s != nil {
		verdict := "passed"
		if !s.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "\nself-test %s %s\n", verdict, when(s.Time, now))
	}
	return failed
}

// lastDuration is how long the last finished run took, or "-".
func lastDuration(js *backup.JobState) string {
	if js.LastStatus != backup.StatusSuccess && js.LastStatus != backup.StatusFailure {
		return "-"
	}
	d := time.Duration(js.LastDuration * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// when is "2026-11-26 02:15Z (3h ago)" or "-".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	rel := "ago"
	if d < 0 {
		d, rel = -d, "from now"
	}
	return fmt.Sprintf("%s (%s %s)", t.UTC().Format("2006-01-02 15:04Z"), roughly(d), rel)
}

func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// hasSchedule: some job in st was run by a daemon on a schedule.
func hasSchedule(st *backup.State) bool {
	for _, js := range st.Jobs {
		if js.Schedule != "" || !js.NextRun.IsZero() {
			return true
		}
	}
	return false
}
