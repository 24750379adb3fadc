package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/s3test"
)

// These tests run point-in-time recovery end to end on a PostgreSQL 15
// cluster of their own (initdb in a temporary directory, its own socket
// directory and port, never the shared server): archive_mode on with
// 'putonly wal-push' and the PutObject-only key, a base backup with
// 'putonly run' (mode: base), then 'putonly pitr' and 'putonly wal-fetch'
// with read credentials into new data directories on other ports.

const pgBin = "/usr/lib/postgresql/15/bin"

// pgCluster is a throwaway cluster; as root every command runs as the
// postgres user (the server refuses root), with files in a directory it
// owns.
type pgCluster struct {
	t    *testing.T
	e    *e2e
	dir  string // owned by the cluster's user: data dirs, sockets, config
	bin  string // a copy of putonly that user can run
	asPG []string
	env  []string // the database host's: the backup key
	port int
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		s3test.Require(t, "PostgreSQL 15 server binaries in "+pgBin+" (Debian package postgresql-15)")
	}
	e := newE2E(t)
	dir, err := os.MkdirTemp("", "putonly-wal-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	c := &pgCluster{t: t, e: e, dir: dir, bin: filepath.Join(dir, "putonly")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			s3test.Require(t, "a postgres user to run the test cluster as (root cannot)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asPG = []string{"runuser", "-u", "postgres", "--"}
	}
	data, err := os.ReadFile(putonlyBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	c.env = append(e.env(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "PGHOST="+dir)
	c.port = 20000 + os.Getpid()%20000
	return c
}

// run runs argv as the cluster's user with env, and returns its output.
func (c *pgCluster) run(env []string, argv ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(append(append([]string(nil), c.asPG...), argv...)[0], append(append([]string(nil), c.asPG...), argv...)[1:]...)
	cmd.Env = env
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *pgCluster) must(env []string, argv ...string) string {
	c.t.Helper()
	out, err := c.run(env, argv...)
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

func (c *pgCluster) write(name, body string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		c.t.Fatal(err)
	}
	if len(c.asPG) > 0 {
		exec.Command("chown", "postgres:", p).Run()
	}
	return p
}

// sql runs a query on the server at port and returns its unaligned output.
func (c *pgCluster) sql(port int, q string) string {
	c.t.Helper()
	return strings.TrimSpace(c.must(c.env, pgBin+"/psql", "-h", c.dir, "-p", strconv.Itoa(port), "-U", "postgres", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", q))
}

// start starts the server of data on port and stops it at cleanup.
func (c *pgCluster) start(env []string, data string, port int) {
	c.t.Helper()
	out, err := c.run(env, pgBin+"/pg_ctl", "-D", data, "-l", data+".log", "-w", "-t", "120",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=''", port, c.dir), "start")
	if err != nil {
		c.t.Fatalf("pg_ctl start %s: %v\n%s\nserver log:\n%s", data, err, out, c.log(data))
	}
	c.t.Cleanup(func() { c.run(env, pgBin+"/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop") })
}

func (c *pgCluster) log(data string) string {
	b, _ := os.ReadFile(data + ".log")
	return string(b)
}

// waitFor polls q on port until it returns want.
func (c *pgCluster) waitFor(port int, q, want, data string) {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := c.run(c.env, pgBin+"/psql", "-h", c.dir, "-p", strconv.Itoa(port), "-U", "postgres", "-X", "-Atq", "-d", "postgres", "-c", q)
		if err == nil && strings.TrimSpace(out) == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting for %q = %q on port %d: got %q (%v)\nserver log:\n%s", q, want, port, out, err, c.log(data))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// switchAndWait waits until the server on port has archived its current
// segment and everything before it, and fails the test if any wal-push
// failed on the way (PostgreSQL would retry it; putonly should not need
// that), naming the file and showing the server log with wal-push's
// stderr, at once rather than after the wait's two minutes.
func (c *pgCluster) switchAndWait(port int, data string) {
	c.t.Helper()
	seg := c.sql(port, "select pg_walfile_name(pg_switch_wal())")
	c.waitFor(port, fmt.Sprintf("select last_archived_wal >= '%s' or failed_count > 0 from pg_stat_archiver", seg), "t", data)
	if n := c.sql(port, "select failed_count from pg_stat_archiver"); n != "0" {
		c.t.Fatalf("wal-push failed %s times, last on %s\nserver log:\n%s", n, c.sql(port, "select last_failed_wal from pg_stat_archiver"), c.log(data))
	}
}

func (c *pgCluster) readEnv() []string {
	return append(c.e.readEnv(), "XDG_CACHE_HOME="+filepath.Join(c.dir, "cache"), "PGHOST="+c.dir)
}

func TestE2EPITR(t *testing.T) {
	c := newPGCluster(t)
	e := c.e
	state := filepath.Join(c.dir, "state")
	cfg := c.write("putonly.yaml", fmt.Sprintf(`defaults:
  bucket: %s
  prefix: db1/
  endpoint: %s
  path_style: true
  recipients: [%s]
  compression: fastest
jobs:
  - name: shop
    source:
      type: postgres
      mode: base
      args: [-h, %s, -p, "%d", -U, postgres]
selftest:
  state_dir: %s
`, e.s.Bucket, e.s.Endpoint, e.id.Recipient(), c.dir, c.port, state))
	idFile := c.write("identity.txt", e.id.String()+"\n")
	os.Chmod(idFile, 0o600)

	data := filepath.Join(c.dir, "primary")
	c.must(c.env, pgBin+"/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	archive := fmt.Sprintf("%s wal-push --config %s --job shop %%p", c.bin, cfg)
	conf := fmt.Sprintf("\narchive_mode = on\narchive_command = '%s'\nwal_level = replica\nfsync = off\n", archive)
	f, _ := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(conf)
	f.Close()

	// The gate's cache first: wal-push never runs the self-test.
	c.must(c.env, c.bin, "selftest", "--config", cfg, "--job", "shop")
	c.start(c.env, data, c.port)
	c.sql(c.port, "create table orders(id int primary key, note text)")
	c.must(c.env, c.bin, "run", "--config", cfg, "--job", "shop", "--log-format", "json")

	c.sql(c.port, "insert into orders select g, 'before' from generate_series(1, 1000) g")
	time.Sleep(1100 * time.Millisecond)
	target := c.sql(c.port, "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	time.Sleep(1100 * time.Millisecond)
	c.sql(c.port, "insert into orders select g, 'after' from generate_series(1001, 1500) g")
	c.switchAndWait(c.port, data)
	if n := c.sql(c.port, "select count(*) from orders"); n != "1500" {
		t.Fatalf("primary has %s rows", n)
	}

	t.Run("to-time", func(t *testing.T) {
		c := c.with(t)
		dst := filepath.Join(c.dir, "pitr-time")
		out := c.must(c.readEnv(), c.bin, "pitr", "--bucket", e.s.Bucket, "--prefix", "db1/", "--job", "shop",
			"--identity", idFile, "--endpoint", e.s.Endpoint, "--path-style", "--data-dir", dst, "--target-time", target)
		if !strings.Contains(out, "ready for recovery") || !strings.Contains(out, "recovery_target_time") || !strings.Contains(out, "archive_mode = off") {
			t.Fatalf("pitr:\n%s", out)
		}
		port := c.port + 1
		c.start(c.readEnv(), dst, port)
		c.waitFor(port, "select pg_is_in_recovery()", "f", dst)
		if got := c.sql(port, "select note, count(*) from orders group by note order by note"); got != "before|1000" {
			t.Fatalf("recovered to %s: rows %q, want only the 1000 before\n%s", target, got, c.log(dst))
		}
		if !strings.Contains(c.log(dst), "recovery stopping before commit") {
			t.Fatalf("log does not show the target stop:\n%s", c.log(dst))
		}
		// Not into a data directory that holds files.
		code, _, stderr := e.walRun(c.readEnv(), "pitr", "--bucket", e.s.Bucket, "--prefix", "db1/", "--job", "shop",
			"--identity", idFile, "--endpoint", e.s.Endpoint, "--path-style", "--data-dir", dst, "--latest")
		if code != 2 || !strings.Contains(stderr, "not empty") {
			t.Fatalf("non-empty data dir: exit %d\n%s", code, stderr)
		}
	})

	t.Run("latest-across-timelines", func(t *testing.T) {
		c := c.with(t)
		// A copy restored to latest, promoted (timeline 2) and archiving
		// into the same job: its .history file and segments are archived.
		dst := filepath.Join(c.dir, "pitr-latest")
		c.must(c.promotedEnv(), c.bin, "pitr", "--bucket", e.s.Bucket, "--prefix", "db1/", "--job", "shop",
			"--identity", idFile, "--endpoint", e.s.Endpoint, "--path-style", "--data-dir", dst, "--latest", "--keep-archiving", "--profile", "reader")
		port := c.port + 2
		// The copy needs both keys: read credentials for restore_command
		// (the profile pitr wrote into it) and the backup key for wal-push
		// (the environment, whose self-test the gate has cached).
		env := c.promotedEnv()
		c.start(env, dst, port)
		c.waitFor(port, "select pg_is_in_recovery()", "f", dst)
		if got := c.sql(port, "select count(*) from orders"); got != "1500" {
			t.Fatalf("latest: %s rows, want 1500\n%s", got, c.log(dst))
		}
		c.sql(port, "insert into orders select g, 'timeline 2' from generate_series(2001, 2100) g")
		c.switchAndWait(port, dst)
		keys := strings.Join(walKeys(e), "\n")
		if !strings.Contains(keys, "db1/shop/wal/00000002.history.") || !strings.Contains(keys, "db1/shop/wal/00000002") {
			t.Fatalf("timeline 2 not archived:\n%s", keys)
		}

		// Recovery to latest from the same base backup follows the
		// history file to timeline 2.
		dst3 := filepath.Join(c.dir, "pitr-latest-2")
		c.must(c.readEnv(), c.bin, "pitr", "--bucket", e.s.Bucket, "--prefix", "db1/", "--job", "shop",
			"--identity", idFile, "--endpoint", e.s.Endpoint, "--path-style", "--data-dir", dst3, "--latest")
		port3 := c.port + 3
		c.start(c.readEnv(), dst3, port3)
		c.waitFor(port3, "select pg_is_in_recovery()", "f", dst3)
		if got := c.sql(port3, "select count(*) from orders where note = 'timeline 2'"); got != "100" {
			t.Fatalf("latest across the timeline switch: %s timeline-2 rows, want 100\n%s", got, c.log(dst3))
		}
		if !strings.Contains(c.log(dst3), `restored log file "00000002.history" from archive`) {
			t.Fatalf("the history file was not fetched:\n%s", c.log(dst3))
		}

		// A drill: the same recovery to latest in a scratch directory,
		// started, checked and removed by putonly itself.
		// As root, it runs the server as postgres: the binary must be one
		// that user can run (restore_command names it).
		drill := exec.Command(c.bin, "pitr", "--drill", "--port", strconv.Itoa(c.port+4), "--pg-bin", pgBin,
			"--bucket", e.s.Bucket, "--prefix", "db1/", "--job", "shop", "--identity", idFile, "--endpoint", e.s.Endpoint, "--path-style")
		drill.Env = c.readEnv()
		out, err := drill.CombinedOutput()
		code, stdout, stderr := 0, string(out), ""
		if err != nil {
			code = 1
		}
		if code != 0 || !strings.Contains(stdout, "drill: replayed and promoted") || !strings.Contains(stdout, "databases postgres") {
			t.Fatalf("drill: exit %d\n%s%s", code, stdout, stderr)
		}

		// The audit follows both timelines from the base backup's start.
		code, stdout, stderr = e.walRun(c.readEnv(), "audit", "--bucket", e.s.Bucket, "--prefix", "db1/", "--endpoint", e.s.Endpoint, "--path-style",
			"--identity", idFile, "--wal", "shop")
		if code != 0 || !strings.Contains(stdout, "1,2") || !strings.Contains(stdout, "000000010000000000000002") {
			t.Fatalf("audit: exit %d\n%s%s", code, stdout, stderr)
		}
	})
}

// with is c for a subtest.
func (c *pgCluster) with(t *testing.T) *pgCluster {
	cc := *c
	cc.t = t
	return &cc
}

// promotedEnv is the backup key in the environment and read credentials as
// the profile "reader".
func (c *pgCluster) promotedEnv() []string {
	creds := c.write("credentials", fmt.Sprintf("[reader]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.e.s.Admin.ID, c.e.s.Admin.Secret))
	os.Chmod(creds, 0o600)
	return append(append([]string(nil), c.env...), "AWS_SHARED_CREDENTIALS_FILE="+creds)
}
