package restore

import (
	"errors"
	"strings"
	"testing"
)

// guardGapCases are dumps where the guard once read a quote, a comment or
// a statement boundary differently from the client (psql, mysql/mariadb,
// sqlite3) or the server that loads them, so that a command or a switch
// the client runs was hidden from it; and dumps that look alike and pass.
// want is "switch" or "unsafe" for a refused dump, "" for one that passes;
// stmt, when set, is the statement the error names.
var guardGapCases = []struct {
	name string
	d    Dialect
	sql  string
	want string
	stmt string
}{
	// Already right; kept here so that they stay so.
	{"USE after a block comment", DialectMySQL, "/* x */ USE y;", "switch", "USE y"},
	{"USE after a line comment", DialectMySQL, "-- x\nUSE y;", "switch", "USE y"},
	{"USE after a hash comment", DialectMySQL, "# x\nUSE y;", "switch", "USE y"},
	{"USE in an executable comment", DialectMySQL, "/*!50000 USE y */;", "switch", "USE y"},
	{"USE in MariaDB's executable comment", DialectMySQL, "/*M!100000 USE y */;", "switch", "USE y"},
	{"USE inside a comment between words", DialectMySQL, "CREATE /* x */ DATABASE y;", "switch", "CREATE DATABASE y"},
	{"\\c as well as \\connect", DialectPostgres, "SELECT 1;\n\\c other\n", "switch", `\c other`},
	{"\\c with CRLF", DialectPostgres, "SELECT 1;\r\n\\c other\r\n", "switch", `\c other`},
	{"\\connect with CRLF", DialectPostgres, "SET x = 1;\r\n\\connect other\r\n", "switch", `\connect other`},
	{"COPY data with CRLF", DialectPostgres, "COPY t (a) FROM stdin;\r\n1\r\n\\.\r\n\\connect y\r\n", "switch", `\connect y`},
	{"DELIMITER with CRLF", DialectMySQL, "DELIMITER ;;\r\nSELECT 1;;\r\nUSE x;;\r\nDELIMITER ;\r\n", "switch", "USE x"},
	{"USE with CRLF", DialectMySQL, "SELECT 1;\r\nUSE x;\r\n", "switch", "USE x"},
	{".open with CRLF", DialectSQLite, "SELECT 1;\r\n.open x.db\r\n", "switch", ".open x.db"},
	{"mysql -- comment with CRLF", DialectMySQL, "SELECT 1; --\r\nSELECT 2;\r\n", "", ""},

	// postgres: '$' continues an identifier (a$$b$$ is one name to psql),
	// it opens no dollar quote there.
	{"$ inside an identifier", DialectPostgres, "SELECT a$$b$$; \\! id\n", "unsafe", `\! id`},
	{"$$ after a number", DialectPostgres, "SELECT 1$$; \\! id\n$$;", "", ""},
	{"dollar quote after a blank", DialectPostgres, "SELECT $$ \\! id $$;", "", ""},
	// postgres: block comments nest; psql ends one at its matching */.
	{"nested comment", DialectPostgres, "/* /* */ ' */ \\! id\n';", "unsafe", `\! id`},
	{"nested comment passes", DialectPostgres, "/* a /* b */ c */ SELECT 1;", "", ""},
	{"nested comment hides", DialectPostgres, "/* a /* b */ \\connect x */ SELECT 1;", "", ""},
	// A line comment's dashes are not the previous byte of the next line.
	{"- after a line comment", DialectPostgres, "SELECT 1 -- a\n-; \\! id\n", "unsafe", `\! id`},
	{"- after a mysql line comment", DialectMySQL, "SELECT 1 -- a\n-- b\n-; \\! id\n", "unsafe", `\!`},
	// postgres: a backtick is an operator character, not a quote.
	{"backtick", DialectPostgres, "SELECT 1 `; \\! id\n`;", "unsafe", `\! id`},
	// postgres: a string that reads the same whatever
	// standard_conforming_strings and client_encoding the dump sets.
	{"std strings off", DialectPostgres, "SET standard_conforming_strings = off;\nSELECT 'a\\'; -- ' \\! id\n", "unsafe", `\' in a string`},
	{"set_config std strings", DialectPostgres, "SELECT set_config('standard_conforming_strings', 'off', false);\nSELECT 'a\\'; -- ' \\! id\n", "unsafe", `\' in a string`},
	// This one was a switch (standard strings: 'a\' ends there), read as
	// if standard_conforming_strings could not be turned off.
	{"'a\\' then \\connect", DialectPostgres, "SELECT 'a\\';\\connect x';", "unsafe", `\' in a string`},
	{"backslash before a doubled quote", DialectPostgres, "SELECT 'a\\''b';", "unsafe", `\' in a string`},
	{"backslashes in a standard string", DialectPostgres, "ALTER TABLE t ADD CHECK (e ~ '^[a-z]+\\.[a-z]\\\\x');", "", ""},
	{"sjis E-string", DialectPostgres, "SET client_encoding = 'SJIS';\nSELECT E'\x95\\'; \\! id\n';", "unsafe", ""},
	{"utf-8 then an escape in E-string", DialectPostgres, "SELECT E'caf\xc3\xa9 \\n\\'';", "", ""},
	// mysql: "--" opens a comment only before a blank or a line end, or
	// where a statement starts (the mysql client; the server alike).
	{"--x is code", DialectMySQL, "SELECT 1 --x; \\! id\n", "unsafe", `\!`},
	{"--1 is code", DialectMySQL, "SELECT 1--1; USE x;\n", "switch", "USE x"},
	{"-- past the kept words", DialectMySQL, "INSERT INTO t VALUES (" + strings.Repeat("1,", 20) + "1) -- it's\n; \\! id\n", "unsafe", `\!`},
	{"-- comment past the kept words", DialectMySQL, "INSERT INTO t VALUES (" + strings.Repeat("1,", 20) + "1) -- it's\n;\n", "", ""},
	{"--x starting a statement", DialectMySQL, "--x USE y;\nSELECT 1;\n", "", ""},
	{"-- then a tab", DialectMySQL, "SELECT 1; --\tUSE y;\nSELECT 2;", "", ""},
	{"-- then a control byte", DialectMySQL, "SELECT 1 --\x01 ';\n", "unsafe", ""},
	// mysql: an optimizer hint /*+ */ is sent to the server, and the
	// MySQL client reads \ commands inside it.
	{"\\! in a hint", DialectMySQL, "SELECT /*+ \\! id */ 1;", "unsafe", `\!`},
	{"hint passes", DialectMySQL, "SELECT /*+ BKA(t) */ 1;", "", ""},
	// mysql: DELIMITER is a client command only at the start of a line;
	// elsewhere the client takes it at the next terminator.
	{"DELIMITER after a statement", DialectMySQL, "SELECT 1; DELIMITER //\nSELECT 2; USE x; //\n", "unsafe", ""},
	{"DELIMITER after a comment", DialectMySQL, "/* c */ DELIMITER //\nSELECT 2; USE x; //\n", "unsafe", ""},
	{"DELIMITER after blanks", DialectMySQL, "  DELIMITER //\nSELECT 2//\n", "", ""},
	// mysql: session settings that change how the rest is read
	// (sqlscan_set.go), and SQL run from strings the guard cannot read.
	{"NO_BACKSLASH_ESCAPES", DialectMySQL, "SET sql_mode='NO_BACKSLASH_ESCAPES';\nSELECT 'a\\'; \\! id\n-- ';\n", "unsafe", "SET sql_mode …"},
	{"ANSI_QUOTES in an executable comment", DialectMySQL, "/*!40101 SET SQL_MODE='ANSI_QUOTES' */;\nSELECT \"a\\\"; \\! id\n-- \";\n", "unsafe", "SET SQL_MODE …"},
	{"ANSI via @@session", DialectMySQL, "SET @@session.sql_mode = 'ANSI';", "unsafe", "SET sql_mode …"},
	{"SESSION sql_mode :=", DialectMySQL, "SET SESSION sql_mode := 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES';", "unsafe", "SET sql_mode …"},
	{"sql_mode from a variable", DialectMySQL, "SET @m = 'NO_BACKSLASH_ESCAPES'; SET sql_mode = @m;", "unsafe", "SET sql_mode …"},
	{"saved variable overwritten", DialectMySQL, "SET @m = @@sql_mode; SELECT @m := 'ANSI_QUOTES'; SET sql_mode = @m;", "unsafe", "SET sql_mode …"},
	{"saved variable overwritten by INTO", DialectMySQL, "SET @m = @@sql_mode; SELECT 'ANSI_QUOTES' INTO @m; SET sql_mode = @m;", "unsafe", "SET sql_mode …"},
	{"saved variable restored", DialectMySQL, "SET @m = @@sql_mode; SET sql_mode = 'STRICT_ALL_TABLES'; SET sql_mode = @m;", "", ""},
	{"sql_mode computed", DialectMySQL, "SET sql_mode = CONCAT('NO_BACKSLASH', '_ESCAPES');", "unsafe", "SET sql_mode …"},
	{"sql_mode from adjacent strings", DialectMySQL, "SET sql_mode = 'NO_BACKSLASH' '_ESCAPES';", "unsafe", "SET sql_mode …"},
	{"sql_mode per statement", DialectMySQL, "SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR SELECT 1;", "unsafe", "SET sql_mode …"},
	{"sql_mode empty and DEFAULT", DialectMySQL, "SET sql_mode = ''; SET sql_mode = DEFAULT; SET @@GLOBAL.sql_mode = 'TRADITIONAL';", "", ""},
	{"NAMES gbk", DialectMySQL, "SET NAMES gbk;\nSELECT '\xbf\\'; \\! id\n-- ';", "unsafe", "SET NAMES …"},
	{"CHARACTER SET sjis", DialectMySQL, "SET CHARACTER SET sjis;", "unsafe", "SET character set …"},
	{"character_set_client big5", DialectMySQL, "/*!40101 SET character_set_client = big5 */;", "unsafe", "SET character_set_client …"},
	{"NAMES utf8mb4 COLLATE", DialectMySQL, "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'; SET NAMES DEFAULT; SET CHARSET latin1;", "", ""},
	{"names and sql_mode as columns", DialectMySQL, "CREATE TABLE t (sql_mode varchar(10), names int);\nINSERT INTO t VALUES ('NO_BACKSLASH_ESCAPES', 1);", "", ""},
	{"PREPARE", DialectMySQL, "PREPARE s FROM 'SET sql_mode=\"ANSI_QUOTES\"';", "unsafe", "PREPARE"},
	{"EXECUTE", DialectMySQL, "EXECUTE s;", "unsafe", "EXECUTE"},
	{"trigger assigning a variable", DialectMySQL, "SET @saved_sql_mode = @@sql_mode;\nDELIMITER ;;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET @x := 1; PREPARE s FROM @q; END ;;\nDELIMITER ;\nSET sql_mode = @saved_sql_mode;\n", "", ""},
	// mysql: a server older than an executable comment skips it to the
	// first */, also one inside a quote, where the client reads on.
	{"*/ in a quote in /*!", DialectMySQL, "/*!99999 ' */ ; USE x; -- ' */;", "unsafe", "*/ inside a quote in /*! */"},
	{"*/ in a name in /*!", DialectMySQL, "/*!99999 `*/ ; USE x; -- ` */;", "unsafe", "*/ inside a quote in /*! */"},
	{"quotes in /*!", DialectMySQL, "/*!50003 SET sql_mode = 'STRICT_TRANS_TABLES' */ ;\n/*!50017 DEFINER=`root`@`localhost`*/ SELECT '/', '*';", "", ""},
	// mysql: the client drops the rest of an executable comment after a
	// command in it.
	{"command in /*! drops the rest", DialectMySQL, "/*!50000 \\- ' */ SELECT 1;\n", "", ""},
	{"command in /*! to the line end", DialectMySQL, "/*!50000 \\- '\nUSE x */;\n", "switch", "USE x"},
	// sqlite3: a line starting with # is a comment to the shell; a line
	// "go" or "/" ends a statement.
	{"# line", DialectSQLite, "#'\n.shell id\n#'\n", "unsafe", ""},
	{"go line", DialectSQLite, "SELECT 1\ngo\n.shell id\n", "unsafe", ""},
	{"/ line", DialectSQLite, "SELECT 1\n /\n.shell id\n", "unsafe", ""},
	{"go inside a line", DialectSQLite, "SELECT 1 AS go\n, 2 / 3;\n", "", ""},
}

func TestSQLGuardGaps(t *testing.T) {
	for _, tc := range guardGapCases {
		for _, allow := range []bool{false, true} {
			for _, chunk := range []int{1, 2, 5, 1 << 20} {
				_, out, err := guard(t, tc.d, tc.sql, chunk, allow)
				var se *SwitchError
				var ue *UnsafeError
				got, stmt := "", ""
				switch {
				case errors.As(err, &se):
					got, stmt = "switch", se.Statement
				case errors.As(err, &ue):
					got, stmt = "unsafe", ue.Statement
				case err != nil:
					got = "other: " + err.Error()
				}
				want := tc.want
				if allow && want == "switch" {
					want = ""
				}
				if got != want {
					t.Errorf("%s (%s %q, chunk %d, allow %v): got %q (%v), want %q", tc.name, tc.d, tc.sql, chunk, allow, got, err, want)
					continue
				}
				if want == "" && out != tc.sql {
					t.Errorf("%s: passed %q of %q", tc.name, out, tc.sql)
				}
				if want != "" && tc.stmt != "" && stmt != tc.stmt {
					t.Errorf("%s: statement %q, want %q", tc.name, stmt, tc.stmt)
				}
			}
		}
	}
}

// A refused statement split across the reader's writes anywhere reaches
// the target with none of its words, whatever the cut.
func TestSQLGuardSplitAnywhere(t *testing.T) {
	for _, tc := range []struct {
		d      Dialect
		before string
		bad    string
	}{
		{DialectMySQL, "INSERT INTO t VALUES (1);\n", "/*!40000 USE `x` */;\n"},
		{DialectMySQL, "INSERT INTO t VALUES (1);\n", "USE `x`;\n"},
		{DialectPostgres, "SELECT 1;\n", "\\connect x\n"},
		{DialectPostgres, "SELECT 1;\n", "CREATE DATABASE x;\n"},
		{DialectSQLite, "SELECT 1;\n", "ATTACH 'x' AS y;\n"},
	} {
		dump := tc.before + tc.bad + "SELECT 2;\n"
		for cut := 0; cut <= len(dump); cut++ {
			var out strings.Builder
			g := NewSQLGuard(&out, tc.d, false)
			_, err := g.Write([]byte(dump[:cut]))
			if err == nil {
				_, err = g.Write([]byte(dump[cut:]))
			}
			if err == nil {
				err = g.Close()
			}
			if !errors.Is(err, ErrDatabaseSwitch) {
				t.Fatalf("%q cut at %d: %v", dump, cut, err)
			}
			// At most the "/*" of an executable comment, which is
			// released before its "!" is read: nothing the client runs.
			if rest, ok := strings.CutPrefix(out.String(), tc.before); len(out.String()) > len(tc.before) && (!ok || !strings.HasPrefix("/*", rest)) {
				t.Fatalf("%q cut at %d: the target got %q", dump, cut, out.String())
			}
		}
	}
}
