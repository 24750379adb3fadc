package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/state"
	"github.com/putonly/putonly/restore"
)

// TestE2EDaemonDrill: the auditor's host runs a daemon with read
// credentials and no backup job, only a drill and an audit on schedules.
// Their results reach a webhook (a test receiver) and the metrics.
func TestE2EDaemonDrill(t *testing.T) {
	e := newE2E(t, "sqlite3")
	src := filepath.Join(e.dir, "app.db")
	sh(t, fmt.Sprintf(`sqlite3 %q "create table notes(id integer primary key, body text);
with recursive g(i) as (select 1 union all select i+1 from g where i < 1500) insert into notes select i, 'note ' || i from g;"`, src))
	cfg := e.config(fmt.Sprintf("  - name: app\n    source: {type: sqlite, path: %s}\n", src))
	if code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json"); code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}

	var mu sync.Mutex
	var events []state.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev state.Event
		if json.Unmarshal(b, &ev) == nil {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	scratch := filepath.Join(e.dir, "drill.db")
	// A second drill whose scratch file holds a table: it must fail, be
	// reported as a failure, and leave the file alone.
	full := filepath.Join(e.dir, "full.db")
	sh(t, fmt.Sprintf(`sqlite3 %q "create table keep(x); insert into keep values (42)"`, full))
	auditor := filepath.Join(e.dir, "auditor.yaml")
	os.WriteFile(auditor, []byte(fmt.Sprintf(`defaults:
  bucket: %s
  prefix: db1/
  endpoint: %s
  path_style: true
notify:
  ops: {webhook: %s}
daemon:
  state_file: %s
  metrics_listen: %s
drills:
  - job: app
    schedule: "@every 2s"
    identity: %s
    into_database: %s
    notify: [ops]
  - name: app-into-full
    job: app
    schedule: "@every 2s"
    identity: %s
    into_database: %s
    notify: [ops]
audits:
  - name: db1
    schedule: "@every 2s"
    max_age: 1h
    jobs: [app]
    identity: %s
    notify: [ops]
`, e.s.Bucket, e.s.Endpoint, hook.URL, filepath.Join(e.dir, "state.json"), addr, e.idFile, scratch, e.idFile, full, e.idFile)), 0o600)

	cmd := exec.Command(putonlyBin, "daemon", "--config", auditor, "--log-format", "json")
	cmd.Env = e.readEnv()
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	var drill, audit, failed *state.Event
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && (drill == nil || audit == nil || failed == nil); time.Sleep(200 * time.Millisecond) {
		mu.Lock()
		for i := range events {
			switch ev := &events[i]; ev.Kind {
			case "drill":
				if ev.Job == "app-into-full" {
					failed = ev
				} else {
					drill = ev
				}
			case "audit":
				audit = ev
			}
		}
		mu.Unlock()
	}
	if drill == nil || audit == nil || failed == nil {
		t.Fatalf("webhook got %d events, no drill or audit\n%s", len(events), logs.String())
	}
	if drill.Status != state.StatusSuccess || drill.Job != "app" || audit.Status != state.StatusSuccess {
		t.Fatalf("drill %+v\naudit %+v\n%s", drill, audit, logs.String())
	}
	if failed.Status != state.StatusFailure || !strings.Contains(failed.Error, "exists and is not empty") {
		t.Fatalf("failing drill %+v", failed)
	}
	if got := sh(t, fmt.Sprintf(`sqlite3 %q "select x from keep"`, full)); got != "42" {
		t.Fatalf("the full scratch file changed: %q", got)
	}
	var rep restore.DrillReport
	if err := json.Unmarshal(drill.Report, &rep); err != nil || rep.Restored == nil || rep.Restored.Rows != 1500 || !rep.Dropped {
		t.Fatalf("drill report %s (%v)", drill.Report, err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		// A drill may be running right now; the one reported dropped its file.
		t.Logf("scratch file present (a drill in progress?): %v", err)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	labels := fmt.Sprintf(`{bucket="%s",drill="app",job="app",prefix="db1/"}`, e.s.Bucket)
	for _, want := range []string{
		"putonly_drill_restored_rows" + labels + " 1500",
		"putonly_drill_last_attempt_success" + labels + " 1",
		fmt.Sprintf(`putonly_audit_last_attempt_success{audit="db1",bucket="%s",prefix="db1/"} 1`, e.s.Bucket),
		fmt.Sprintf(`putonly_drill_last_attempt_success{bucket="%s",drill="app-into-full",job="app",prefix="db1/"} 0`, e.s.Bucket),
		fmt.Sprintf(`putonly_drill_last_success_timestamp_seconds{bucket="%s",drill="app-into-full",job="app",prefix="db1/"} 0`, e.s.Bucket),
	} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %s\n%s", want, grepLines(m, "putonly_drill", "putonly_audit"))
		}
	}
	if strings.Contains(m, "putonly_drill_last_success_timestamp_seconds"+labels+" 0\n") {
		t.Fatalf("no last success recorded:\n%s", grepLines(m, "putonly_drill"))
	}
}

func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
