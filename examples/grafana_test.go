package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/metrics"
	"github.com/putonly/putonly/restore"
	"go.yaml.in/yaml/v3"
)

// metricName finds putonly's metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\bputonly_[a-z0-9_]+\b`)

// dashboard is the part of a Grafana dashboard these tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("grafana/putonly.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana/putonly.json: %v", err)
	}
	return d
}

// queriedMetrics maps each putonly metric a panel or a template variable
// queries to where it is queried.
func (d dashboard) queriedMetrics() map[string]string {
	m := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				for _, name := range metricName.FindAllString(tg.Expr, -1) {
					m[name] = "panel " + p.Title
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		for _, name := range metricName.FindAllString(v.Definition, -1) {
			m[name] = "variable " + v.Name
		}
	}
	return m
}

// exportedMetrics is every metric name putonly exports, read the way
// Prometheus reads them: a scrape of the daemon's /metrics (a real
// listener on loopback, with a state that has every kind of sample), the
// audit's textfile and the drill's textfile.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	now := time.Now()
	st := &backup.State{}
	js := st.Job("shop")
	js.Schedule = "15 2 * * *"
	js.NextRun = now.Add(time.Hour)
	js.LastAttempt = now
	js.LastStatus = backup.StatusFailure
	js.LastDuration = 12
	js.LastSuccess = now.Add(-24 * time.Hour)
	js.LastBytesIn, js.LastBytesOut = 100, 30
	js.Successes = 3
	js.Failures = map[string]int64{"dump": 1}
	st.Selftest = &backup.SelftestState{Time: now, OK: true}

	reg := metrics.NewRegistry(func() (*backup.State, error) { return st, nil }, "test")
	srv, err := metrics.Listen("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Shutdown(t.Context())
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := map[string]bool{}
	addExposition(t, got, resp.Body)

	rep := &restore.AuditReport{Time: now, Bucket: "b", Prefix: "db1/", Jobs: []*restore.JobAudit{{
		Prefix: "db1/", Job: "shop", Count: 3, Baseline: 100,
		Newest: &restore.Backup{Key: "db1/shop/x", Time: now, LastModified: now, Size: 90},
	}}}
	var b bytes.Buffer
	if err := rep.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	addExposition(t, got, &b)

	b.Reset()
	if err := restore.WriteDrillPrometheus(&b, "b", "db1/", "shop",
		restore.DrillResult{Contents: &restore.Contents{Rows: 10, Tables: []restore.TableCount{{}}}, Backup: restore.Backup{Time: now}}, nil); err != nil {
		t.Fatal(err)
	}
	addExposition(t, got, &b)

	b.Reset()
	walObj := &restore.WALObject{LastModified: now}
	if err := restore.WriteWALPrometheus(&b, "b", []*restore.WALAudit{{Prefix: "db1/", Job: "shop", Newest: walObj}}); err != nil {
		t.Fatal(err)
	}
	addExposition(t, got, &b)
	return got
}

// addExposition adds the sample names of a Prometheus text exposition.
func addExposition(t *testing.T, names map[string]bool, r io.Reader) {
	t.Helper()
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
		n++
	}
	if n == 0 {
		t.Fatal("an exposition without samples")
	}
}

// TestDashboardQueriesExportedMetrics: every metric a panel of
// examples/grafana/putonly.json (or a template variable) queries is one
// putonly exports, so a renamed metric cannot leave an empty panel.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	d := loadDashboard(t)
	queried := d.queriedMetrics()
	if len(queried) < 10 {
		t.Fatalf("the dashboard queries only %d putonly metrics", len(queried))
	}
	exported := exportedMetrics(t)
	for _, name := range sortedKeys(queried) {
		if !exported[name] {
			t.Errorf("%s queries %s, which putonly does not export", queried[name], name)
		}
	}
}

// TestDashboardPanels: the panels the operators asked for are there.
func TestDashboardPanels(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" {
		t.Error("the dashboard has no uid: imports would duplicate it")
	}
	queried := d.queriedMetrics()
	for _, want := range []string{
		"putonly_backup_last_success_timestamp_seconds", // time since the last good backup
		"putonly_backup_last_attempt_success",           // last attempt result
		"putonly_backup_last_duration_seconds",          // duration
		"putonly_backup_last_success_plaintext_bytes",   // size
		"putonly_backup_failures_total",                 // failures by reason
		"putonly_selftest_ok",                           // self-test state
		"putonly_drill_ok",                              // drills
		"putonly_backup_ok",                             // audits
		"putonly_drill_last_success_timestamp_seconds",  // no successful drill in 8 days
		"putonly_wal_newest_timestamp_seconds",          // WAL archiving (the RPO)
	} {
		if _, ok := queried[want]; !ok {
			t.Errorf("no panel queries %s", want)
		}
	}
	// The 26 h threshold of the alert is the panel's red step.
	data, _ := os.ReadFile("grafana/putonly.json")
	if !bytes.Contains(data, []byte(`"value": 93600`)) {
		t.Error("no panel turns red at 26 h (93600 s), the PutonlyNoRecentBackup threshold")
	}
}

// TestAlertRulesQueryExportedMetrics: the alert rules query only exported
// metrics.
func TestAlertRulesQueryExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, name := range metricName.FindAllString(r.Expr, -1) {
				n++
				if !exported[name] {
					t.Errorf("alert %s queries %s, which putonly does not export", r.Alert, name)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no alert rule queries a putonly metric")
	}
}

// TestAlertRulesPromtool runs Prometheus's own checker and its rule unit
// tests (prometheus/alerts_test.yml) on the alert rules.
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PUTONLY_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("promtool (Debian package prometheus) is required with PUTONLY_REQUIRE_INTEGRATION=1")
		}
		t.Skip("promtool not installed (Debian package prometheus); set PUTONLY_REQUIRE_INTEGRATION=1 to fail instead")
	}
	for _, args := range [][]string{
		{"check", "rules", "prometheus/alerts.yml"},
		{"test", "rules", "prometheus/alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}
