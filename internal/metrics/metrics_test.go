package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/putonly/putonly/internal/state"
	"go.yaml.in/yaml/v3"
)

func testState() *state.State {
	st := &state.State{}
	st.Record(state.Event{Job: "shop", Status: state.StatusSuccess, Bucket: "b", Key: "k",
		BytesIn: 1000, BytesOut: 250, DurationSeconds: 12.5,
		Start: time.Unix(1790000000, 0), End: time.Unix(1790000012, 0)})
	st.Record(state.Event{Job: "shop", Status: state.StatusFailure, Reason: "dump", DurationSeconds: 3,
		Start: time.Unix(1790086400, 0), End: time.Unix(1790086403, 0)})
	st.Record(state.Event{Job: "wiki", Status: state.StatusStart, Start: time.Unix(1790086500, 0)})
	st.Job("wiki").NextRun = time.Unix(1790172900, 0)
	st.Selftest = &state.SelftestState{Time: time.Unix(1790000100, 0), OK: true}
	return st
}

const wantMetrics = `
# HELP putonly_backup_failures_total Failed attempts by reason: dump, timeout, cancelled, access_denied, object_exists, manifest, config, upload.
# TYPE putonly_backup_failures_total counter
putonly_backup_failures_total{backup_job="shop",reason="dump"} 1
# HELP putonly_backup_last_attempt_success 1 if the last finished attempt completed a backup, 0 if it failed.
# TYPE putonly_backup_last_attempt_success gauge
putonly_backup_last_attempt_success{backup_job="shop"} 0
# HELP putonly_backup_last_attempt_timestamp_seconds When the job last started.
# TYPE putonly_backup_last_attempt_timestamp_seconds gauge
putonly_backup_last_attempt_timestamp_seconds{backup_job="shop"} 1.7900864e+09
putonly_backup_last_attempt_timestamp_seconds{backup_job="wiki"} 1.7900865e+09
# HELP putonly_backup_last_duration_seconds Duration of the last finished attempt.
# TYPE putonly_backup_last_duration_seconds gauge
putonly_backup_last_duration_seconds{backup_job="shop"} 3
# HELP putonly_backup_last_success_object_bytes Object size (compressed, encrypted) of the last completed backup.
# TYPE putonly_backup_last_success_object_bytes gauge
putonly_backup_last_success_object_bytes{backup_job="shop"} 250
# HELP putonly_backup_last_success_plaintext_bytes Dump size of the last completed backup.
# TYPE putonly_backup_last_success_plaintext_bytes gauge
putonly_backup_last_success_plaintext_bytes{backup_job="shop"} 1000
# HELP putonly_backup_last_success_timestamp_seconds When the job last completed a backup (absent until it has).
# TYPE putonly_backup_last_success_timestamp_seconds gauge
putonly_backup_last_success_timestamp_seconds{backup_job="shop"} 1.790000012e+09
# HELP putonly_backup_next_run_timestamp_seconds When the daemon next starts the job (jitter included).
# TYPE putonly_backup_next_run_timestamp_seconds gauge
putonly_backup_next_run_timestamp_seconds{backup_job="wiki"} 1.7901729e+09
# HELP putonly_backup_running 1 while the job runs.
# TYPE putonly_backup_running gauge
putonly_backup_running{backup_job="shop"} 0
putonly_backup_running{backup_job="wiki"} 1
# HELP putonly_backup_successes_total Completed backups.
# TYPE putonly_backup_successes_total counter
putonly_backup_successes_total{backup_job="shop"} 1
putonly_backup_successes_total{backup_job="wiki"} 0
# HELP putonly_build_info The putonly version.
# TYPE putonly_build_info gauge
putonly_build_info{version="1.2.3"} 1
# HELP putonly_selftest_ok 1 if the last self-test passed.
# TYPE putonly_selftest_ok gauge
putonly_selftest_ok 1
# HELP putonly_selftest_timestamp_seconds When the last self-test ran.
# TYPE putonly_selftest_timestamp_seconds gauge
putonly_selftest_timestamp_seconds 1.7900001e+09
# HELP putonly_state_readable 1 if the state file could be read at this collection.
# TYPE putonly_state_readable gauge
putonly_state_readable 1
`

func TestTextfile(t *testing.T) {
	reg := NewRegistry(func() (*state.State, error) { return testState(), nil }, "1.2.3")
	p := filepath.Join(t.TempDir(), "textfile", "putonly.prom")
	if err := WriteTextfile(p, reg); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.TrimPrefix(wantMetrics, "\n") {
		t.Errorf("textfile:\n%s\nwant:\n%s", got, wantMetrics)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantMetrics)); err != nil {
		t.Error(err)
	}
}

func TestUnreadableState(t *testing.T) {
	reg := NewRegistry(func() (*state.State, error) { return nil, errors.New("boom") }, "dev")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP putonly_state_readable 1 if the state file could be read at this collection.
# TYPE putonly_state_readable gauge
putonly_state_readable 0
`), "putonly_state_readable", "putonly_backup_last_success_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

func TestServer(t *testing.T) {
	reg := NewRegistry(func() (*state.State, error) { return testState(), nil }, "dev")
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:9465", "nonsense"} {
		if _, err := Listen(addr, reg, nil); err == nil {
			t.Errorf("Listen(%q) accepted a non-loopback address", addr)
		}
	}
	s, err := Listen("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `putonly_backup_last_success_timestamp_seconds{backup_job="shop"} 1.790000012e+09`) {
		t.Errorf("GET /metrics: %s\n%s", resp.Status, body)
	}
}

// TestExampleAlerts: the example alert rules parse and use only metrics
// this package exports.
func TestExampleAlerts(t *testing.T) {
	data, err := os.ReadFile("../../examples/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(func() (*state.State, error) { return testState(), nil }, "dev")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, mf := range mfs {
		known[mf.GetName()] = true
	}
	names := regexp.MustCompile(`putonly_[a-z_]+`)
	found26h := false
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks alert, expr or summary", r)
			}
			for _, m := range names.FindAllString(r.Expr, -1) {
				// putonly audit --wal writes these (restore.WriteWALPrometheus);
				// examples/grafana_test.go checks them against that writer.
				// The drill metrics come from restore.WriteDrillPrometheus and
				// the daemon's checks (internal/agent), checked there too.
				if strings.HasPrefix(m, "putonly_wal_") || strings.HasPrefix(m, "putonly_drill_") {
					continue
				}
				if !known[m] {
					t.Errorf("%s uses %s, which putonly does not export", r.Alert, m)
				}
			}
			if strings.Contains(r.Expr, "putonly_backup_last_success_timestamp_seconds > 26 * 3600") {
				found26h = true
			}
		}
	}
	if !found26h {
		t.Error(`no "no successful backup in 26 h" rule`)
	}
}
