// Package examples holds no code: its tests keep the files in examples/ and
// packaging/systemd/ from rotting. backup's TestExampleConfigsValidate loads
// every examples/*.yaml; these tests go further (recipients parse, the source
// types are all shown) and check what is not a putonly config: the
// Kubernetes manifests and the systemd units.
package examples

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/putonly/putonly/backup"
	"go.yaml.in/yaml/v3"
)

// configFiles are the putonly configs: every examples/*.yaml.
func configFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs (%v)", err)
	}
	return files
}

// usesRecipientsFile reports whether a job reads its recipients from a file,
// which a test machine does not have.
func usesRecipientsFile(cfg *backup.Config) bool {
	if cfg.Defaults.RecipientsFile != "" {
		return true
	}
	for _, j := range cfg.Jobs {
		if j.RecipientsFile != "" {
			return true
		}
	}
	return false
}

// TestConfigsResolve resolves every job of every example as 'putonly check'
// does: the recipients must be real age keys, the sources must give a
// command.
func TestConfigsResolve(t *testing.T) {
	t.Setenv("PUTONLY_BUCKET", "acme-backups")
	for _, f := range configFiles(t) {
		t.Run(f, func(t *testing.T) {
			cfg, err := backup.LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if usesRecipientsFile(cfg) {
				t.Skip("reads recipients_file; validated only")
			}
			if len(cfg.Jobs) == 0 {
				// The auditor's host: drills and audits only.
				if len(cfg.Drills)+len(cfg.Audits) == 0 {
					t.Fatal("no jobs, drills or audits")
				}
				return
			}
			jobs, err := cfg.ResolveJobs("")
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if len(j.Argv) == 0 || j.Argv[0] == "" {
					t.Errorf("job %s runs no command", j.Name)
				}
			}
		})
	}
}

// TestConfigsCoverSources: the examples show every source type, and an
// S3-compatible endpoint.
func TestConfigsCoverSources(t *testing.T) {
	t.Setenv("PUTONLY_BUCKET", "acme-backups")
	want := []string{backup.SourcePostgres, backup.SourceMySQL, backup.SourceMongoDB, backup.SourceSQLite, backup.SourceCommand}
	seen := map[string]bool{}
	endpoint := false
	for _, f := range configFiles(t) {
		cfg, err := backup.LoadConfig(f)
		if err != nil {
			continue // reported by TestConfigsResolve
		}
		endpoint = endpoint || cfg.Defaults.Endpoint != ""
		for _, j := range cfg.Jobs {
			seen[j.Source.Type] = true
			endpoint = endpoint || j.Endpoint != ""
		}
	}
	for _, typ := range want {
		if !seen[typ] {
			t.Errorf("no example config has a job of source type %s", typ)
		}
	}
	if !endpoint {
		t.Error("no example config sets an S3-compatible endpoint")
	}
}

// manifest is the part of a Kubernetes object these tests read.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Schedule          string `yaml:"schedule"`
		TimeZone          string `yaml:"timeZone"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				Template struct {
					Spec podSpec `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy string `yaml:"restartPolicy"`
	Containers    []struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Env   []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

// readManifests decodes every document of a multi-document YAML file.
func readManifests(t *testing.T, file string) []manifest {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []manifest
	for i := 0; ; i++ {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", file, i, err)
		}
		if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
			t.Errorf("%s: document %d: apiVersion, kind and metadata.name are required", file, i)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no documents", file)
	}
	return out
}

// TestKubernetesManifests parses the manifests and follows each CronJob to
// the putonly config it mounts, which must validate with the environment
// the pod sets.
func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests in examples/kubernetes")
	}
	cronJobs := 0
	for _, f := range files {
		docs := readManifests(t, f)
		configMaps := map[string]map[string]string{}
		for _, m := range docs {
			if m.Kind == "ConfigMap" {
				configMaps[m.Metadata.Name] = m.Data
			}
		}
		for _, m := range docs {
			if m.Kind != "CronJob" {
				continue
			}
			cronJobs++
			checkCronJob(t, f, m, configMaps)
		}
	}
	if cronJobs == 0 {
		t.Error("no CronJob in examples/kubernetes")
	}
}

func checkCronJob(t *testing.T, file string, m manifest, configMaps map[string]map[string]string) {
	t.Helper()
	where := file + ": CronJob " + m.Metadata.Name
	if m.APIVersion != "batch/v1" {
		t.Errorf("%s: apiVersion %q, want batch/v1", where, m.APIVersion)
	}
	if _, err := backup.ParseSchedule(m.Spec.Schedule, m.Spec.TimeZone); err != nil {
		t.Errorf("%s: schedule %q: %v", where, m.Spec.Schedule, err)
	}
	if m.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("%s: concurrencyPolicy %q: two dumps of one database must not overlap; want Forbid", where, m.Spec.ConcurrencyPolicy)
	}
	pod := m.Spec.JobTemplate.Spec.Template.Spec
	if pod.RestartPolicy != "Never" && pod.RestartPolicy != "OnFailure" {
		t.Errorf("%s: restartPolicy %q is not allowed in a Job", where, pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", where, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("%s: args %q do not start with the run command", where, c.Args)
	}
	i := slices.Index(c.Args, "--config")
	if i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("%s: args %q have no --config FILE", where, c.Args)
	}
	configPath := c.Args[i+1]

	// The config file must come from a mounted ConfigMap of this file.
	var data string
	found := false
	for _, vm := range c.VolumeMounts {
		if path.Dir(configPath) != path.Clean(vm.MountPath) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			cm, ok := configMaps[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("%s: volume %s names ConfigMap %s, which is not in the file", where, v.Name, v.ConfigMap.Name)
			}
			data, found = cm[path.Base(configPath)]
		}
	}
	if !found {
		t.Fatalf("%s: --config %s is not a key of a mounted ConfigMap", where, configPath)
	}
	for _, e := range c.Env {
		if e.Value != "" {
			t.Setenv(e.Name, e.Value)
		}
	}
	cfg, err := backup.ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("%s: %s: %v", where, configPath, err)
	}
	if _, err := cfg.ResolveJobs(""); err != nil {
		t.Fatalf("%s: %s: %v", where, configPath, err)
	}
}

// unit is a systemd unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, file string) unit {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case section == "":
			t.Fatalf("%s:%d: %q before the first section", file, n, line)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: %q is not KEY=VALUE on one line", file, n, line)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// TestSystemdUnits checks the units the packages install: they run the
// packaged binary as the putonly user on the packaged config, and the timer
// has its service. systemd-analyze verify runs on them in
// scripts/release-check, where the binary they name exists.
func TestSystemdUnits(t *testing.T) {
	dir := filepath.Join("..", "packaging", "systemd")
	tests := []struct {
		file    string
		command string // putonly subcommand ExecStart runs
		typ     string // Service.Type
		install bool   // has [Install] (enabled on its own)
	}{
		{"putonly.service", "daemon", "simple", true},
		{"putonly-run.service", "run", "oneshot", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			u := readUnit(t, filepath.Join(dir, tt.file))
			exec := strings.Fields(u.get("Service", "ExecStart"))
			if len(exec) < 2 || exec[0] != "/usr/bin/putonly" || exec[1] != tt.command {
				t.Errorf("ExecStart %q, want /usr/bin/putonly %s ...", exec, tt.command)
			}
			if i := slices.Index(exec, "--config"); i < 0 || i+1 >= len(exec) || exec[i+1] != "/etc/putonly/putonly.yaml" {
				t.Errorf("ExecStart %q does not read --config /etc/putonly/putonly.yaml", exec)
			}
			if got := u.get("Service", "Type"); got != tt.typ {
				t.Errorf("Type=%s, want %s", got, tt.typ)
			}
			if got := u.get("Service", "User"); got != "putonly" {
				t.Errorf("User=%s, want putonly (the packages create that user)", got)
			}
			if got := u.get("Service", "StateDirectory"); got != "putonly" {
				t.Errorf("StateDirectory=%s, want putonly (/var/lib/putonly)", got)
			}
			if _, ok := u["Install"]; ok != tt.install {
				t.Errorf("[Install] present = %v, want %v", ok, tt.install)
			}
		})
	}

	timers, _ := filepath.Glob(filepath.Join(dir, "*.timer"))
	if len(timers) == 0 {
		t.Fatal("no timer unit")
	}
	for _, f := range timers {
		u := readUnit(t, f)
		if u.get("Timer", "OnCalendar") == "" {
			t.Errorf("%s: no OnCalendar", f)
		}
		if u.get("Install", "WantedBy") != "timers.target" {
			t.Errorf("%s: WantedBy=%s, want timers.target", f, u.get("Install", "WantedBy"))
		}
		svc := strings.TrimSuffix(f, ".timer") + ".service"
		if s := u.get("Timer", "Unit"); s != "" {
			svc = filepath.Join(dir, s)
		}
		if _, err := os.Stat(svc); err != nil {
			t.Errorf("%s: its service: %v", f, err)
		}
	}
}
