package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/s3test"
)

// TestE2EWALPush runs 'putonly wal-push' as archive_command would, with the
// PutObject-only key: the gate reads only its cache, a retried push exits 0
// and adds no object, and a key that can read is refused.
func TestE2EWALPush(t *testing.T) {
	e := newE2E(t)
	state := filepath.Join(e.dir, "state")
	cfg := e.config(`  - name: shop
    source: {type: command, command: ["true"]}
selftest:
  state_dir: ` + state + "\n")
	seg := filepath.Join(e.dir, "000000010000000000000001")
	if err := os.WriteFile(seg, []byte(strings.Repeat("wal record\n", 100000)), 0o600); err != nil {
		t.Fatal(err)
	}
	push := func(env []string) (int, string) {
		t.Helper()
		code, _, stderr := e.walRun(env, "wal-push", "--config", cfg, "--job", "shop", seg)
		return code, stderr
	}

	// No self-test recorded: refused, told how to record one, and one is
	// started in the background, so PostgreSQL's retry archives.
	if code, stderr := push(e.env()); code != 1 || !strings.Contains(stderr, "no recent self-test") ||
		!strings.Contains(stderr, "putonly selftest --config") || !strings.Contains(stderr, "in the background") {
		t.Fatalf("without a self-test: exit %d\n%s", code, stderr)
	}
	if keys := walKeys(e); len(keys) != 0 {
		t.Fatalf("objects written without a gate: %v", keys)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, stderr := push(e.env())
		if code == 0 && strings.Contains(stderr, "wal archived") {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(state, "selftest-refresh.log"))
			t.Fatalf("the background self-test did not let wal-push archive: exit %d\n%s\nrefresh log:\n%s", code, stderr, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	keys := walKeys(e)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "db1/shop/wal/000000010000000000000001.") {
		t.Fatalf("keys %v", keys)
	}

	// A readable key: the self-test records what it can do, wal-push refuses.
	if code, _, stderr := e.walRun(e.readEnv(), "selftest", "--config", cfg, "--job", "shop"); code != 1 {
		t.Fatalf("selftest with the admin key: exit %d\n%s", code, stderr)
	}
	if code, stderr := push(e.readEnv()); code != 1 || !strings.Contains(stderr, "more than write rights") {
		t.Fatalf("readable key: exit %d\n%s", code, stderr)
	}
	if again := walKeys(e); len(again) != 1 {
		t.Fatalf("objects written with a readable key: %v", again)
	}

	// Retried: exit 0, nothing new.
	if code, stderr := push(e.env()); code != 0 || !strings.Contains(stderr, "already archived") {
		t.Fatalf("retry: exit %d\n%s", code, stderr)
	}
	if again := walKeys(e); len(again) != 1 {
		t.Fatalf("retry added objects: %v", again)
	}
	// The audit sees a continuous archive, then a different file under the
	// same WAL name (archived beside the first) and a gap.
	audit := func() (int, string) {
		code, stdout, stderr := e.walRun(e.readEnv(), "audit", "--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--wal", "shop")
		return code, stdout + stderr
	}
	if code, out := audit(); code != 0 || !strings.Contains(out, "db1/shop  ok") {
		t.Fatalf("audit of one segment: exit %d\n%s", code, out)
	}
	other := filepath.Join(t.TempDir(), "000000010000000000000001")
	os.WriteFile(other, []byte("another server's segment"), 0o600)
	if code, _, stderr := e.walRun(e.env(), "wal-push", "--config", cfg, "--job", "shop", other); code != 0 {
		t.Fatalf("different content: exit %d\n%s", code, stderr)
	}
	if keys := walKeys(e); len(keys) != 2 {
		t.Fatalf("different content did not land beside the first: %v", keys)
	}
	gap := filepath.Join(e.dir, "000000010000000000000004")
	os.WriteFile(gap, []byte("later"), 0o600)
	if code, _, stderr := e.walRun(e.env(), "wal-push", "--config", cfg, "--job", "shop", gap); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, stderr)
	}
	code, out := audit()
	if code != 1 || !strings.Contains(out, "000000010000000000000001 archived with 2 different contents") ||
		!strings.Contains(out, "gap on timeline 1: 2 segment(s) missing, 000000010000000000000002 to 000000010000000000000003") {
		t.Fatalf("audit: exit %d\n%s", code, out)
	}

	// wal-fetch, with read credentials: the file, verified; 1 for a file
	// the archive lacks; 126 (PostgreSQL stops) for a damaged object and
	// for two contents under one name.
	fetch := func(file string) (int, string, string) {
		out := filepath.Join(t.TempDir(), "RECOVERYXLOG")
		code, _, stderr := e.walRun(e.readEnv(), "wal-fetch", "--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--job", "shop",
			"--identity", e.idFile, "--cache", filepath.Join(e.dir, "wal-index.json"), file, out)
		return code, out, stderr
	}
	code, out, stderr := fetch("000000010000000000000004")
	if got, _ := os.ReadFile(out); code != 0 || string(got) != "later" {
		t.Fatalf("wal-fetch: exit %d, %q\n%s", code, got, stderr)
	}
	if code, out, stderr := fetch("000000010000000000000005"); code != 1 || !strings.Contains(stderr, "not in the archive") {
		t.Fatalf("missing: exit %d\n%s", code, stderr)
	} else if _, err := os.Stat(out); err == nil {
		t.Fatal("a missing file left an output")
	}
	if code, _, stderr := fetch("000000010000000000000001"); code != 126 || !strings.Contains(stderr, "--pick") {
		t.Fatalf("two contents: exit %d\n%s", code, stderr)
	}
	bogus := "db1/shop/wal/000000010000000000000006." + strings.Repeat("0", 64) + ".zst.age"
	e.adminPut(bogus, []byte("age-encryption.org/v1\n-> X25519 garbage\n"))
	os.Remove(filepath.Join(e.dir, "wal-index.json")) // listed before the object existed
	if code, out, stderr := fetch("000000010000000000000006"); code != 126 {
		t.Fatalf("damaged object: exit %d\n%s", code, stderr)
	} else if _, err := os.Stat(out); err == nil {
		t.Fatal("a damaged object left an output")
	}

	// Not a WAL file: refused before anything is sent.
	conf := filepath.Join(e.dir, "postgresql.conf")
	os.WriteFile(conf, []byte("x"), 0o600)
	if code, _, stderr := e.walRun(e.env(), "wal-push", "--config", cfg, "--job", "shop", conf); code != 1 || !strings.Contains(stderr, "not a WAL file name") {
		t.Fatalf("not WAL: exit %d\n%s", code, stderr)
	}
}

func walKeys(e *e2e) []string {
	var out []string
	for _, k := range s3test.Keys(e.t, e.s) {
		if strings.Contains(k, "/wal/") {
			out = append(out, k)
		}
	}
	return out
}

// walRun runs the binary with env and returns exit code, stdout, stderr.
func (e *e2e) walRun(env []string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(putonlyBin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}
