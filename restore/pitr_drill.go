package restore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ServerOptions say how to start a recovered data directory for a drill.
type ServerOptions struct {
	DataDir string
	PGBin   string // directory of pg_ctl and psql; "" uses PATH
	Port    int
	Socket  string // socket directory; default the data directory's parent
	// AsUser prefixes every command (e.g. runuser -u postgres --): the
	// server refuses to run as root.
	AsUser  []string
	Env     []string
	Timeout time.Duration // for the whole recovery; default 30 minutes
}

// ReplayResult is what a recovered server said.
type ReplayResult struct {
	Duration time.Duration
	Timeline string // after promotion
	// LastTransaction is the log's "last completed transaction was at log
	// time ..." (empty when recovery replayed no commit).
	LastTransaction string
	Databases       []string
	Log             string // the server's log, for a failure
}

func (o ServerOptions) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	if o.PGBin != "" {
		name = filepath.Join(o.PGBin, name)
	}
	argv := append(append(append([]string(nil), o.AsUser...), name), args...)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = o.Env
	return c
}

// Replay starts the server of a data directory prepared by Prepare, waits
// until recovery finished and it promoted, asks what it holds, and stops it.
func Replay(ctx context.Context, o ServerOptions) (ReplayResult, error) {
	start := time.Now()
	var res ReplayResult
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Socket == "" {
		o.Socket = filepath.Dir(o.DataDir)
	}
	logFile := o.DataDir + ".log"
	readLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var out bytes.Buffer
	// -w: pg_ctl returns once the server accepts (read-only) connections,
	// or fails if it died first; then the pid file exists and "pg_ctl
	// status" below tells a running server from a dead one.
	c := o.cmd(ctx, "pg_ctl", "-D", o.DataDir, "-l", logFile, "-w", "-t", strconv.Itoa(int(o.Timeout.Seconds())), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=''", o.Port, o.Socket), "start")
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		res.Log = readLog()
		return res, fmt.Errorf("pg_ctl start: %v: %s %s", err, strings.TrimSpace(out.String()), lastLine(res.Log, "FATAL"))
	}
	defer func() {
		stop := o.cmd(context.WithoutCancel(ctx), "pg_ctl", "-D", o.DataDir, "-m", "fast", "-w", "stop")
		stop.Run()
	}()
	psql := func(q string) (string, error) {
		c := o.cmd(ctx, "psql", "-h", o.Socket, "-p", strconv.Itoa(o.Port), "-X", "-Atq", "-d", "postgres", "-c", q)
		b, err := c.CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	for {
		v, err := psql("select pg_is_in_recovery()")
		if err == nil && v == "f" {
			break
		}
		if st := o.cmd(ctx, "pg_ctl", "-D", o.DataDir, "status"); st.Run() != nil && ctx.Err() == nil {
			// The server exited: recovery failed (a missing segment
			// before consistency, restore_command exiting 126, ...).
			res.Log = readLog()
			return res, fmt.Errorf("the server stopped during recovery: %s", lastLine(res.Log, "FATAL"))
		}
		select {
		case <-ctx.Done():
			res.Log = readLog()
			return res, fmt.Errorf("recovery did not finish within %s (pg_is_in_recovery: %q)", o.Timeout, v)
		case <-time.After(300 * time.Millisecond):
		}
	}
	res.Duration = time.Since(start)
	res.Timeline, _ = psql("select timeline_id from pg_control_checkpoint()")
	dbs, _ := psql("select datname from pg_database where not datistemplate order by 1")
	res.Databases = strings.Fields(dbs)
	res.Log = readLog()
	if l := lastLine(res.Log, "last completed transaction was at log time "); l != "" {
		_, res.LastTransaction, _ = strings.Cut(l, "last completed transaction was at log time ")
	}
	return res, nil
}

func lastLine(log, substr string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}
