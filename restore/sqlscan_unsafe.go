package restore

import "strings"

// This file holds what the guard refuses whatever the switch setting: SQL
// and client commands no dump tool writes that would run a program or
// touch a file.

// Functions that read or write files, or reach other servers, from SQL:
// no dump tool writes a call to them (pg_dump restores large objects with
// lo_create/lo_open/lowrite/lo_close, never lo_import/lo_export;
// mysqldump never calls LOAD_FILE; sqlite3 .dump writes plain INSERTs).
// Server-side functions still need privileges a restore role should not
// have: restoring as a non-superuser is the real defence (README), this
// refuses the direct calls early and by name.
var unsafeFuncs = map[Dialect]map[string]string{
	// https://www.postgresql.org/docs/15/lo-funcs.html (server-side
	// lo_import/lo_export act on the server's file system),
	// https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-GENFILE
	DialectPostgres: {
		"lo_import": "reads a server file", "lo_export": "writes a server file",
		"pg_read_file": "reads a server file", "pg_read_binary_file": "reads a server file",
		"pg_ls_dir": "lists a server directory", "pg_stat_file": "reads a server file's status",
		"pg_file_write": "writes a server file", "pg_file_rename": "renames a server file",
		"pg_file_unlink": "removes a server file", "pg_file_sync": "touches a server file",
		"dblink": "connects to another database", "dblink_exec": "connects to another database",
		"dblink_connect": "connects to another database", "dblink_connect_u": "connects to another database",
	},
	// https://mariadb.com/kb/en/load_file/
	DialectMySQL: {"load_file": "reads a server file"},
	// https://sqlite.org/cli.html#file_i_o_functions, https://sqlite.org/lang_corefunc.html#load_extension
	DialectSQLite: {
		"writefile": "writes a file", "readfile": "reads a file", "edit": "runs an editor",
		"load_extension": "loads a shared library", "fts3_tokenizer": "can call a pointer",
	},
}

// scan looks at every token of a statement, past the first words
// classify sees: calls of unsafeFuncs, INTO OUTFILE, a routine's language.
// Past maxTokens words it is given the word's bytes only (word), so that
// long INSERTs allocate nothing.
func (g *SQLGuard) scan(t token) {
	kind := byte('w')
	switch {
	case t.punct:
		kind = 'p'
	case t.quoted:
		kind = 'q'
	case t.str:
		kind = 's'
	}
	g.scanTok(kind, t.s, nil)
}

// text is a token's text, given as a string or as bytes.
type text struct {
	s string
	b []byte
}

func (x text) len() int {
	if x.b != nil {
		return len(x.b)
	}
	return len(x.s)
}

func (x text) at(i int) byte {
	if x.b != nil {
		return x.b[i]
	}
	return x.s[i]
}

// is says the text is lit, ASCII case folded, without allocating.
func (x text) is(lit string) bool {
	if x.len() != len(lit) {
		return false
	}
	for i := range len(lit) {
		c, l := x.at(i), lit[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if 'a' <= l && l <= 'z' {
			l -= 'a' - 'A'
		}
		if c != l {
			return false
		}
	}
	return true
}

func (x text) String() string {
	if x.b != nil {
		return string(x.b)
	}
	return x.s
}

func (g *SQLGuard) scanTok(kind byte, s string, b []byte) {
	t := text{s: s, b: b}
	prevKind := g.prevKind
	prev := text{b: g.prevWord}
	if prev.b == nil {
		prev.b = []byte{}
	}
	if g.unsafe == nil {
		g.scanCheck(kind, t, prevKind, prev)
	}
	g.prevKind = kind
	if kind == 'w' || kind == 'q' {
		g.prevWord = g.prevWord[:0]
		if t.len() <= 64 {
			if b != nil {
				g.prevWord = append(g.prevWord, b...)
			} else {
				g.prevWord = append(g.prevWord, s...)
			}
		}
	}
	if kind != 'p' {
		w := ""
		switch {
		case kind != 'w':
		case t.is("FROM"):
			w = "FROM"
		case t.is("STDIN"):
			w = "STDIN"
		}
		g.lastWord = [2]string{g.lastWord[1], w}
	}
}

func (g *SQLGuard) scanCheck(kind byte, t text, prevKind byte, prev text) {
	refuse := func(stmt, why string) {
		g.unsafe = &UnsafeError{Statement: stmt, Line: g.line, Why: why}
	}
	if kind == 'p' && t.len() == 1 && t.at(0) == '(' && (prevKind == 'w' || prevKind == 'q') {
		if prev.len() > 24 {
			return
		}
		var buf [24]byte
		name := buf[:prev.len()]
		for i := range name {
			c := prev.at(i)
			if prevKind == 'w' && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			name[i] = c
		}
		if why, bad := unsafeFuncs[g.dialect][string(name)]; bad {
			refuse(string(name)+"()", why)
		}
		return
	}
	switch g.dialect {
	case DialectMySQL:
		// SELECT ... INTO OUTFILE/DUMPFILE writes a file on the server:
		// https://mariadb.com/kb/en/select-into-outfile/. mysqldump
		// writes data as INSERT statements, never INTO OUTFILE (its
		// --tab mode writes the files itself and restores nothing).
		if prevKind == 'w' && prev.is("INTO") && kind == 'w' && (t.is("OUTFILE") || t.is("DUMPFILE")) {
			refuse("INTO "+strings.ToUpper(t.String()), "writes a file on the server")
		}
	case DialectPostgres:
		// A routine's language: C and internal functions load code by
		// path (https://www.postgresql.org/docs/15/xfunc-c.html), an
		// untrusted language (plperlu, plpython3u, pltclu) runs
		// anything as the server's OS user
		// (https://www.postgresql.org/docs/15/plperl-trusted.html).
		// pg_dump writes the language unquoted (LANGUAGE plpgsql);
		// a quoted or string one is refused too, unread.
		if prevKind != 'w' || !prev.is("LANGUAGE") || !g.routineStmt() {
			return
		}
		lang := ""
		if kind == 'w' {
			lang = strings.ToLower(t.String())
		}
		if lang == "" || lang == "c" || lang == "internal" || strings.HasSuffix(lang, "u") {
			shown := t.String()
			switch kind {
			case 'q':
				shown = `"` + shown + `"`
			case 's':
				shown = "'…'"
			}
			refuse("LANGUAGE "+shown, "loads a shared library or runs an untrusted language on the server")
		}
	}
}

// routineStmt says the statement creates a function, procedure or
// language, or is a DO block: where LANGUAGE names the code's language.
func (g *SQLGuard) routineStmt() bool {
	if g.kw(0) == "DO" {
		return true
	}
	if g.kw(0) != "CREATE" {
		return false
	}
	for n := 1; n < 5; n++ {
		switch g.kw(n) {
		case "OR", "REPLACE", "TRUSTED", "PROCEDURAL":
			continue
		case "FUNCTION", "PROCEDURE", "LANGUAGE", "TRANSFORM":
			return true
		}
		return false
	}
	return false
}

// mysqlCommands are the mysql/mariadb client's named commands (the long
// forms of \x; https://mariadb.com/kb/en/mariadb-command-line-client/ and
// https://dev.mysql.com/doc/refman/8.0/en/mysql-commands.html): the client
// runs them when they start a line. mysqldump and mariadb-dump write none
// but DELIMITER (handled apart); USE and CONNECT are database switches.
var mysqlCommands = map[string]bool{
	"CHARSET": true, "CLEAR": true, "EDIT": true, "EGO": true, "EXIT": true, "GO": true, "HELP": true,
	"NOPAGER": true, "NOTEE": true, "NOWARNING": true, "PAGER": true, "PRINT": true, "PROMPT": true,
	"QUIT": true, "REHASH": true, "SOURCE": true, "STATUS": true, "SYSTEM": true, "TEE": true,
	"WARNINGS": true, "RESETCONNECTION": true, "QUERY_ATTRIBUTES": true, "SSL_SESSION_DATA_PRINT": true,
}

// unsafeStatement says why a statement, from its first words, is never
// passed; final says it has ended. It returns "", true when it needs more
// words to decide.
func (g *SQLGuard) unsafeStatement(final bool) (stmt, why string, wait bool) {
	w0, w1 := g.kw(0), g.kw(1)
	switch g.dialect {
	case DialectPostgres:
		switch {
		case w0 == "COPY":
			// pg_dump writes COPY name (cols) FROM stdin; and nothing
			// else (https://www.postgresql.org/docs/15/app-pgdump.html):
			// COPY ... TO/FROM a file or PROGRAM runs on the server
			// (https://www.postgresql.org/docs/15/sql-copy.html).
			if !final {
				return "", "", true
			}
			if g.lastWord != [2]string{"FROM", "STDIN"} {
				return "COPY other than FROM stdin", "COPY TO/FROM a file or PROGRAM reads, writes or runs on the server", false
			}
		case w0 == "ALTER" && w1 == "SYSTEM":
			// https://www.postgresql.org/docs/15/sql-altersystem.html:
			// writes postgresql.auto.conf (archive_command runs a
			// program). pg_dump never writes it.
			return "ALTER SYSTEM", "changes the server's configuration file", false
		case w0 == "LOAD":
			// https://www.postgresql.org/docs/15/sql-load.html
			return "LOAD", "loads a shared library into the server", false
		}
	case DialectMySQL:
		switch {
		case mysqlCommands[w0]:
			return g.words[0].s, "a mysql client command, not SQL: system runs a program, source reads a file, tee writes one, pager pipes to a program", false
		case w0 == "PREPARE" || w0 == "EXECUTE":
			// Runs SQL from a string or a variable, which the guard
			// cannot read: it could change sql_mode (sqlscan_set.go) or
			// write a file. mysqldump writes neither outside routines.
			return w0, "runs SQL the guard cannot read", false
		case w0 == "LOAD":
			// LOAD DATA [LOCAL] INFILE / LOAD XML: reads a server file,
			// or with LOCAL the restore host's
			// (https://mariadb.com/kb/en/load-data-infile/); mysqldump
			// writes INSERT statements only.
			return "LOAD " + w1, "reads a file on the server or, with LOCAL, on the restore host", false
		}
	case DialectSQLite:
		// VACUUM INTO writes a copy of the database to any file
		// (https://sqlite.org/lang_vacuum.html#vacuuminto); .dump never
		// writes VACUUM.
		if w0 == "VACUUM" {
			if !final && g.nwords() < 3 {
				return "", "", true
			}
			if w1 == "INTO" || g.kw(2) == "INTO" {
				return "VACUUM INTO", "writes a file", false
			}
		}
	}
	return "", "", false
}
