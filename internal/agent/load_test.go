package agent

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/backup"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

// source parses a command line of run (daemon: of the daemon) the way
// cmd/putonly declares it: the job settings' flags, then the command.
func source(t *testing.T, daemon bool, config string, args ...string) Source {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := Source{Config: config}
	fs.StringVar(&s.Job, "job", "", "")
	backup.RegisterFlags(fs, &s.Flags, daemon)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	s.Argv, s.Set = fs.Args(), map[string]bool{}
	fs.Visit(func(f *flag.Flag) { s.Set[f.Name] = true })
	return s
}

func writeTestConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "putonly.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testConfig = `defaults:
  bucket: acme-backups
  prefix: db1/
  endpoint: https://s3.example.com
  recipients: [` + testRecipient + `]
jobs:
  - name: shop
    source: {type: command, command: [seq, "1", "9"]}
    schedule: "@daily"
  - name: wiki
    source: {type: command, command: [seq, "1", "9"]}
    schedule: "15 2 * * *"
`

// TestSourceAdhoc: the ad-hoc job is the flags plus the command, named
// after the program unless --name says otherwise; without a command or
// with --job, the error says what to write instead.
func TestSourceAdhoc(t *testing.T) {
	s := source(t, false, "", "--bucket", "acme-backups", "--recipient", testRecipient, "--", "/usr/bin/pg_dump", "-Fc", "shop")
	cfg, jobs, err := s.Jobs()
	if err != nil || cfg != nil || len(jobs) != 1 {
		t.Fatalf("Jobs = %v, %v, %v", cfg, jobs, err)
	}
	if j := jobs[0]; j.Name != "pg_dump" || strings.Join(j.Argv, " ") != "/usr/bin/pg_dump -Fc shop" || j.Bucket != "acme-backups" {
		t.Errorf("job %+v", j)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bucket", "acme-backups"}, "no dump command"},
		{[]string{"--job", "shop", "--", "true"}, "--job needs --config"},
		{[]string{"--bucket", "b", "--recipient", testRecipient, "--", "true"}, `--bucket "b"`},
	} {
		s := source(t, false, "", tc.args...)
		if _, _, err := s.Jobs(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestJobNameFrom(t *testing.T) {
	for in, want := range map[string]string{"/usr/bin/pg_dump": "pg_dump", "My Dump.sh": "my-dump.sh", "---": "backup", "/": "backup"} {
		if got := JobNameFrom(in); got != want {
			t.Errorf("JobNameFrom(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSourceConfig: the config's jobs, or one; the connection flags win
// over the file; a job setting, a command or a refused flag next to
// --config is an error naming it.
func TestSourceConfig(t *testing.T) {
	path := writeTestConfig(t, testConfig)
	s := source(t, false, path, "--endpoint", "http://127.0.0.1:9000", "--path-style")
	_, jobs, err := s.Jobs()
	if err != nil || len(jobs) != 2 {
		t.Fatalf("Jobs = %v, %v", jobs, err)
	}
	for _, j := range jobs {
		if j.Client.Endpoint != "http://127.0.0.1:9000" || !j.Client.PathStyle {
			t.Errorf("job %s: client %+v, want the flags'", j.Name, j.Client)
		}
	}
	s = source(t, false, path, "--job", "wiki")
	if _, jobs, err := s.Jobs(); err != nil || len(jobs) != 1 || jobs[0].Name != "wiki" || jobs[0].Client.Endpoint != "https://s3.example.com" {
		t.Errorf("--job wiki: %v, %v", jobs, err)
	}
	for _, tc := range []struct {
		args   []string
		refuse []string
		want   string
	}{
		{[]string{"--bucket", "other"}, nil, "--bucket cannot be combined with --config"},
		{[]string{"--", "pg_dump"}, nil, `a command ("pg_dump") cannot be combined with --config`},
		{[]string{"--endpoint", "ftp://x"}, nil, `--endpoint "ftp://x": not a URL`},
		{[]string{"--job", "nope"}, nil, `no job named "nope"; the config has: shop, wiki`},
		{[]string{"--region", "eu-west-1"}, []string{"region"}, "--region cannot be combined with --config\n\thint: set it in the config file"},
	} {
		s := source(t, false, path, tc.args...)
		s.Refuse = tc.refuse
		if _, _, err := s.Jobs(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestDaemonPlan: the daemon's plan from a config or from the flags, with
// the command line's daemon settings over the file's and the defaults
// after both.
func TestDaemonPlan(t *testing.T) {
	t.Setenv("PUTONLY_STATE_DIR", t.TempDir())
	path := writeTestConfig(t, testConfig)
	a := DaemonArgs{Args: Args{Source: source(t, true, path, "--job", "wiki")}}
	p, err := a.Plan()
	if err != nil || len(p.Jobs) != 1 || p.Jobs[0].Spec != "15 2 * * *" {
		t.Fatalf("Plan = %+v, %v", p, err)
	}
	if p.Daemon.StateFile != DefaultStatePath() || p.Daemon.ShutdownGrace != backup.Duration(backup.DefaultShutdownGrace) {
		t.Errorf("defaults: %+v", p.Daemon)
	}
	a = DaemonArgs{Args: Args{Source: source(t, true, path), StateFile: "/s.json"}, Webhook: "https://example.com/hook"}
	a.Set["state"], a.Set["webhook"] = true, true
	if _, err := a.Plan(); err == nil || !strings.HasPrefix(err.Error(), "--webhook cannot be combined with --config") {
		t.Errorf("--webhook with --config: %v", err)
	}
	delete(a.Set, "webhook")
	if p, err := a.Plan(); err != nil || p.Daemon.StateFile != "/s.json" || len(p.Jobs) != 2 {
		t.Errorf("--state: %+v, %v", p, err)
	}

	adhoc := []string{"--bucket", "acme-backups", "--recipient", testRecipient, "--", "true"}
	a = DaemonArgs{Args: Args{Source: source(t, true, "", adhoc...)}}
	if _, err := a.Plan(); err == nil || !strings.HasPrefix(err.Error(), "no --schedule") {
		t.Errorf("no schedule: %v", err)
	}
	a = DaemonArgs{Args: Args{Source: source(t, true, "", append([]string{"--schedule", "@hourly"}, adhoc...)...)}, Ping: "https://hc.example.com/x"}
	p, err = a.Plan()
	if err != nil || len(p.Jobs) != 1 || len(p.Jobs[0].Notify) != 1 || p.Jobs[0].Notify[0].Ping != "https://hc.example.com/x" {
		t.Fatalf("ad-hoc: %+v, %v", p, err)
	}
}
