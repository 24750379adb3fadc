package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/policy"
)

// Tests run the agent, whose gate caches its self-test in the state
// directory: keep it out of /var/lib/putonly when the tests run as root.
func init() {
	if os.Getenv("PUTONLY_STATE_DIR") == "" && os.Getenv("STATE_DIRECTORY") == "" {
		if dir, err := os.MkdirTemp("", "putonly-test-state-"); err == nil {
			os.Setenv("PUTONLY_STATE_DIR", dir)
		}
	}
}

// keyMatrix is a local S3 server with the write-only backup key ("good")
// and over-privileged keys: each has the write-only rights plus extras.
type keyMatrix struct {
	s    *s3local.Server
	keys map[string]s3local.Key
}

const matrixPrefix = "db1/"

func newKeyMatrix(t *testing.T) *keyMatrix {
	t.Helper()
	s := s3test.Start(t, s3local.Options{Prefix: matrixPrefix})
	bucket, objs := "arn:aws:s3:::"+s.Bucket, "arn:aws:s3:::"+s.Bucket+"/"+matrixPrefix+"*"
	extras := map[string]map[string]any{
		"getobject": {"Action": []string{"s3:GetObject"}, "Resource": []string{objs}},
		"getstar":   {"Action": []string{"s3:Get*"}, "Resource": []string{bucket, bucket + "/*"}},
		"star":      {"Action": []string{"s3:*"}, "Resource": []string{bucket, bucket + "/*"}},
		"delete":    {"Action": []string{"s3:DeleteObject"}, "Resource": []string{objs}},
		"list":      {"Action": []string{"s3:ListBucket"}, "Resource": []string{bucket}},
	}
	m := &keyMatrix{s: s, keys: map[string]s3local.Key{"good": s.Backup}}
	ids := []string{s.Backup.ID}
	var stmts []any
	for name, st := range extras {
		k := s3local.Key{ID: "key" + name, Secret: "secret-" + name + "-0123456789"}
		if err := s.CreateUser(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		m.keys[name] = k
		ids = append(ids, k.ID)
		st["Effect"] = "Allow"
		st["Principal"] = map[string]any{"AWS": []string{k.ID}}
		stmts = append(stmts, st)
	}
	// "narrow" may write and read only under one job's path: the
	// self-test's canary cannot be written, so its read probes cannot tell,
	// and the gate must fail closed rather than pass.
	narrow := s3local.Key{ID: "keynarrow", Secret: "secret-narrow-0123456789"}
	if err := s.CreateUser(context.Background(), narrow); err != nil {
		t.Fatal(err)
	}
	m.keys["narrow"] = narrow
	stmts = append(stmts, map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"AWS": []string{narrow.ID}},
		"Action":   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"},
		"Resource": []string{"arn:aws:s3:::" + s.Bucket + "/" + matrixPrefix + "gate/*"},
	})
	var doc map[string]any
	if err := json.Unmarshal([]byte(s3local.WriteOnlyPolicy(s.Bucket, matrixPrefix, "x")), &doc); err != nil {
		t.Fatal(err)
	}
	base := doc["Statement"].([]any)
	for _, st := range base {
		st.(map[string]any)["Principal"] = map[string]any{"AWS": ids}
	}
	doc["Statement"] = append(base, stmts...)
	b, _ := json.Marshal(doc)
	if err := s.PutBucketPolicy(context.Background(), string(b)); err != nil {
		t.Fatal(err)
	}
	return m
}

// env is a database host's environment with key, and its own state dir.
func (m *keyMatrix) env(key, stateDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PUTONLY_") {
			env = append(env, kv)
		}
	}
	k := m.keys[key]
	return append(env,
		"AWS_ACCESS_KEY_ID="+k.ID, "AWS_SECRET_ACCESS_KEY="+k.Secret, "AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_S3="+m.s.Endpoint,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PUTONLY_STATE_DIR="+stateDir,
	)
}

// putonly runs the binary and returns stdout, stderr and the exit status.
func (m *keyMatrix) putonly(t *testing.T, key, stateDir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(putonlyBin, args...)
	cmd.Env = m.env(key, stateDir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// backups are the objects outside the self-test prefix.
func (m *keyMatrix) backups(t *testing.T) []string {
	var out []string
	for _, k := range s3test.Keys(t, m.s) {
		if !strings.HasPrefix(k, matrixPrefix+policy.SelftestPrefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestSelftestCommand(t *testing.T) {
	m := newKeyMatrix(t)
	sel := []string{"selftest", "--bucket", m.s.Bucket, "--prefix", matrixPrefix}
	for _, tc := range []struct {
		key    string
		extra  []string
		code   int
		stdout []string
	}{
		{"good", nil, 0, []string{"verdict: warn (0 violation(s), 2 warning(s), 0 could not tell)",
			"WARN overwrite the canary without If-None-Match", "versioning with object lock", "WARN PutObject without SSE"}},
		{"good", []string{"--strict"}, 1, []string{"verdict: warn"}},
		{"list", nil, 0, []string{"WARN ListObjectsV2: allowed", "INFO GetObject of a missing key"}},
		{"list", []string{"--strict"}, 1, []string{"WARN ListObjectsV2"}},
		{"getobject", nil, 1, []string{"FAIL GetObject canary: allowed (200): the key has s3:GetObject or s3:GetObjectVersion (read)", "verdict: fail"}},
		{"getstar", nil, 1, []string{"FAIL GetBucketPolicy: allowed", "FAIL GetObjectAttributes canary: allowed"}},
		{"star", nil, 1, []string{"FAIL DeleteObject of a key never written", "FAIL PutBucketPolicy (invalid body): allowed (400 MalformedPolicy"}},
		{"delete", nil, 1, []string{"FAIL DeleteObjects of a key never written: allowed", "s3:DeleteObject"}},
	} {
		t.Run(tc.key+strings.Join(tc.extra, ""), func(t *testing.T) {
			out, errOut, code := m.putonly(t, tc.key, t.TempDir(), append(sel, tc.extra...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		out, _, code := m.putonly(t, "getobject", t.TempDir(), append(sel, "--format", "json")...)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		var doc struct {
			Verdict string               `json:"verdict"`
			Results []policy.ProbeResult `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if doc.Verdict != "fail" || len(doc.Results) < 25 {
			t.Errorf("verdict %q, %d results", doc.Verdict, len(doc.Results))
		}
	})

	t.Run("config", func(t *testing.T) {
		dir := t.TempDir()
		id, _ := age.GenerateX25519Identity()
		cfg := filepath.Join(dir, "putonly.yaml")
		os.WriteFile(cfg, []byte("defaults:\n  bucket: "+m.s.Bucket+"\n  prefix: "+matrixPrefix+"\n  path_style: true\n  recipients: ["+id.Recipient().String()+"]\n"+
			"jobs:\n  - name: a\n    source: {type: command, command: [echo, hi]}\n  - name: b\n    source: {type: command, command: [echo, ho]}\n"), 0o600)
		out, errOut, code := m.putonly(t, "good", dir, "selftest", "--config", cfg)
		if code != 0 {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
		// Both jobs write to the same place: one run of the probes.
		if n := strings.Count(out, "verdict:"); n != 1 {
			t.Errorf("%d reports, want 1:\n%s", n, out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"selftest"}, {"selftest", "--format", "xml", "--bucket", "b"}, {"selftest", "--job", "x", "--bucket", "b"}} {
			if _, _, code := m.putonly(t, "good", t.TempDir(), args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		// Not "could not tell": the cause itself, exit 1, before any probe.
		out, errOut, code := m.putonly(t, "good", t.TempDir(), append(sel, "--endpoint", "http://127.0.0.1:1")...)
		if code != 1 || !strings.Contains(errOut, "connection refused: nothing listens on 127.0.0.1:1") || strings.Contains(out, "verdict:") {
			t.Errorf("exit %d, want 1 naming the refused connection\n%s%s", code, out, errOut)
		}
	})
}

// The agent's gate: 'putonly run' refuses to upload with a key that can
// read or delete, uploads with the write-only key, and caches a pass.
func TestRunRefusesReadableKey(t *testing.T) {
	m := newKeyMatrix(t)
	id, _ := age.GenerateX25519Identity()
	run := func(t *testing.T, key, state string, extra ...string) (string, string, int) {
		args := append([]string{"run", "--bucket", m.s.Bucket, "--prefix", matrixPrefix, "--path-style",
			"--recipient", id.Recipient().String(), "--name", "gate"}, extra...)
		return m.putonly(t, key, state, append(args, "--", "echo", "backup data")...)
	}
	for key, right := range map[string]string{"getobject": "s3:GetObject", "getstar": "s3:GetBucketPolicy", "star": "s3:DeleteObject", "delete": "s3:DeleteObject"} {
		t.Run(key, func(t *testing.T) {
			out, errOut, code := run(t, key, t.TempDir())
			t.Logf("stderr:\n%s", errOut)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, s := range []string{"refusing to upload to s3://" + m.s.Bucket + "/" + matrixPrefix, right, "hint: remove"} {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if out != "" {
				t.Errorf("stdout: %s", out)
			}
			if b := m.backups(t); len(b) > 0 {
				t.Fatalf("uploaded with a readable key: %v", b)
			}
		})
	}

	t.Run("narrow: canary refused, fails closed", func(t *testing.T) {
		out, errOut, code := run(t, "narrow", t.TempDir())
		if code != 1 || out != "" || !strings.Contains(errOut, "could not tell whether the backup key can read or delete") {
			t.Fatalf("exit %d, stdout %q\n%s", code, out, errOut)
		}
		if b := m.backups(t); len(b) > 0 {
			t.Fatalf("uploaded although the self-test could not tell: %v", b)
		}
	})

	t.Run("allow-readable-key", func(t *testing.T) {
		state := t.TempDir()
		for i := 0; i < 2; i++ { // the second run takes the result from the cache
			out, errOut, code := run(t, "getobject", state, "--allow-readable-key")
			if code != 0 || !strings.HasPrefix(out, "s3://") {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "allow-readable-key") || !strings.Contains(errOut, "s3:GetObject") {
				t.Errorf("run %d: no warning naming the right:\n%s", i, errOut)
			}
		}
	})

	t.Run("good", func(t *testing.T) {
		state := t.TempDir()
		out, errOut, code := run(t, "good", state)
		if code != 0 || !strings.HasPrefix(out, "s3://") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "self-test passed") {
			t.Errorf("no pass logged:\n%s", errOut)
		}
		if _, err := os.Stat(filepath.Join(state, "selftest.json")); err != nil {
			t.Errorf("no cache: %v", err)
		}
		// Within the cache time the next run does not probe again.
		out, errOut, code = run(t, "good", state)
		if code != 0 || strings.Contains(errOut, "self-test of the backup key") {
			t.Errorf("exit %d, probed again:\n%s%s", code, out, errOut)
		}
		// A listing key only warns.
		if _, errOut, code := run(t, "list", t.TempDir()); code != 0 || !strings.Contains(errOut, "ListObjectsV2") {
			t.Errorf("list key: exit %d\n%s", code, errOut)
		}
	})

	t.Run("config", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state")
		cfg := filepath.Join(dir, "putonly.yaml")
		os.WriteFile(cfg, []byte("selftest:\n  cache: 0s\n  state_dir: "+state+"\n"+
			"defaults:\n  bucket: "+m.s.Bucket+"\n  prefix: "+matrixPrefix+"\n  path_style: true\n  recipients: ["+id.Recipient().String()+"]\n"+
			"jobs:\n  - name: a\n    source: {type: command, command: [echo, hi]}\n"), 0o600)
		for i := 0; i < 2; i++ { // cache: 0s probes before every run
			_, errOut, code := m.putonly(t, "good", t.TempDir(), "run", "--config", cfg)
			if code != 0 || !strings.Contains(errOut, "self-test of the backup key") {
				t.Errorf("run %d: exit %d\n%s", i, code, errOut)
			}
		}
		if _, err := os.Stat(filepath.Join(state, "selftest.json")); err != nil {
			t.Errorf("state_dir not used: %v", err)
		}
		_, errOut, code := m.putonly(t, "delete", t.TempDir(), "run", "--config", cfg)
		if code != 1 || !strings.Contains(errOut, "s3:DeleteObject") {
			t.Errorf("delete key: exit %d\n%s", code, errOut)
		}

		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("selftest:\n  cache: -1h\njobs:\n  - name: a\n    bucket: b\n    recipients: ["+id.Recipient().String()+"]\n    source: {type: command, command: [echo]}\n"), 0o600)
		if _, errOut, code := m.putonly(t, "good", t.TempDir(), "check", "--config", bad); code != 2 || !strings.Contains(errOut, "selftest.cache") {
			t.Errorf("negative cache: exit %d\n%s", code, errOut)
		}
	})
}

// 'putonly list' names the self-test's canaries as such, not as objects
// that are not backups.
func TestListNamesCanaries(t *testing.T) {
	m := newKeyMatrix(t)
	m.keys["admin"] = m.s.Admin
	if out, errOut, code := m.putonly(t, "good", t.TempDir(), "selftest", "--bucket", m.s.Bucket, "--prefix", matrixPrefix, "--path-style"); code != 0 {
		t.Fatalf("selftest: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code := m.putonly(t, "admin", t.TempDir(), "list", "--bucket", m.s.Bucket, "--prefix", matrixPrefix, "--path-style")
	if code != 0 || !strings.Contains(errOut, "under "+matrixPrefix+"_putonly-selftest/ are key self-test canaries, not backups") || strings.Contains(errOut, "other object") {
		t.Fatalf("list: exit %d\n%s", code, errOut)
	}
}
