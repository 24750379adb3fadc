package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// These tests run the putonly binary as a user would, against the local S3
// server with the PutObject-only key, on real databases, and restore with
// the stock age, zstd and database tools.

var putonlyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "putonly-bin")
	if err != nil {
		panic(err)
	}
	putonlyBin = filepath.Join(dir, "putonly")
	if out, err := exec.Command("go", "build", "-o", putonlyBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type e2e struct {
	t      *testing.T
	s      *s3local.Server
	id     *age.X25519Identity
	idFile string
	dir    string
}

func newE2E(t *testing.T, tools ...string) *e2e {
	t.Helper()
	for _, tool := range append([]string{"age", "zstd"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			s3test.Require(t, tool+" (run scripts/deps)")
		}
	}
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	idFile := filepath.Join(dir, "identity.txt")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, s: s, id: id, idFile: idFile, dir: dir}
}

// env is the environment of a database host: the backup key only.
func (e *e2e) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PUTONLY_S3_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+e.s.Backup.ID,
		"AWS_SECRET_ACCESS_KEY="+e.s.Backup.Secret,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_S3="+e.s.Endpoint,
		// No shared config from the developer's machine.
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	return env
}

// putonly runs the binary and returns exit code, stdout, stderr.
func (e *e2e) putonly(args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(putonlyBin, args...)
	cmd.Env = e.env()
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

// objects returns the "object" of every "backup complete" JSON log line.
func objects(t *testing.T, stderr string) []string {
	t.Helper()
	var keys []string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if rec["msg"] == "backup complete" {
			keys = append(keys, rec["object"].(string))
		}
	}
	return keys
}

// restore fetches an object with the admin key and runs it through the
// stock `age -d` and `zstd -d` into a file.
func (e *e2e) restore(object string) string {
	e.t.Helper()
	key := strings.TrimPrefix(object, "s3://"+e.s.Bucket+"/")
	ct := filepath.Join(e.dir, filepath.Base(key))
	if err := os.WriteFile(ct, s3test.Get(e.t, e.s, key), 0o600); err != nil {
		e.t.Fatal(err)
	}
	out := strings.TrimSuffix(strings.TrimSuffix(ct, ".age"), ".zst")
	sh(e.t, fmt.Sprintf("age -d -i %q %q | zstd -d -q -o %q", e.idFile, ct, out))
	return out
}

func (e *e2e) config(body string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, "putonly.yaml")
	cfg := fmt.Sprintf(`defaults:
  bucket: %s
  prefix: db1/
  endpoint: %s
  path_style: true
  recipients: [%s]
  part_size: 5MiB
jobs:
%s`, e.s.Bucket, e.s.Endpoint, e.id.Recipient(), body)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func sh(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestE2EPostgres(t *testing.T) {
	e := newE2E(t, "pg_dump", "pg_restore", "psql", "createdb", "dropdb")
	needPostgres(t)
	src, dst := pgCreate(t, "e2e_src"), pgName(t, "e2e_dst")
	sh(t, fmt.Sprintf(`psql -q -v ON_ERROR_STOP=1 %s -c "
create table orders(id bigint primary key, customer text not null, amount numeric(12,2), created timestamptz, note text);
insert into orders select g, 'customer-' || (g * 7919 %% 100003), (g %% 9973) / 3.0, '2026-01-01'::timestamptz + g * interval '1 minute', md5(g::text) from generate_series(1, 200000) g;
create table empty_table(x int);"`, src))
	sum := func(db string) string {
		return sh(t, fmt.Sprintf(`psql -Atq %s -c "select count(*) || ':' || md5(string_agg(o::text, ',' order by id)) from orders o"`, db))
	}
	want := sum(src)

	cfg := e.config(fmt.Sprintf("  - name: shop\n    source: {type: postgres, database: %s}\n", src))
	code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json")
	if code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	objs := objects(t, stderr)
	if len(objs) != 1 || !strings.HasPrefix(objs[0], "s3://"+e.s.Bucket+"/db1/shop/") || !strings.HasSuffix(objs[0], ".dump.zst.age") {
		t.Fatalf("objects %v\n%s", objs, stderr)
	}
	dump := e.restore(objs[0])
	sh(t, fmt.Sprintf("createdb %s && pg_restore --exit-on-error -d %s %q", dst, dst, dump))
	if got := sum(dst); got != want {
		t.Fatalf("restored rows %s, want %s", got, want)
	}
}

func TestE2EMariaDB(t *testing.T) {
	e := newE2E(t, "mariadb", "mariadb-dump")
	needMariaDB(t)
	db := myCreate(t, "e2e")
	sh(t, fmt.Sprintf(`mariadb -e "use %[1]s;
create table orders(id bigint primary key, customer varchar(64), amount decimal(12,2), created datetime, note blob);
insert into orders select seq, concat('customer-', seq * 7919 %% 100003), (seq %% 9973) / 3.0, '2026-01-01' + interval seq minute, unhex(md5(seq)) from seq_1_to_100000;"`, db))
	sum := func() string {
		return sh(t, fmt.Sprintf(`mariadb -N -e "set session group_concat_max_len = 100000000; select count(*), md5(group_concat(id, customer, amount, created, hex(note) order by id separator ',')) from %s.orders"`, db))
	}
	want := sum()

	cfg := e.config(fmt.Sprintf("  - name: wiki\n    source: {type: mysql, database: %s}\n", db))
	code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json")
	if code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	objs := objects(t, stderr)
	if len(objs) != 1 || !strings.HasSuffix(objs[0], ".sql.zst.age") {
		t.Fatalf("objects %v", objs)
	}
	dump := e.restore(objs[0])
	// The dump names no database (no CREATE DATABASE, no USE): it is
	// loaded into the database the client is given.
	if b, err := os.ReadFile(dump); err != nil || bytes.Contains(b, []byte("\nUSE ")) || bytes.Contains(b, []byte("CREATE DATABASE")) {
		t.Fatalf("the dump names its database (err %v)", err)
	}
	sh(t, fmt.Sprintf(`mariadb -e "drop database %[1]s; create database %[1]s" && mariadb %[1]s < %[2]q`, db, dump))
	if got := sum(); got != want {
		t.Fatalf("restored rows %s, want %s", got, want)
	}
}

func TestE2ESQLite(t *testing.T) {
	e := newE2E(t, "sqlite3")
	dbFile := filepath.Join(e.dir, "app.db")
	sh(t, fmt.Sprintf(`sqlite3 %q "pragma journal_mode=wal;
create table notes(id integer primary key, body text, amount real);
with recursive g(i) as (select 1 union all select i+1 from g where i < 50000)
insert into notes select i, 'note ' || i || ' ' || hex(randomblob(8)), i * 1.5 from g;"`, dbFile))
	dumpRows := func(f string) string {
		return sh(t, fmt.Sprintf(`sqlite3 %q "select count(*), sum(length(body)), sum(amount) from notes; select body from notes where id in (1, 777, 50000)"`, f))
	}
	want := dumpRows(dbFile)

	cfg := e.config(fmt.Sprintf("  - name: app\n    source: {type: sqlite, path: %s}\n", dbFile))
	code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json")
	if code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	objs := objects(t, stderr)
	if len(objs) != 1 || !strings.HasSuffix(objs[0], ".sql.zst.age") {
		t.Fatalf("objects %v", objs)
	}
	dump := e.restore(objs[0])
	restored := filepath.Join(e.dir, "restored.db")
	sh(t, fmt.Sprintf("sqlite3 %q < %q", restored, dump))
	if got := dumpRows(restored); got != want {
		t.Fatalf("restored %q, want %q", got, want)
	}
}

// TestE2ECommandLine: the ad-hoc form, exit codes and the one-line reasons.
func TestE2ECommandLine(t *testing.T) {
	e := newE2E(t)
	rec := e.id.Recipient().String()
	base := []string{"run", "--bucket", e.s.Bucket, "--prefix", "db1/", "--recipient", rec, "--path-style", "--log-format", "json"}

	code, _, stderr := e.putonly(append(base, "--name", "adhoc", "--", "sh", "-c", "seq 1 100000")...)
	if code != 0 {
		t.Fatalf("ad-hoc run: exit %d\n%s", code, stderr)
	}
	objs := objects(t, stderr)
	if len(objs) != 1 || !strings.Contains(objs[0], "/db1/adhoc/") {
		t.Fatalf("objects %v", objs)
	}
	out := e.restore(objs[0])
	if got := sh(t, fmt.Sprintf("wc -l < %q", out)); got != "100000" {
		t.Fatalf("restored %s lines", got)
	}

	// A failing dump: exit 1, one line naming the job and the cause.
	code, _, stderr = e.putonly(append(base, "--name", "broken", "--", "sh", "-c", "echo partial; exit 7")...)
	last := lastLine(stderr)
	if code != 1 || !strings.HasPrefix(last, "putonly: job broken: dump failed") || !strings.Contains(last, "exit status 7") {
		t.Fatalf("exit %d, last line %q", code, last)
	}

	// Writing outside the prefix the key may write to: the key self-test
	// cannot write its canary, says so with the 403, and nothing is sent.
	code, _, stderr = e.putonly("run", "--bucket", e.s.Bucket, "--prefix", "elsewhere/", "--recipient", rec, "--path-style", "--log-format", "json", "--", "echo", "x")
	if last := lastLine(stderr); code != 1 || !strings.Contains(last, "could not write the self-test's canary") || !strings.Contains(last, "403") {
		t.Fatalf("exit %d, last line %q", code, last)
	}

	// No recipient: refused before anything runs, exit 2.
	code, _, stderr = e.putonly("run", "--bucket", e.s.Bucket, "--", "echo", "x")
	if code != 2 || !strings.Contains(stderr, "never uploads plaintext") {
		t.Fatalf("no recipient: exit %d\n%s", code, stderr)
	}

	// A config with a typo: exit 2 naming the field.
	cfg := filepath.Join(e.dir, "typo.yaml")
	os.WriteFile(cfg, []byte("defaults:\n  buckett: x\njobs: []\n"), 0o600)
	code, _, stderr = e.putonly("run", "--config", cfg)
	if code != 2 || !strings.Contains(stderr, "buckett") {
		t.Fatalf("typo config: exit %d\n%s", code, stderr)
	}

	// Only the completed backup and its manifest exist (besides the key
	// self-test's canaries): the failed runs left nothing.
	var keys []string
	for _, k := range s3test.Keys(t, e.s) {
		if !strings.Contains(k, "/_putonly-selftest/") && !strings.HasPrefix(k, "_putonly-selftest/") {
			keys = append(keys, k)
		}
	}
	if len(keys) != 2 || keys[1] != keys[0]+".manifest.json.age" {
		t.Fatalf("objects in the bucket: %v", keys)
	}
	if ups := s3test.PendingUploads(t, e.s); len(ups) != 0 {
		t.Fatalf("pending uploads: %v", ups)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
