package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3test"
)

// These tests back up with the PutObject-only key (as the database host
// does) and restore with the admin key (as the trusted machine does),
// running the putonly binary.

// readEnv is the environment of the trusted machine: read credentials.
func (e *e2e) readEnv() []string {
	env := e.env()
	for i, kv := range env {
		switch {
		case strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID="):
			env[i] = "AWS_ACCESS_KEY_ID=" + e.s.Admin.ID
		case strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY="):
			env[i] = "AWS_SECRET_ACCESS_KEY=" + e.s.Admin.Secret
		}
	}
	return env
}

// reader runs the binary with read credentials, stdin from in.
func (e *e2e) reader(in []byte, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(putonlyBin, args...)
	cmd.Env = e.readEnv()
	cmd.Stdin = bytes.NewReader(in)
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

// backupCmd backs up the output of a shell script as job and returns the key.
func (e *e2e) backupCmd(job, script string) string {
	e.t.Helper()
	code, stdout, stderr := e.putonly("run", "--bucket", e.s.Bucket, "--prefix", "db1/", "--recipient", e.id.Recipient().String(),
		"--path-style", "--log-format", "json", "--name", job, "--", "sh", "-c", script)
	if code != 0 {
		e.t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	return strings.TrimPrefix(strings.TrimSpace(stdout), "s3://"+e.s.Bucket+"/")
}

func (e *e2e) adminPut(key string, body []byte) {
	e.t.Helper()
	_, err := e.s.Client(e.s.Admin).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(e.s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestE2ERestoreCommands(t *testing.T) {
	e := newE2E(t)
	want := []byte(sh(t, "seq 1 300000") + "\n")
	key := e.backupCmd("adhoc", "seq 1 300000")
	conn := []string{"--bucket", e.s.Bucket, "--path-style"}

	t.Run("list", func(t *testing.T) {
		code, stdout, stderr := e.reader(nil, append([]string{"list", "--prefix", "db1/"}, conn...)...)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "STARTED") ||
			!strings.Contains(lines[1], " adhoc ") || !strings.Contains(lines[1], " yes ") || !strings.HasSuffix(lines[1], key) {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		code, stdout, _ = e.reader(nil, append([]string{"list", "--prefix", "db1/", "--job", "adhoc", "--json"}, conn...)...)
		var ent listEntry
		if code != 0 || json.Unmarshal([]byte(stdout), &ent) != nil || ent.Key != key || !ent.Manifest || ent.Size == 0 {
			t.Fatalf("exit %d, json %s", code, stdout)
		}
		// The database host's key cannot list.
		code, _, stderr = e.putonly(append([]string{"list"}, conn...)...)
		if code != 1 || !strings.Contains(stderr, "read credentials") {
			t.Fatalf("list with the backup key: exit %d\n%s", code, stderr)
		}
	})

	t.Run("restore-to-file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "adhoc.txt")
		code, _, stderr := e.reader(nil, append([]string{"restore", "--key", key, "--identity", e.idFile, "-o", out}, conn...)...)
		if code != 0 || !strings.Contains(stderr, "match the manifest") {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Fatalf("restored %d bytes, want %d", len(got), len(want))
		}
		// Not over an existing file.
		code, _, stderr = e.reader(nil, append([]string{"restore", "--key", key, "--identity", e.idFile, "-o", out}, conn...)...)
		if code != 2 || !strings.Contains(stderr, "exists") {
			t.Fatalf("over an existing file: exit %d\n%s", code, stderr)
		}
	})

	t.Run("restore-latest-to-stdout", func(t *testing.T) {
		code, stdout, stderr := e.reader(nil, append([]string{"restore", "--prefix", "db1/", "--latest", "--job", "adhoc", "--identity", e.idFile, "-o", "-"}, conn...)...)
		if code != 0 || stdout != string(want) {
			t.Fatalf("exit %d, %d bytes\n%s", code, len(stdout), stderr)
		}
		code, stdout, stderr = e.reader(nil, "restore", "--key", "s3://"+e.s.Bucket+"/"+key, "--path-style", "--identity", e.idFile)
		if code != 0 || stdout != string(want) {
			t.Fatalf("s3:// URL, no -o: exit %d, %d bytes\n%s", code, len(stdout), stderr)
		}
	})

	t.Run("decrypt", func(t *testing.T) {
		dir := t.TempDir()
		ct := s3test.Get(t, e.s, key)
		code, stdout, stderr := e.reader(ct, "decrypt", "--identity", e.idFile)
		if code != 0 || stdout != string(want) {
			t.Fatalf("exit %d, %d bytes\n%s", code, len(stdout), stderr)
		}
		in := filepath.Join(dir, "b.dump.zst.age")
		man := in + ".manifest.json.age"
		os.WriteFile(in, ct, 0o600)
		os.WriteFile(man, s3test.Get(t, e.s, key+".manifest.json.age"), 0o600)
		out := filepath.Join(dir, "b.dump")
		code, _, stderr = e.reader(nil, "decrypt", in, "--identity", e.idFile, "--manifest", man, "-o", out)
		if got, _ := os.ReadFile(out); code != 0 || !bytes.Equal(got, want) || !strings.Contains(stderr, "matches the manifest") {
			t.Fatalf("exit %d, %d bytes\n%s", code, len(got), stderr)
		}
		// The stock tools agree.
		if got := sh(t, fmt.Sprintf("age -d -i %q %q | zstd -d | sha256sum", e.idFile, in)); !strings.HasPrefix(got, sha(want)) {
			t.Fatalf("age | zstd: %s", got)
		}
		// Truncated input: exit 1, nothing written.
		out2 := filepath.Join(dir, "c.dump")
		code, _, stderr = e.reader(ct[:len(ct)/2], "decrypt", "--identity", e.idFile, "-o", out2)
		if _, err := os.Stat(out2); code != 1 || err == nil || !strings.Contains(stderr, "corrupted or truncated") {
			t.Fatalf("truncated: exit %d, stat %v\n%s", code, err, stderr)
		}
	})

	t.Run("failures-leave-no-file", func(t *testing.T) {
		otherID, _ := age.GenerateX25519Identity()
		other := filepath.Join(t.TempDir(), "other.txt")
		os.WriteFile(other, []byte(otherID.String()+"\n"), 0o600)
		bad := e.backupCmd("bad", "seq 1 300000")
		ct := s3test.Get(t, e.s, bad)
		for _, tc := range []struct {
			name  string
			spoil func()
			id    string
			msg   string
		}{
			{"wrong-identity", func() {}, other, "wrong identity"},
			{"corrupt", func() { c := bytes.Clone(ct); c[len(c)/2] ^= 1; e.adminPut(bad, c) }, e.idFile, "corrupted"},
			{"truncated", func() { e.adminPut(bad, ct[:len(ct)-10]) }, e.idFile, "manifest says"},
		} {
			tc.spoil()
			dir := t.TempDir()
			code, stdout, stderr := e.reader(nil, append([]string{"restore", "--key", bad, "--identity", tc.id, "-o", filepath.Join(dir, "out")}, conn...)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.msg) || !strings.Contains(stderr, "hint:") {
				t.Errorf("%s: exit %d\n%s", tc.name, code, stderr)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("%s: left %v", tc.name, ents)
			}
		}
	})

	t.Run("drill", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "drilled")
		code, stdout, stderr := e.reader(nil, append([]string{"drill", "--prefix", "db1/", "--job", "adhoc", "--identity", e.idFile, "--into", "cat > " + out}, conn...)...)
		if code != 0 || !strings.HasPrefix(stdout, "drill adhoc: OK s3://") || !strings.Contains(stdout, "total ") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Fatalf("target got %d bytes", len(got))
		}
		prom := filepath.Join(t.TempDir(), "drill.prom")
		code, stdout, _ = e.reader(nil, append([]string{"drill", "--prefix", "db1/", "--job", "adhoc", "--identity", e.idFile, "--into", "echo nope >&2; exit 3", "--textfile", prom}, conn...)...)
		if code != 1 || !strings.HasPrefix(stdout, "drill adhoc: FAILED") || !strings.Contains(stdout, "exit status 3") {
			t.Fatalf("failing target: exit %d\n%s", code, stdout)
		}
		if b, _ := os.ReadFile(prom); !strings.Contains(string(b), `putonly_drill_ok{bucket="`+e.s.Bucket+`",prefix="db1/",job="adhoc"} 0`) {
			t.Fatalf("textfile:\n%s", b)
		}
	})

	t.Run("audit", func(t *testing.T) {
		prom := filepath.Join(t.TempDir(), "putonly.prom")
		args := append([]string{"audit", "--prefix", "db1/", "--identity", e.idFile, "--textfile", prom, "--job", "adhoc"}, conn...)
		code, stdout, stderr := e.reader(nil, append(args, "--max-age", "1h")...)
		// "bad" was spoilt above: its manifest no longer matches its size.
		if code != 1 || !strings.Contains(stdout, "db1/adhoc  ok") || !strings.Contains(stdout, "db1/bad: manifest:") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		b, _ := os.ReadFile(prom)
		if !strings.Contains(string(b), `putonly_backup_ok{bucket="`+e.s.Bucket+`",prefix="db1/",job="adhoc"} 1`) {
			t.Fatalf("textfile:\n%s", b)
		}
		if st, _ := os.Stat(prom); st.Mode().Perm() != 0o644 {
			t.Errorf("textfile mode %v", st.Mode())
		}
		code, stdout, _ = e.reader(nil, append(args, "--max-age", "1ns")...)
		if code != 1 || !strings.Contains(stdout, "STALE") {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
	})
}

// TestE2ERestorePostgres: back up a database with the backup key, restore
// it with putonly restore into a fresh database, and drill it into another;
// both match the source.
func TestE2ERestorePostgres(t *testing.T) {
	e := newE2E(t, "pg_dump", "pg_restore", "psql", "createdb", "dropdb")
	needPostgres(t)
	src, dst, drill := pgCreate(t, "restore_src"), pgName(t, "restore_dst"), pgName(t, "restore_drill")
	sh(t, fmt.Sprintf(`psql -q -v ON_ERROR_STOP=1 %s -c "
create table orders(id bigint primary key, customer text not null, amount numeric(12,2), note bytea);
insert into orders select g, 'customer-' || (g * 7919 %% 100003), (g %% 9973) / 3.0, decode(md5(g::text), 'hex') from generate_series(1, 100000) g;
create index on orders(customer);"`, src))
	sum := func(db string) string {
		return sh(t, fmt.Sprintf(`psql -Atq %s -c "select count(*) || ':' || md5(string_agg(o::text, ',' order by id)) from orders o"`, db))
	}
	want := sum(src)

	cfg := e.config(fmt.Sprintf("  - name: shop\n    source: {type: postgres, database: %s}\n", src))
	if code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json"); code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	conn := []string{"--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style"}
	dump := filepath.Join(e.dir, "shop.dump")
	code, _, stderr := e.reader(nil, append([]string{"restore", "--latest", "--job", "shop", "--identity", e.idFile, "-o", dump}, conn...)...)
	if code != 0 {
		t.Fatalf("putonly restore: exit %d\n%s", code, stderr)
	}
	sh(t, fmt.Sprintf("createdb %s && pg_restore --exit-on-error -d %s %q", dst, dst, dump))
	if got := sum(dst); got != want {
		t.Fatalf("restored rows %s, want %s", got, want)
	}

	code, stdout, stderr := e.reader(nil, append([]string{"drill", "--job", "shop", "--identity", e.idFile,
		"--into", fmt.Sprintf("createdb %s && pg_restore --exit-on-error -d %s", drill, drill)}, conn...)...)
	if code != 0 || !strings.HasPrefix(stdout, "drill shop: OK") {
		t.Fatalf("putonly drill: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := sum(drill); got != want {
		t.Fatalf("drilled rows %s, want %s", got, want)
	}
}
