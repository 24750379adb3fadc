package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A compromised database host can upload a forged backup: the recipients
// are public. These dumps carry what a psql, mariadb or sqlite3 client
// would run as code or turn into a file on the restore host (or what the
// server would run for it). Each is backed up as is, then drilled into a
// scratch database and through --into: the drill must fail naming the
// command, and no marker file may appear.

type forged struct {
	name, typ, dump, want string
}

func forgedDumps(dir string) []forged {
	pg := "--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.t (id integer);\n"
	my := "-- MariaDB dump 10.19  Distrib 10.11.14-MariaDB\n--\n-- Host: localhost    Database: shop\n\nCREATE TABLE `t` (`id` int);\n"
	sq := "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(id integer);\n"
	m := func(n string) string { return filepath.Join(dir, n) }
	return []forged{
		{"pg_bang", "postgres", pg + `\! touch ` + m("pg_bang") + "\n", `\!`},
		// Past the first 64 KiB, after rows the client has already run.
		{"pg_bang_late", "postgres", pg + strings.Repeat("INSERT INTO public.t VALUES (1);\n", 4000) + `\! touch ` + m("pg_bang_late") + "\n", `\!`},
		{"pg_o_pipe", "postgres", pg + `\o |touch ` + m("pg_o_pipe") + "\nSELECT 1;\n", `\o`},
		{"pg_g_pipe", "postgres", pg + `SELECT 1 \g |touch ` + m("pg_g_pipe") + "\n", `\g`},
		{"pg_copy_prog_client", "postgres", pg + `\copy (select 1) to program 'touch ` + m("pg_copy_prog_client") + "'\n", `\copy`},
		{"pg_w", "postgres", pg + "SELECT 1\n" + `\w ` + m("pg_w") + "\n", `\w`},
		{"pg_setenv", "postgres", pg + `\setenv PAGER 'touch ` + m("pg_setenv") + "'\n", `\setenv`},
		{"pg_include", "postgres", pg + `\i /etc/hostname` + "\n", `\i`},
		{"pg_copy_program", "postgres", pg + "COPY (SELECT 1) TO PROGRAM 'touch " + m("pg_copy_program") + "';\n", "PROGRAM"},
		{"pg_lo_export", "postgres", pg + "SELECT pg_catalog.lo_export(pg_catalog.lo_from_bytea(0, 'x'), '" + m("pg_lo_export") + "');\n", "lo_export"},
		{"pg_alter_system", "postgres", pg + "ALTER SYSTEM SET hostile.marker = 'pwned';\n", "ALTER SYSTEM"},
		{"pg_language_c", "postgres", pg + "CREATE FUNCTION public.f() RETURNS void LANGUAGE c AS '/tmp/x.so', 'f';\n", "LANGUAGE c"},
		{"my_bang", "mysql", my + `\! touch ` + m("my_bang") + "\n", `\!`},
		{"my_system", "mysql", my + "system touch " + m("my_system") + "\n", "system"},
		{"my_source", "mysql", my + "source /etc/hostname\n", "source"},
		{"my_tee", "mysql", my + "tee " + m("my_tee") + "\nSELECT 1;\n", "tee"},
		{"my_tee_short", "mysql", my + `\T ` + m("my_tee_short") + "\nSELECT 1;\n", `\T`},
		{"my_pager", "mysql", my + `\P touch ` + m("my_pager") + "\nSELECT 1;\n", `\P`},
		{"my_outfile", "mysql", my + "SELECT 1 INTO OUTFILE '" + m("my_outfile") + "';\n", "OUTFILE"},
		{"my_load_local", "mysql", my + "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE t;\n", "LOAD"},
		{"sq_shell", "sqlite", sq + ".shell touch " + m("sq_shell") + "\nCOMMIT;\n", ".shell"},
		{"sq_output", "sqlite", sq + ".output " + m("sq_output") + "\nSELECT 1;\nCOMMIT;\n", ".output"},
		{"sq_once", "sqlite", sq + ".once " + m("sq_once") + "\nSELECT 1;\nCOMMIT;\n", ".once"},
		{"sq_writefile", "sqlite", sq + "SELECT writefile('" + m("sq_writefile") + "', 'x');\nCOMMIT;\n", "writefile"},
		{"sq_vacuum_into", "sqlite", sq + "COMMIT;\nVACUUM INTO '" + m("sq_vacuum_into") + "';\n", "VACUUM INTO"},
		{"sq_load_extension", "sqlite", sq + "SELECT load_extension('/nonexistent/x');\nCOMMIT;\n", "load_extension"},
	}
}

func TestE2EForgedDumpsRunNothing(t *testing.T) {
	e := newE2E(t, "psql", "createdb", "dropdb", "mariadb", "sqlite3")
	needPostgres(t)
	needMariaDB(t)
	// The marker directory is writable by the servers' users too, so a
	// server-side COPY ... PROGRAM or INTO OUTFILE would leave its file.
	dir, err := os.MkdirTemp("", "hostile_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	pgScratch, pgInto := pgName(t, "hostile_scratch"), pgName(t, "hostile_into")
	myScratch, myInto := myName(t, "hostile_scratch"), myName(t, "hostile_into")
	// A fresh --into database for each run.
	freshInto := func(typ string) {
		switch typ {
		case "postgres":
			sh(t, fmt.Sprintf("dropdb --if-exists %[1]s; createdb %[1]s", pgInto))
		case "mysql":
			sh(t, fmt.Sprintf("mariadb -e 'drop database if exists %[1]s; create database %[1]s'", myInto))
		}
	}
	// ALTER SYSTEM writes the shared server's postgresql.auto.conf.
	t.Cleanup(func() { exec.Command("psql", "-Xqc", "alter system reset hostile.marker", "postgres").Run() })

	for _, f := range forgedDumps(dir) {
		t.Run(f.name, func(t *testing.T) {
			file := filepath.Join(e.dir, f.name+".sql")
			if err := os.WriteFile(file, []byte(f.dump), 0o644); err != nil {
				t.Fatal(err)
			}
			job := strings.ReplaceAll(f.name, "_", "-")
			e.backupCmd(job, "cat "+file)
			var scratch, into string
			switch f.typ {
			case "postgres":
				scratch, into = pgScratch, "psql -X -q -v ON_ERROR_STOP=1 -d "+pgInto
			case "mysql":
				scratch, into = myScratch, "mariadb --batch --database="+myInto
			case "sqlite":
				scratch = filepath.Join(t.TempDir(), "scratch.db")
				into = "sqlite3 -bail " + filepath.Join(t.TempDir(), "into.db")
			}
			for _, target := range [][]string{{"--into-database", scratch}, {"--into", into}, {"--into", into, "--allow-database-switch"}} {
				freshInto(f.typ)
				code, rep, stderr := e.drillJSON(append([]string{"--job", job}, target...)...)
				if code != 1 || rep.OK || !strings.Contains(rep.Error, f.want) {
					t.Errorf("%v: exit %d, error %q (want one naming %q)\n%s", target, code, rep.Error, f.want, stderr)
				}
				if pwned(t, dir, f.name) {
					t.Fatalf("%v: the forged dump's %s worked", target, f.want)
				}
			}
			// restore --into-database refuses it the same way.
			code, _, stderr := e.reader(nil, "restore", "--bucket", e.s.Bucket, "--prefix", "db1/", "--path-style", "--identity", e.idFile,
				"--latest", "--job", job, "--into-database", scratch)
			if code != 1 || !strings.Contains(stderr, f.want) {
				t.Errorf("restore --into-database: exit %d\n%s", code, stderr)
			}
			if pwned(t, dir, f.name) {
				t.Fatalf("restore: the forged dump's %s worked", f.want)
			}
		})
	}
}

// pwned says whether the attack named left its mark: a file, or for
// ALTER SYSTEM a setting in postgresql.auto.conf.
func pwned(t *testing.T, dir, name string) bool {
	if name == "pg_alter_system" {
		return sh(t, `psql -XAtq postgres -c "select count(*) from pg_file_settings where name = 'hostile.marker'"`) != "0"
	}
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// The guard's allowlist must let every real dump of the presets through:
// pg_dump plain and custom with plpgsql functions, a trigger, large
// objects and a table wider than the words the guard keeps; mariadb-dump
// with routines, triggers and events (DELIMITER ;;, the sandbox line);
// sqlite3 .dump with a trigger and a view (an FTS5 table's .dump
// names its shadow tables with strings, which the drill's table list does
// not read yet); pg_dumpall -g
// (roles, \connect) through --into with the switch allowed.
func TestE2EGuardPassesRealDumps(t *testing.T) {
	e := newE2E(t, "pg_dump", "pg_dumpall", "pg_restore", "psql", "createdb", "dropdb", "mariadb", "mariadb-dump", "sqlite3")
	needPostgres(t)
	needMariaDB(t)
	pgSrc, pgReal := pgCreate(t, "hostile_src"), pgName(t, "hostile_real")
	mySrc, myReal := myCreate(t, "hostile_src"), myName(t, "hostile_real")

	var cols []string
	for i := range 40 {
		cols = append(cols, "c"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+strings.Repeat("0", i/26)+" int default 1")
	}
	sh(t, `psql -X -q -v ON_ERROR_STOP=1 `+pgSrc+` <<'SQL'
create table public.orders(id int primary key, note text);
insert into orders select g, 'a\b;\! touch x' from generate_series(1, 300) g;
create table public.wide(`+strings.Join(cols, ", ")+`);
insert into wide default values;
create function public.bump() returns trigger language plpgsql as $$ begin new.note := coalesce(new.note, 'x'); return new; end $$;
create trigger orders_bump before insert on orders for each row execute function public.bump();
select lo_from_bytea(0, '\x00010203'::bytea);
select lo_from_bytea(0, 'second large object'::bytea);
SQL`)
	sh(t, `mariadb `+mySrc+` <<'SQL'
create table orders(id int primary key, note varchar(64));
insert into orders values (1, 'a\\b; system x'), (2, 'two');
DELIMITER ;;
create procedure p() begin select count(*) from orders; end;;
create trigger t_bi before insert on orders for each row begin set new.note = coalesce(new.note, 'x'); end;;
create event ev on schedule every 1 day disable do delete from orders where id < 0;;
DELIMITER ;
SQL`)
	lite := filepath.Join(e.dir, "src.db")
	sh(t, fmt.Sprintf(`sqlite3 %q "create table notes(id integer primary key, body text); insert into notes values (1, '.shell x'), (2, 'writefile(1)');
create table log(body text);
create trigger tr after insert on notes begin insert into log values (new.body); end; create view v as select * from notes;"`, lite))

	e.backupCmd("pg-plain", "pg_dump "+pgSrc)
	e.backupCmd("pg-custom", "pg_dump -Fc "+pgSrc)
	e.backupCmd("my-routines", "mariadb-dump --routines --triggers --events "+mySrc)
	e.backupCmd("lite", fmt.Sprintf("sqlite3 %q .dump", lite))
	e.backupCmd("pg-globals", "pg_dumpall -g")

	for _, tc := range []struct {
		job, scratch string
		tables       int
	}{
		{"pg-plain", pgReal, 2},
		{"pg-custom", pgReal, 2},
		{"my-routines", myReal, 1},
		{"lite", filepath.Join(t.TempDir(), "real.db"), 1},
	} {
		code, rep, stderr := e.drillJSON("--job", tc.job, "--into-database", tc.scratch)
		if code != 0 || !rep.OK || rep.Restored == nil || len(rep.Restored.Tables) < tc.tables {
			t.Errorf("%s: exit %d %+v\n%s", tc.job, code, rep, stderr)
		}
	}
	code, rep, stderr := e.drillJSON("--job", "pg-globals", "--into", "cat > /dev/null", "--allow-database-switch")
	if code != 0 || !rep.OK {
		t.Errorf("pg_dumpall -g: exit %d %+v\n%s", code, rep, stderr)
	}
}

// A custom-format archive's table of contents holds SQL text for every
// entry, which pg_restore -d runs as it is (pg_restore -l shows only the
// entry's name): a forged COMMENT entry holding COPY ... TO PROGRAM ran on
// the server. The database target now has pg_restore write the SQL, and
// the guard reads it on its way to psql.
func TestE2EForgedCustomArchive(t *testing.T) {
	e := newE2E(t, "pg_dump", "pg_restore", "psql", "createdb", "dropdb")
	needPostgres(t)
	dir, err := os.MkdirTemp("", "hostile_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	src, scratch := pgCreate(t, "hostile_fc_src"), pgName(t, "hostile_fc_scratch")
	pad := strings.Repeat("A", 120)
	sh(t, `psql -Xq -v ON_ERROR_STOP=1 `+src+` -c "create table t(id int); insert into t values (1); comment on table t is '`+pad+`'"`)
	real := filepath.Join(e.dir, "real.dump")
	sh(t, "pg_dump -Fc "+src+" > "+real)
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	old := "COMMENT ON TABLE public.t IS '" + pad + "';"
	mark := filepath.Join(dir, "fc_pwned")
	evil := "COPY (SELECT 1) TO PROGRAM 'touch " + mark + "';"
	evil += strings.Repeat(" ", len(old)-len(evil)-2) + "--"
	if len(evil) != len(old) || !strings.Contains(string(b), old) {
		t.Fatalf("cannot forge: %d %d %v", len(evil), len(old), strings.Contains(string(b), old))
	}
	forged := filepath.Join(e.dir, "forged.dump")
	if err := os.WriteFile(forged, []byte(strings.Replace(string(b), old, evil, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.backupCmd("fc-real", "cat "+real)
	e.backupCmd("fc-forged", "cat "+forged)

	code, rep, stderr := e.drillJSON("--job", "fc-forged", "--into-database", scratch)
	if code != 1 || !strings.Contains(rep.Error, "COPY other than FROM stdin") {
		t.Errorf("forged: exit %d %q\n%s", code, rep.Error, stderr)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the forged archive's COPY ... TO PROGRAM ran")
	}
	code, rep, stderr = e.drillJSON("--job", "fc-real", "--into-database", scratch)
	if code != 0 || !rep.OK || rowsOf(rep)["public.t"] != 1 || len(rep.Dump.Tables) != 1 {
		t.Errorf("real: exit %d %+v\n%s", code, rep, stderr)
	}
}
