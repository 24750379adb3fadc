package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
	"github.com/putonly/putonly/internal/cli"
)

func init() {
	register(&command{name: "status", order: 14, run: runStatus,
		summary: "status --config FILE               what each job last did and when it runs next"})
}

const statusUsage = `Usage:
  putonly status [--config FILE | --state FILE] [--json]

Prints what each job last did and when it runs next, from the state file the
daemon (and 'run' with --state or --textfile) keeps. It makes no request to
S3: the backup key could not read the bucket anyway.

Exit status: 0 when no job's last run failed; 1 when one did; 2 when there
is no state file or it cannot be read.

Flags:
`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "take the state file's path from this config (daemon.state_file)")
	state := fs.String("state", "", "state `file` (default: $PUTONLY_STATE_DIR/state.json, "+backup.DefaultStateFile+" as root)")
	asJSON := fs.Bool("json", false, "print the state file as JSON")
	if done, err := cli.ParseFlags(fs, cli.FlagUsage(fs, statusUsage), args, stdout, stderr); done {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("status takes no arguments (got %q)", fs.Arg(0))}
	}
	path := *state
	if path == "" && *config != "" {
		cfg, err := backup.LoadConfig(*config)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
		path = cfg.Daemon.StateFile
	}
	if path == "" {
		path = agent.DefaultStatePath()
	}
	st, err := backup.ReadState(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return &exitError{Code: 2, Err: fmt.Errorf("no state file at %s\n\thint: the daemon writes it; 'putonly run' does with --state FILE or --textfile FILE", path)}
	}
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	pid, running := agent.DaemonStatus(path)
	failed := printStatus(stdout, st, time.Now(), running)
	switch {
	case running:
		fmt.Fprintf(stdout, "\ndaemon running (pid %d)\n", pid)
	case hasSchedule(st):
		fmt.Fprintf(stdout, "\ndaemon not running: no scheduled run will start (NEXT RUN is what it would be)\n")
	}
	if failed > 0 {
		return &exitError{Code: 1}
	}
	return nil
}

// printStatus writes one line per job and, under a failed one, its error.
// It returns how many jobs' last run failed.
func printStatus(w io.Writer, st *backup.State, now time.Time, daemonRunning bool) int {
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
		dur := "-"
		if js.LastStatus == backup.StatusSuccess || js.LastStatus == backup.StatusFailure {
			d := time.Duration(js.LastDuration * float64(time.Second))
			if d < 10*time.Second {
				dur = d.Round(100 * time.Millisecond).String()
			} else {
				dur = d.Round(time.Second).String()
			}
		}
		success := when(js.LastSuccess, now)
		if js.LastSuccessObject != "" {
			success += " " + humanBytes(js.LastBytesOut)
		}
		schedule := js.Schedule
		if schedule == "" {
			schedule = "-"
		}
		next := when(js.NextRun, now)
		if !daemonRunning && !js.NextRun.IsZero() {
			next = "- (daemon not running)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, when(js.LastAttempt, now), result, dur, success, next, schedule)
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

func humanBytes(n int64) string { return human(n) }

// hasSchedule: some job in st was run by a daemon on a schedule.
func hasSchedule(st *backup.State) bool {
	for _, js := range st.Jobs {
		if js.Schedule != "" || !js.NextRun.IsZero() {
			return true
		}
	}
	return false
}
