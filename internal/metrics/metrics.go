// Package metrics exposes the backup state to Prometheus: a /metrics
// endpoint for the daemon and a node_exporter textfile for 'run'.
//
// Every value is computed from the state file at collection time, so the
// daemon, a 'run' from cron and a restart all report the same history.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/putonly/putonly/internal/state"
)

var (
	lastSuccess = prometheus.NewDesc("putonly_backup_last_success_timestamp_seconds",
		"When the job last completed a backup (absent until it has).", []string{"backup_job"}, nil)
	lastAttempt = prometheus.NewDesc("putonly_backup_last_attempt_timestamp_seconds",
		"When the job last started.", []string{"backup_job"}, nil)
	lastOK = prometheus.NewDesc("putonly_backup_last_attempt_success",
		"1 if the last finished attempt completed a backup, 0 if it failed.", []string{"backup_job"}, nil)
	running = prometheus.NewDesc("putonly_backup_running",
		"1 while the job runs.", []string{"backup_job"}, nil)
	lastDuration = prometheus.NewDesc("putonly_backup_last_duration_seconds",
		"Duration of the last finished attempt.", []string{"backup_job"}, nil)
	bytesIn = prometheus.NewDesc("putonly_backup_last_success_plaintext_bytes",
		"Dump size of the last completed backup.", []string{"backup_job"}, nil)
	bytesOut = prometheus.NewDesc("putonly_backup_last_success_object_bytes",
		"Object size (compressed, encrypted) of the last completed backup.", []string{"backup_job"}, nil)
	successes = prometheus.NewDesc("putonly_backup_successes_total",
		"Completed backups.", []string{"backup_job"}, nil)
	failures = prometheus.NewDesc("putonly_backup_failures_total",
		"Failed attempts by reason: dump, timeout, cancelled, access_denied, object_exists, manifest, config, upload.", []string{"backup_job", "reason"}, nil)
	nextRun = prometheus.NewDesc("putonly_backup_next_run_timestamp_seconds",
		"When the daemon next starts the job (jitter included).", []string{"backup_job"}, nil)
	selftestOK = prometheus.NewDesc("putonly_selftest_ok",
		"1 if the last self-test passed.", nil, nil)
	selftestTime = prometheus.NewDesc("putonly_selftest_timestamp_seconds",
		"When the last self-test ran.", nil, nil)
	stateOK = prometheus.NewDesc("putonly_state_readable",
		"1 if the state file could be read at this collection.", nil, nil)
)

// StateCollector reports a state.State read at each collection.
type StateCollector struct {
	Read func() (*state.State, error)
}

// Describe sends the descriptors.
func (c StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lastSuccess, lastAttempt, lastOK, running, lastDuration, bytesIn, bytesOut,
		successes, failures, nextRun, selftestOK, selftestTime, stateOK} {
		ch <- d
	}
}

// Collect reads the state and sends its metrics.
func (c StateCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.Read()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(stateOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(stateOK, prometheus.GaugeValue, 1)
	ts := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, name := range st.Names() {
		js := st.Jobs[name]
		if !js.LastSuccess.IsZero() {
			gauge(lastSuccess, ts(js.LastSuccess), name)
			gauge(bytesIn, float64(js.LastBytesIn), name)
			gauge(bytesOut, float64(js.LastBytesOut), name)
		}
		if !js.LastAttempt.IsZero() {
			gauge(lastAttempt, ts(js.LastAttempt), name)
		}
		switch js.LastStatus {
		case state.StatusSuccess:
			gauge(lastOK, 1, name)
			gauge(lastDuration, js.LastDuration, name)
		case state.StatusFailure:
			gauge(lastOK, 0, name)
			gauge(lastDuration, js.LastDuration, name)
		}
		r := 0.0
		if js.LastStatus == state.StatusStart {
			r = 1
		}
		gauge(running, r, name)
		if !js.NextRun.IsZero() {
			gauge(nextRun, ts(js.NextRun), name)
		}
		ch <- prometheus.MustNewConstMetric(successes, prometheus.CounterValue, float64(js.Successes), name)
		for reason, n := range js.Failures {
			ch <- prometheus.MustNewConstMetric(failures, prometheus.CounterValue, float64(n), name, reason)
		}
	}
	if s := st.Selftest; s != nil {
		v := 0.0
		if s.OK {
			v = 1
		}
		gauge(selftestOK, v)
		gauge(selftestTime, ts(s.Time))
	}
}

// NewRegistry returns a registry with the state's metrics and
// putonly_build_info. The daemon adds the Go and process collectors.
func NewRegistry(read func() (*state.State, error), version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(StateCollector{Read: read})
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "putonly_build_info", Help: "The putonly version.",
		ConstLabels: prometheus.Labels{"version": version}})
	info.Set(1)
	reg.MustRegister(info)
	return reg
}

// WriteTextfile writes the registry's metrics for node_exporter's textfile
// collector, atomically (a temporary file renamed over path), so the
// collector never reads half a file.
func WriteTextfile(path string, g prometheus.Gatherer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	if err := prometheus.WriteToTextfile(path, g); err != nil {
		return fmt.Errorf("textfile %s: %w", path, err)
	}
	return nil
}

// Server serves /metrics on a loopback address.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr, which must be a loopback host:port.
func Listen(addr string, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("metrics listen %q: not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{log}}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "putonly: metrics at /metrics")
	})
	return &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	if p.l != nil {
		p.l.Error("metrics: " + fmt.Sprint(v...))
	}
}

// GoCollectors adds the Go runtime and process collectors (the daemon's).
func GoCollectors(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
