package restore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// guard runs the whole dump through a guard, in chunks of the given size,
// and returns what reached the target and the error.
func guard(t *testing.T, d Dialect, dump string, chunk int, allow bool) (*SQLGuard, string, error) {
	t.Helper()
	var out bytes.Buffer
	g := NewSQLGuard(&out, d, allow)
	b := []byte(dump)
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := g.Write(b[:n]); err != nil {
			return g, out.String(), err
		}
		b = b[n:]
	}
	err := g.Close()
	return g, out.String(), err
}

func readDump(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/sqlscan/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The dumps under testdata/sqlscan were written by mariadb-dump 10.11,
// pg_dump 15 and sqlite3 3.40 from databases whose strings hold USE,
// \connect, ATTACH and semicolons, and whose routines change DELIMITER.
func TestSQLGuardRealDumps(t *testing.T) {
	for _, tc := range []struct {
		file    string
		d       Dialect
		switch_ string // "" for a dump that stays in its database
		tables  []string
	}{
		{"mysql-single.sql", DialectMySQL, "", []string{"t", "u"}},
		{"mysql-databases.sql", DialectMySQL, "CREATE DATABASE", nil},
		{"pg-plain.sql", DialectPostgres, "", []string{"public.t", "s2.Mixed"}},
		{"pg-create.sql", DialectPostgres, "CREATE DATABASE restorehelper_scan", nil},
		{"sqlite.sql", DialectSQLite, "", []string{"t", "odd name"}},
	} {
		dump := readDump(t, tc.file)
		for _, chunk := range []int{1, 2, 3, 7, 64, 4096, 1 << 20} {
			g, out, err := guard(t, tc.d, dump, chunk, false)
			if tc.switch_ == "" {
				if err != nil {
					t.Fatalf("%s chunk %d: %v", tc.file, chunk, err)
				}
				if out != dump {
					t.Fatalf("%s chunk %d: the target got %d bytes of %d", tc.file, chunk, len(out), len(dump))
				}
				if !slices.Equal(g.Tables, tc.tables) {
					t.Fatalf("%s: tables %q, want %q", tc.file, g.Tables, tc.tables)
				}
				continue
			}
			var se *SwitchError
			if !errors.As(err, &se) || !errors.Is(err, ErrDatabaseSwitch) {
				t.Fatalf("%s chunk %d: err %v, want a switch", tc.file, chunk, err)
			}
			if !strings.Contains(err.Error(), "hint: ") || !strings.Contains(err.Error(), "--allow-database-switch") {
				t.Fatalf("%s: %q says no fix", tc.file, err)
			}
			if !strings.HasPrefix(se.Statement, tc.switch_) {
				t.Fatalf("%s: statement %q, want %q", tc.file, se.Statement, tc.switch_)
			}
			// The target saw nothing of the statement.
			at := strings.Index(dump, tc.switch_)
			if len(out) > at {
				t.Fatalf("%s chunk %d: the target got %d bytes, past the statement at %d", tc.file, chunk, len(out), at)
			}
			if want := int64(strings.Count(dump[:at], "\n") + 1); se.Line != want {
				t.Fatalf("%s: line %d, want %d", tc.file, se.Line, want)
			}
		}
	}
}

func TestSQLGuardCopyRows(t *testing.T) {
	g, _, err := guard(t, DialectPostgres, readDump(t, "pg-plain.sql"), 5, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.CopyRows["public.t"] != 3 || g.CopyRows["s2.Mixed"] != 2 {
		t.Fatalf("copy rows %v", g.CopyRows)
	}
}

func TestSQLGuardAllow(t *testing.T) {
	g, out, err := guard(t, DialectMySQL, readDump(t, "mysql-databases.sql"), 100, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Switches) != 3 { // CREATE DATABASE and two USE
		t.Fatalf("switches %v", g.Switches)
	}
	if out != readDump(t, "mysql-databases.sql") {
		t.Fatal("allowed dump not passed whole")
	}
}

// guardStatementCases are dumps that switch database (bad names the
// statement) and look-alikes that do not; FuzzSQLGuard seeds from them.
var guardStatementCases = []struct {
	d   Dialect
	sql string
	bad string // the statement, "" when fine
}{
	{DialectMySQL, "USE `other`;", "USE `other`"},
	{DialectMySQL, "use other", "use other"},
	{DialectMySQL, "/*!40000 DROP DATABASE IF EXISTS `x`*/;", "DROP DATABASE IF EXISTS `x`"},
	{DialectMySQL, "/*M!100100 CREATE SCHEMA x */;", "CREATE SCHEMA x"},
	{DialectMySQL, "SELECT 1;\n\\u other\n", `\u`},
	{DialectMySQL, "SELECT 1; \\r other localhost\n", `\r`},
	{DialectMySQL, "CONNECT other;", "CONNECT other"},
	{DialectMySQL, "CREATE USER 'x'@'%';", "CREATE USER '…'@ '…'"},
	{DialectMySQL, "INSERT INTO t VALUES ('a\\';USE x;');", ""},
	{DialectMySQL, "INSERT INTO t VALUES (\"a\\\";USE x;\");", ""},
	{DialectMySQL, "-- USE x;\n# USE y;\n/* USE z; */ SELECT 1;", ""},
	{DialectMySQL, "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN USE x; END;;\nDELIMITER ;\n", ""},
	{DialectMySQL, "DELIMITER //\nSELECT 1//\nUSE x//\n", "USE x"},
	{DialectMySQL, "CREATE TABLE `a;USE x` (i int);", ""},
	{DialectPostgres, "\\connect other\n", `\connect other`},
	{DialectPostgres, "SELECT 1;\n\\c other\n", `\c other`},
	{DialectPostgres, "\\restrict abc\nSELECT 1;\n\\unrestrict abc\n", ""},
	{DialectPostgres, "CREATE DATABASE x;", "CREATE DATABASE x"},
	{DialectPostgres, "ALTER DATABASE x OWNER TO y;", "ALTER DATABASE x OWNER TO y"},
	{DialectPostgres, "CREATE ROLE r;", "CREATE ROLE r"},
	{DialectPostgres, "CREATE SCHEMA s;", ""},
	{DialectPostgres, "SELECT E'a\\';\\connect x';", ""},
	{DialectPostgres, "CREATE FUNCTION f() RETURNS int AS $$ CREATE DATABASE x; $$ LANGUAGE sql;", ""},
	{DialectPostgres, "CREATE FUNCTION f() RETURNS int AS $b$ $$ ; \\c x $b$ LANGUAGE sql; \\c y\n", `\c y`},
	{DialectPostgres, "SELECT $1; USE x;", "USE x"},
	{DialectPostgres, "COPY t (a) FROM stdin;\nUSE x;\n\\\\connect y\n\\.\nSELECT 1;", ""}, // pg_dump escapes a backslash in data
	{DialectPostgres, "COPY t (a) FROM stdin;\nrow\n\\.\n\\connect y\n", `\connect y`},
	{DialectPostgres, "-- \\connect x\n/* \\connect y */ SELECT 1;", ""},
	{DialectPostgres, "SELECT 1 \\c other\n", `\c other`},
	{DialectSQLite, "ATTACH DATABASE 'x.db' AS x;", "ATTACH DATABASE '…' AS x"},
	{DialectSQLite, "SELECT 1;\n.open other.db\n", ".open other.db"},
	{DialectSQLite, "INSERT INTO t VALUES('x\n.open y\n');", ""},
	{DialectSQLite, "CREATE TABLE [a;ATTACH x](i);", ""},
	{DialectSQLite, "CREATE OR", ""}, // truncated: classified at Close
	{DialectMySQL, "USE", "USE"},
}

func TestSQLGuardStatements(t *testing.T) {
	for _, tc := range guardStatementCases {
		for _, chunk := range []int{1, 3, 1000} {
			_, out, err := guard(t, tc.d, tc.sql, chunk, false)
			if tc.bad == "" {
				if err != nil || out != tc.sql {
					t.Errorf("%s %q: err %v, out %q", tc.d, tc.sql, err, out)
				}
				continue
			}
			var se *SwitchError
			if !errors.As(err, &se) {
				t.Errorf("%s %q chunk %d: err %v, want a switch", tc.d, tc.sql, chunk, err)
				continue
			}
			if se.Statement != tc.bad {
				t.Errorf("%s %q: statement %q, want %q", tc.d, tc.sql, se.Statement, tc.bad)
			}
		}
	}
}

// A statement that does not say what it is within maxHold is refused, so
// holding back stays bounded.
func TestSQLGuardHoldBound(t *testing.T) {
	sql := "CREATE /*" + strings.Repeat("x", maxHold+10) + "*/ DATABASE x;"
	_, out, err := guard(t, DialectPostgres, sql, 64<<10, false)
	if err == nil || out != "" && strings.Contains(out, "DATABASE") {
		t.Fatalf("err %v, %d bytes out", err, len(out))
	}
}

// BenchmarkSQLGuard: the guard's cost per byte of a real mysqldump (for
// helper "perf"'s ratios; no timing is asserted).
func BenchmarkSQLGuard(b *testing.B) {
	one, err := os.ReadFile("testdata/sqlscan/mysql-single.sql")
	if err != nil {
		b.Fatal(err)
	}
	dump := bytes.Repeat(one, 256)
	b.SetBytes(int64(len(dump)))
	for b.Loop() {
		g := NewSQLGuard(io.Discard, DialectMySQL, true)
		for p := dump; len(p) > 0; p = p[min(len(p), 256<<10):] {
			if _, err := g.Write(p[:min(len(p), 256<<10)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := g.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLGuardRows: extended INSERTs, the bulk of a real dump.
func BenchmarkSQLGuardRows(b *testing.B) {
	var sb strings.Builder
	for s := 0; s < 16; s++ {
		sb.WriteString("INSERT INTO `orders` VALUES ")
		for r := 0; r < 4000; r++ {
			if r > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'customer-%d',%d.%02d,'2026-01-01 00:%02d:00','note \\'%x\\'')", r, r*7919, r, r%100, r%60, r*31337)
		}
		sb.WriteString(";\n")
	}
	dump := []byte(sb.String())
	b.SetBytes(int64(len(dump)))
	for b.Loop() {
		g := NewSQLGuard(io.Discard, DialectMySQL, false)
		for p := dump; len(p) > 0; p = p[min(len(p), 256<<10):] {
			if _, err := g.Write(p[:min(len(p), 256<<10)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := g.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// wideCopyDump has a COPY column list longer than the words the guard
// keeps of a statement.
var wideCopyDump = "COPY public.w (" + strings.Repeat("c, ", 40) + "z) FROM stdin;\n1\t\\N\t\\\\x\n\\.\n"

// guardUnsafeCases are forged dumps that would run a program or touch a
// file (bad names what is refused) and what the dump tools do write in
// places that look alike; FuzzSQLGuard seeds from them.
var guardUnsafeCases = []struct {
	d   Dialect
	sql string
	bad string // the refused statement, "" when fine
}{
	{DialectPostgres, "\\! id\n", `\! id`},
	{DialectPostgres, "\\o |id\nSELECT 1;\n", `\o |id`},
	{DialectPostgres, "SELECT 1 \\g |id\n", `\g |id`},
	{DialectPostgres, "\\copy t to program 'id'\n", `\copy t to program 'id'`},
	{DialectPostgres, "\\i /etc/passwd\n", `\i /etc/passwd`},
	{DialectPostgres, "\\setenv PAGER id\n", `\setenv PAGER id`},
	{DialectPostgres, "\\w /tmp/x\n", `\w /tmp/x`},
	{DialectPostgres, "\\lo_export 1 /tmp/x\n", `\lo_export 1 /tmp/x`},
	{DialectPostgres, "\\restrict abc \\! id\n", `\restrict abc \! id`},
	{DialectPostgres, "\\connect x \\! id\n", `\connect x \! id`},
	{DialectPostgres, "COPY (SELECT 1) TO PROGRAM 'id';", "COPY other than FROM stdin"},
	{DialectPostgres, "COPY t FROM '/etc/passwd';", "COPY other than FROM stdin"},
	{DialectPostgres, "COPY t FROM PROGRAM 'id';", "COPY other than FROM stdin"},
	{DialectPostgres, "SELECT lo_export(1, '/tmp/x');", "lo_export()"},
	{DialectPostgres, "SELECT pg_catalog.lo_import('/etc/passwd');", "lo_import()"},
	{DialectPostgres, "SELECT \"pg_read_file\"('/etc/passwd');", "pg_read_file()"},
	{DialectPostgres, "ALTER SYSTEM SET archive_command = 'id';", "ALTER SYSTEM"},
	{DialectPostgres, "LOAD '/tmp/x.so';", "LOAD"},
	{DialectPostgres, "CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/tmp/x.so', 'f';", "LANGUAGE c"},
	{DialectPostgres, "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ 1 $$ LANGUAGE plpython3u;", "LANGUAGE plpython3u"},
	{DialectPostgres, "CREATE FUNCTION f() RETURNS int LANGUAGE 'c' AS 'x';", "LANGUAGE '…'"},
	{DialectPostgres, "DO LANGUAGE plperlu $$ system('id') $$;", "LANGUAGE plperlu"},
	{DialectPostgres, "CREATE FUNCTION public.f() RETURNS integer LANGUAGE plpgsql AS $$ begin return 1; end $$;", ""},
	{DialectPostgres, "CREATE TABLE t (language public.menu, edit int);", ""},
	{DialectPostgres, "SELECT pg_catalog.lo_create('16393');\nSELECT pg_catalog.lo_open('16393', 131072);\nSELECT pg_catalog.lowrite(0, '\\x41');\n", ""},
	{DialectPostgres, "SELECT 'lo_export(1)', $$ \\! id $$;", ""},
	{DialectPostgres, wideCopyDump, ""},
	{DialectMySQL, "\\! id\n", `\!`},
	{DialectMySQL, "\\. /etc/passwd\n", `\.`},
	{DialectMySQL, "\\T /tmp/x\n", `\T`},
	{DialectMySQL, "\\P id\n", `\P`},
	{DialectMySQL, "\\e\n", `\e`},
	{DialectMySQL, "system id\n", "system"},
	{DialectMySQL, "SELECT 1;\nsource /etc/passwd\n", "source"},
	{DialectMySQL, "tee /tmp/x\n", "tee"},
	{DialectMySQL, "PAGER id\n", "PAGER"},
	{DialectMySQL, "SELECT 1 INTO OUTFILE '/tmp/x';", "INTO OUTFILE"},
	{DialectMySQL, "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT a FROM t INTO DUMPFILE '/tmp/x'; END;;\n", "INTO DUMPFILE"},
	{DialectMySQL, "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t;", "LOAD DATA"},
	{DialectMySQL, "INSERT INTO t VALUES (LOAD_FILE('/etc/passwd'));", "load_file()"},
	{DialectMySQL, "/*M!999999\\- enable the sandbox mode */ \nSELECT 1;\n", ""},
	{DialectMySQL, "INSERT INTO `t` VALUES ('system id\\n','\\\\! x', 'INTO OUTFILE');", ""},
	{DialectSQLite, ".shell id\n", ".shell id"},
	{DialectSQLite, ".system id\n", ".system id"},
	{DialectSQLite, ".output /tmp/x\n", ".output /tmp/x"},
	{DialectSQLite, ".once /tmp/x\n", ".once /tmp/x"},
	{DialectSQLite, ".import /etc/passwd t\n", ".import /etc/passwd t"},
	{DialectSQLite, ".read /tmp/x\n", ".read /tmp/x"},
	{DialectSQLite, ".load /tmp/x\n", ".load /tmp/x"},
	{DialectSQLite, ".save /tmp/x\n", ".save /tmp/x"},
	{DialectSQLite, ".log /tmp/x\n", ".log /tmp/x"},
	{DialectSQLite, "SELECT writefile('/tmp/x', 'y');", "writefile()"},
	{DialectSQLite, "SELECT readfile('/etc/passwd');", "readfile()"},
	{DialectSQLite, "SELECT edit('x', 'id');", "edit()"},
	{DialectSQLite, "SELECT load_extension('/tmp/x');", "load_extension()"},
	{DialectSQLite, "VACUUM INTO '/tmp/x';", "VACUUM INTO"},
	{DialectSQLite, "CREATE TABLE t(edit, readfile);\nINSERT INTO t VALUES('writefile(1)', '.shell');", ""},
}

// What a forged dump can carry to make a client run a program or touch a
// file: refused whatever the switch setting, naming the command; and what
// the dump tools do write, in places that look alike, passes.
func TestSQLGuardUnsafe(t *testing.T) {
	for _, tc := range guardUnsafeCases {
		for _, allow := range []bool{false, true} {
			for _, chunk := range []int{1, 3, 1000} {
				_, out, err := guard(t, tc.d, tc.sql, chunk, allow)
				if tc.bad == "" {
					if err != nil || out != tc.sql {
						t.Errorf("%s %q: err %v, out %q", tc.d, tc.sql, err, out)
					}
					continue
				}
				var ue *UnsafeError
				if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeDump) {
					t.Errorf("%s %q chunk %d allow %v: err %v, want unsafe", tc.d, tc.sql, chunk, allow, err)
					continue
				}
				if ue.Statement != tc.bad {
					t.Errorf("%s %q: statement %q, want %q", tc.d, tc.sql, ue.Statement, tc.bad)
				}
				if strings.Contains(out, strings.TrimSpace(strings.SplitN(tc.sql, "\n", 2)[0])) && !strings.HasPrefix(tc.sql, "SELECT 1;") && !strings.HasPrefix(tc.sql, "DELIMITER") {
					// The refused statement's terminator never reaches the client.
					if strings.HasSuffix(out, ";") || strings.HasSuffix(out, "\n") {
						t.Errorf("%s %q: passed %q", tc.d, tc.sql, out)
					}
				}
			}
		}
	}
}

// COPY data holds only the escapes COPY TO writes: another backslash
// would be a psql command when the COPY fails and psql reads the rows as
// input (without ON_ERROR_STOP, as an --into psql may run).
func TestSQLGuardCopyEscapes(t *testing.T) {
	ok := "COPY t (a, b) FROM stdin;\n\\N\ta\\\\b\\tc\\nd\\r\\b\\f\\v\n\\\\!x\t\\N\n\\.\nSELECT 1;\n"
	for _, chunk := range []int{1, 2, 1000} {
		if _, out, err := guard(t, DialectPostgres, ok, chunk, false); err != nil || out != ok {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
	}
	for _, bad := range []string{
		"COPY nosuch FROM stdin;\n\\! touch /tmp/x\n\\.\n",
		"COPY nosuch FROM stdin;\n1\tabc\\o |id\n\\.\n",
		"COPY nosuch FROM stdin;\n1\\\n\\.\n",
		"COPY nosuch FROM stdin;\n1 \\. x\n\\.\n",
	} {
		for _, chunk := range []int{1, 3, 1000} {
			_, _, err := guard(t, DialectPostgres, bad, chunk, true)
			if !errors.Is(err, ErrUnsafeDump) {
				t.Errorf("%q chunk %d: %v", bad, chunk, err)
			}
		}
	}
}

// A dialect the guard does not know passes nothing: it cannot tell a
// client command from SQL.
func TestSQLGuardUnknownDialect(t *testing.T) {
	var out bytes.Buffer
	g := NewSQLGuard(&out, Dialect(0), true)
	if _, err := g.Write([]byte("SELECT 1;\n")); err == nil || out.Len() > 0 {
		t.Fatalf("err %v, %d bytes out", err, out.Len())
	}
	if err := g.Close(); err == nil {
		t.Fatal("Close: no error")
	}
}
