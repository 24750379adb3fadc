package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/restore"
)

// These drills run against the real servers: a backup, a write to the
// source after it, a drill into a scratch database. The source must be
// unchanged by the drill, the scratch database must have held the backup's
// rows (the report says so, counted by the server), and it must be gone
// after. An old-style dump that names its database is refused with no
// write anywhere.

func (e *e2e) drillJSON(args ...string) (int, restore.DrillReport, string) {
	e.t.Helper()
	conn := []string{"--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--identity", e.idFile, "--format", "json"}
	code, stdout, stderr := e.reader(nil, append(append([]string{"drill"}, args...), conn...)...)
	var rep restore.DrillReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		e.t.Fatalf("drill %v: exit %d, report not JSON: %v\n%s\n%s", args, code, err, stdout, stderr)
	}
	return code, rep, stderr
}

func rowsOf(rep restore.DrillReport) map[string]int64 {
	m := map[string]int64{}
	if rep.Restored != nil {
		for _, t := range rep.Restored.Tables {
			m[t.Name] = t.Rows
		}
	}
	return m
}

func TestE2EDrillPostgres(t *testing.T) {
	e := newE2E(t, "pg_dump", "pg_restore", "psql", "createdb", "dropdb")
	needPostgres(t)
	src, scratch := pgCreate(t, "drill_pg_src"), pgName(t, "drill_pg_scratch")
	sh(t, fmt.Sprintf(`psql -q -v ON_ERROR_STOP=1 %s -c "
create table orders(id bigint primary key, note text);
insert into orders select g, md5(g::text) from generate_series(1, 5000) g;
create schema audit; create table audit.\"Events\"(id int);
insert into audit.\"Events\" select generate_series(1, 7);
create table empty_one(x int);"`, src))
	exists := func(db string) bool {
		return sh(t, fmt.Sprintf(`psql -Atq postgres -c "select count(*) from pg_database where datname = '%s'"`, db)) == "1"
	}
	srcState := func() string {
		return sh(t, fmt.Sprintf(`psql -Atq %s -c "select count(*) || ':' || md5(string_agg(id || note, ',' order by id)) from orders"`, src))
	}

	cfg := e.config(fmt.Sprintf(`  - name: shop
    source: {type: postgres, database: %[1]s}
  - name: shopsql
    source: {type: command, command: [pg_dump, %[1]s], ext: sql}
  - name: shopcreate
    source: {type: command, command: [pg_dump, --create, %[1]s], ext: sql}
`, src))
	if code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json"); code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	// A write after the backup: the drill must neither undo it nor see it.
	sh(t, fmt.Sprintf(`psql -q %s -c "insert into orders values (5001, 'after the backup')"`, src))
	before := srcState()

	for _, job := range []string{"shop", "shopsql"} {
		code, rep, stderr := e.drillJSON("--job", job, "--into-database", scratch)
		if code != 0 || !rep.OK || !rep.Dropped || !rep.Verified {
			t.Fatalf("%s: exit %d %+v\n%s", job, code, rep, stderr)
		}
		rows := rowsOf(rep)
		if rows["public.orders"] != 5000 || rows["audit.Events"] != 7 || rows["public.empty_one"] != 0 || len(rows) != 3 || rep.Restored.Rows != 5007 {
			t.Fatalf("%s: restored %v", job, rows)
		}
		// A plain dump does not name its database, and a command source
		// has none in its config: only the preset's manifest tells.
		if len(rep.Dump.Tables) != 3 || (job == "shop") != (rep.Dump.SourceDatabase == src) || !strings.HasPrefix(rep.Dump.ServerVersion, "15") {
			t.Fatalf("%s: dump %+v", job, rep.Dump)
		}
		if job == "shopsql" && rep.Dump.CopyRows["public.orders"] != 5000 {
			t.Fatalf("copy rows %v", rep.Dump.CopyRows)
		}
		if exists(scratch) {
			t.Fatalf("%s: the scratch database is still there", job)
		}
		if got := srcState(); got != before {
			t.Fatalf("%s: the source changed: %s, was %s", job, got, before)
		}
	}

	t.Run("text report and keep", func(t *testing.T) {
		conn := []string{"--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--identity", e.idFile}
		code, stdout, stderr := e.reader(nil, append([]string{"drill", "--job", "shop", "--into-database", scratch, "--keep"}, conn...)...)
		if code != 0 || !strings.HasPrefix(stdout, "drill shop: OK") || !strings.Contains(stdout, "restored: 3 tables, 5007 rows") ||
			!strings.Contains(stdout, "public.orders") || !strings.Contains(stdout, "(kept)") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if !exists(scratch) {
			t.Fatal("--keep dropped the scratch database")
		}
		// It now holds tables: a second drill into it is refused.
		code, rep, _ := e.drillJSON("--job", "shop", "--into-database", scratch)
		if code != 1 || !strings.Contains(rep.Error, "exists and is not empty") || !exists(scratch) {
			t.Fatalf("exit %d %+v", code, rep)
		}
		sh(t, "dropdb "+scratch)
	})

	t.Run("named like the source", func(t *testing.T) {
		code, rep, _ := e.drillJSON("--job", "shop", "--into-database", src)
		if code != 1 || !strings.Contains(rep.Error, "named like the source database") {
			t.Fatalf("exit %d %+v", code, rep)
		}
		if got := srcState(); got != before {
			t.Fatalf("the source changed")
		}
	})

	t.Run("dump with --create is refused", func(t *testing.T) {
		code, rep, _ := e.drillJSON("--job", "shopcreate", "--into-database", scratch)
		if code != 1 || !strings.Contains(rep.Error, "CREATE DATABASE "+src) || exists(scratch) {
			t.Fatalf("exit %d %+v", code, rep)
		}
		if strings.Contains(rep.Error, "write:") {
			t.Errorf("a refusal is not a failed write: %s", rep.Error)
		}
		code, rep, _ = e.drillJSON("--job", "shopcreate", "--into", "psql -X -q -v ON_ERROR_STOP=1 -d postgres")
		if code != 1 || !strings.Contains(rep.Error, "switches to another database") {
			t.Fatalf("--into: exit %d %+v", code, rep)
		}
		if got := srcState(); got != before {
			t.Fatalf("the source changed")
		}
		// A custom-format dump restored with pg_restore --create would
		// go to the source's name: refused too.
		code, rep, _ = e.drillJSON("--job", "shop", "--into", "pg_restore --create -d postgres")
		if code != 1 || !strings.Contains(rep.Error, "pg_restore --create") {
			t.Fatalf("--create: exit %d %+v", code, rep)
		}
	})
}

func TestE2EDrillMariaDB(t *testing.T) {
	e := newE2E(t, "mariadb", "mariadb-dump")
	needMariaDB(t)
	src, scratch := myCreate(t, "drill_my_src"), myName(t, "drill_my_scratch")
	mysql := func(q string) string { return sh(t, fmt.Sprintf("mariadb -N -B -e %q", q)) }
	mysql(fmt.Sprintf(`use %s; create table orders(id int primary key, note varchar(64));
insert into orders select seq, md5(seq) from seq_1_to_3000;
create table tags(t varchar(10)); insert into tags values ('a;b'), ('USE x;');`, src))
	exists := func(db string) bool {
		return mysql(fmt.Sprintf("select count(*) from information_schema.schemata where schema_name = '%s'", db)) == "1"
	}
	srcState := func() string {
		return mysql(fmt.Sprintf("select count(*), md5(group_concat(id, note order by id)) from %s.orders", src))
	}
	cfg := e.config(fmt.Sprintf(`  - name: wiki
    source: {type: mysql, database: %[1]s}
  - name: oldwiki
    source: {type: command, command: [mariadb-dump, --single-transaction, --databases, %[1]s], ext: sql}
`, src))
	if code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json"); code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	mysql(fmt.Sprintf("insert into %s.orders values (3001, 'after the backup')", src))
	before := srcState()

	code, rep, stderr := e.drillJSON("--job", "wiki", "--into-database", scratch)
	rows := rowsOf(rep)
	if code != 0 || !rep.OK || !rep.Dropped || rows["orders"] != 3000 || rows["tags"] != 2 || rep.Restored.Rows != 3002 {
		t.Fatalf("exit %d %+v\n%s", code, rep, stderr)
	}
	if rep.Dump.SourceDatabase != src || !strings.Contains(rep.Dump.ServerVersion, "MariaDB") || len(rep.Dump.Tables) != 2 {
		t.Fatalf("dump %+v", rep.Dump)
	}
	if exists(scratch) || srcState() != before {
		t.Fatalf("scratch left: %v, source %s (was %s)", exists(scratch), srcState(), before)
	}

	// putonly restore into a new database: no sed, no USE to strip.
	restored := myName(t, "drill_my_restored")
	conn := []string{"--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--identity", e.idFile}
	code, _, stderr = e.reader(nil, append([]string{"restore", "--latest", "--job", "wiki", "--into-database", restored}, conn...)...)
	if code != 0 || !strings.Contains(stderr, "holds 2 tables, 3002 rows") {
		t.Fatalf("restore --into-database: exit %d\n%s", code, stderr)
	}
	if got := mysql("select count(*) from " + restored + ".orders"); got != "3000" {
		t.Fatalf("restored %s rows", got)
	}
	code, _, stderr = e.reader(nil, append([]string{"restore", "--latest", "--job", "wiki", "--into-database", restored}, conn...)...)
	if code != 1 || !strings.Contains(stderr, "exists and is not empty") {
		t.Fatalf("restore into a full database: exit %d\n%s", code, stderr)
	}
	other := myName(t, "drill_my_other")
	code, _, stderr = e.reader(nil, append([]string{"restore", "--latest", "--job", "oldwiki", "--into-database", other}, conn...)...)
	if code != 1 || !strings.Contains(stderr, "CREATE DATABASE") || exists(other) || srcState() != before {
		t.Fatalf("restore of an old dump: exit %d\n%s", code, stderr)
	}

	// The old-style dump (--databases) carries CREATE DATABASE and USE:
	// refused, into a database or a command, and nothing is written.
	code, rep, _ = e.drillJSON("--job", "oldwiki", "--into-database", scratch)
	if code != 1 || rep.OK || !strings.Contains(rep.Error, "CREATE DATABASE IF NOT EXISTS `"+src+"`") {
		t.Fatalf("exit %d %+v", code, rep)
	}
	if exists(scratch) || srcState() != before {
		t.Fatalf("scratch left %v, source %s (was %s)", exists(scratch), srcState(), before)
	}
	// The issue's own case: a client started in an existing scratch
	// database, which the dump's USE would have left for the source.
	mysql("create database " + scratch)
	code, rep, _ = e.drillJSON("--job", "oldwiki", "--into", "mariadb "+scratch)
	if code != 1 || !strings.Contains(rep.Error, "CREATE DATABASE") {
		t.Fatalf("--into: exit %d %+v", code, rep)
	}
	if n := mysql("select count(*) from information_schema.tables where table_schema = '" + scratch + "'"); n != "0" || srcState() != before {
		t.Fatalf("--into: scratch has %s tables, source %s (was %s)", n, srcState(), before)
	}
	// With --allow-database-switch the same dump is let through (for a
	// scratch server): here it would rewrite the source, which is why it
	// is not the default. Only the report's listing is checked, on a
	// command that reads and discards.
	code, rep, _ = e.drillJSON("--job", "oldwiki", "--into", "cat >/dev/null", "--allow-database-switch")
	if code != 0 || len(rep.Dump.Switches) != 2 {
		t.Fatalf("allowed: exit %d %+v", code, rep)
	}
}

func TestE2EDrillSQLite(t *testing.T) {
	e := newE2E(t, "sqlite3")
	src := filepath.Join(e.dir, "app.db")
	sh(t, fmt.Sprintf(`sqlite3 %q "create table notes(id integer primary key, body text);
with recursive g(i) as (select 1 union all select i+1 from g where i < 2000) insert into notes select i, 'note ' || i from g;
create table \"Odd Name\"(x); insert into \"Odd Name\" values (1);"`, src))
	cfg := e.config(fmt.Sprintf("  - name: app\n    source: {type: sqlite, path: %s}\n", src))
	if code, _, stderr := e.putonly("run", "--config", cfg, "--log-format", "json"); code != 0 {
		t.Fatalf("putonly run: exit %d\n%s", code, stderr)
	}
	sh(t, fmt.Sprintf(`sqlite3 %q "insert into notes values (2001, 'after')"`, src))
	scratch := filepath.Join(t.TempDir(), "drill.db")
	code, rep, stderr := e.drillJSON("--job", "app", "--into-database", scratch)
	rows := rowsOf(rep)
	if code != 0 || rows["notes"] != 2000 || rows["Odd Name"] != 1 || !rep.Dropped {
		t.Fatalf("exit %d %+v\n%s", code, rep, stderr)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Fatalf("scratch file left: %v", err)
	}
	if got := sh(t, fmt.Sprintf(`sqlite3 %q "select count(*) from notes"`, src)); got != "2001" {
		t.Fatalf("source has %s rows", got)
	}
	// The source file itself is refused as a target.
	code, rep, _ = e.drillJSON("--job", "app", "--into-database", src)
	if code != 1 || !strings.Contains(rep.Error, "named like the source") {
		t.Fatalf("exit %d %+v", code, rep)
	}
}
