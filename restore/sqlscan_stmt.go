package restore

import (
	"regexp"
	"slices"
	"strings"
)

// This file holds what the guard decides on a statement or a client
// command once the lexer (sqlscan.go) has cut it into tokens.

// maxTokens is how many leading tokens of a statement are kept: enough
// for its kind and the table it creates or copies into.
const maxTokens = 24

func (g *SQLGuard) addToken(t token) {
	g.scan(t)
	g.setToken(t)
	if len(g.words) < maxTokens {
		g.words = append(g.words, t)
	}
}

func (g *SQLGuard) lastPunct(c byte) bool {
	n := len(g.words)
	return n > 0 && g.words[n-1].punct && g.words[n-1].s == string(c)
}

func (g *SQLGuard) dropLastPunct(c byte) {
	if g.lastPunct(c) {
		g.words = g.words[:len(g.words)-1]
	}
	if ts := g.set.toks; len(ts) > 0 && isPunct(ts[len(ts)-1], string(c)) {
		g.set.toks = ts[:len(ts)-1]
	}
}

// commentOnly is reached where a comment opens: a statement holding
// nothing but it has not started. (An executable comment's content is the
// statement, even when empty: the mysql client sends it.)
func (g *SQLGuard) commentOnly() {
	if len(g.words) == 0 && g.inStmt && !g.classified {
		// Only a comment so far: no statement yet.
		g.inStmt = false
		if g.versioned == 0 {
			g.held = -1
		}
	}
}

func (g *SQLGuard) lastWordIs(s string) bool {
	n := len(g.words)
	return n > 0 && !g.words[n-1].quoted && !g.words[n-1].punct && strings.EqualFold(g.words[n-1].s, s)
}

// endWord completes the word being read.
func (g *SQLGuard) endWord() error {
	if len(g.word) == 0 || g.state != stCode {
		return nil
	}
	if len(g.words) >= maxTokens {
		// Past the words a statement is known by: nothing to keep, but
		// scan sees it.
		g.scanTok('w', "", g.word)
		if g.set.active {
			g.setToken(token{s: string(g.word)})
		}
		g.word = g.word[:0]
		return g.maybeClassify()
	}
	w := string(g.word)
	g.word = g.word[:0]
	g.addToken(token{s: w})
	if g.syn.delimiterCmd && len(g.words) == 1 && strings.EqualFold(w, "delimiter") {
		// The mysql client runs DELIMITER at once only as the first word
		// of a line, nothing pending (read_and_execute, find_command);
		// elsewhere it takes it at the next terminator, with what comes
		// between as its argument: where statements end is then unknown.
		if !g.wordBOL {
			return &UnsafeError{Statement: "DELIMITER", Line: g.line,
				Why: "not at the start of a line, the mysql client applies it only at the next terminator"}
		}
		g.state, g.metaKind, g.meta, g.metaLine = stMeta, 'D', g.meta[:0], g.line
		return nil
	}
	if g.syn.shellLines && g.wordBOL && strings.EqualFold(w, "go") {
		g.termLine = true
	}
	return g.maybeClassify()
}

// kw is the statement's n-th word, upper case, punctuation skipped; ""
// for a quoted identifier or past the end.
func (g *SQLGuard) kw(n int) string {
	var k int
	for _, t := range g.words {
		if t.punct {
			continue
		}
		if k == n {
			if t.quoted || t.str {
				return ""
			}
			return strings.ToUpper(t.s)
		}
		k++
	}
	return ""
}

func (g *SQLGuard) nwords() int {
	var k int
	for _, t := range g.words {
		if !t.punct {
			k++
		}
	}
	return k
}

func (g *SQLGuard) maybeClassify() error {
	if g.inStmt && !g.classified && g.nwords() >= 4 {
		return g.classify(false)
	}
	return nil
}

// leavingVerbs are the statements that leave the target database by their
// first word: USE db and CONNECT db (mysql), ATTACH and DETACH (sqlite).
var leavingVerbs = map[string]bool{"USE": true, "CONNECT": true, "ATTACH": true, "DETACH": true}

// outsideObjects are what CREATE, DROP and ALTER act on outside the target
// database; SCHEMA only where it is a database (syntax.schemaIsDB).
var outsideObjects = map[string]bool{"DATABASE": true, "ROLE": true, "USER": true, "TABLESPACE": true}

// leavesDatabase says the statement's first words leave the target
// database or act outside it.
func (g *SQLGuard) leavesDatabase() bool {
	w0, w1 := g.kw(0), g.kw(1)
	if leavingVerbs[w0] {
		return true
	}
	if w0 != "CREATE" && w0 != "DROP" && w0 != "ALTER" {
		return false
	}
	obj := w1
	if w0 == "CREATE" && w1 == "OR" && g.kw(2) == "REPLACE" {
		obj = g.kw(3)
	}
	return outsideObjects[obj] || obj == "SCHEMA" && g.syn.schemaIsDB
}

// classify decides on a statement from its first words; final says the
// statement has ended.
func (g *SQLGuard) classify(final bool) error {
	if stmt, why, wait := g.unsafeStatement(final); wait {
		return nil
	} else if stmt != "" {
		return &UnsafeError{Statement: stmt, Line: g.stmtLine, Why: why}
	}
	bad := g.leavesDatabase()
	if bad && !final && g.nwords() < 7 {
		return nil // read a few more words, to name the database in the error
	}
	g.classified = true
	if g.state != stMeta {
		g.held = -1
	}
	if bad {
		return g.leave(SwitchError{Statement: g.describe(), Line: g.stmtLine})
	}
	return nil
}

// leave refuses a database switch, or records it when switches are
// allowed.
func (g *SQLGuard) leave(e SwitchError) error {
	if !g.allow {
		return &e
	}
	g.Switches = append(g.Switches, e)
	return nil
}

// describe shows the statement's first words, for the error.
func (g *SQLGuard) describe() string {
	var b strings.Builder
	for i, t := range g.words {
		if i >= 8 {
			b.WriteString(" …")
			break
		}
		if i > 0 && !t.punct {
			b.WriteByte(' ')
		}
		if t.quoted {
			b.WriteString(g.syn.nameQuote + t.s + g.syn.nameQuote)
		} else {
			b.WriteString(t.s)
		}
	}
	return b.String()
}

// endStmt is reached at the statement terminator.
func (g *SQLGuard) endStmt() error {
	if err := g.endWord(); err != nil {
		return err
	}
	if g.inStmt && !g.classified {
		if err := g.classify(true); err != nil {
			return err
		}
	}
	g.setEnd()
	if g.inStmt {
		g.noteStmt()
	}
	g.inStmt, g.classified, g.held = false, true, -1
	g.words = g.words[:0]
	return nil
}

// endMeta completes a client command: mysql's DELIMITER, or a \ or .
// command the dialect's command decides on.
func (g *SQLGuard) endMeta() error {
	g.state = stCode
	arg := strings.TrimSpace(string(g.meta))
	g.meta = g.meta[:0]
	if g.metaKind == 'D' {
		if d := strings.Fields(arg); len(d) > 0 {
			g.delim, g.delimPos = []byte(d[0]), 0
		}
		g.inStmt, g.classified, g.held = false, true, -1
		g.words = g.words[:0]
		return nil
	}
	name, _, _ := strings.Cut(arg, " ")
	stmt := string(g.metaKind) + arg
	if len(stmt) > 80 {
		stmt = stmt[:80] + " …"
	}
	isSwitch, why := g.syn.command(name, arg)
	if why != "" {
		return &UnsafeError{Statement: stmt, Line: g.metaLine, Why: why}
	}
	if isSwitch {
		if err := g.leave(SwitchError{Statement: stmt, Line: g.metaLine}); err != nil {
			return err
		}
	}
	if !g.metaInStmt {
		// The command was a line of its own, not part of a statement.
		g.inStmt, g.classified = false, true
		g.words = g.words[:0]
	}
	if !g.inStmt || g.classified {
		g.held = -1
	}
	if g.syn.oneLetter && g.versioned > 0 {
		// The mysql client drops the rest of an executable comment after
		// a command in it, to its */ or the end of the line (add_line:
		// "discard all characters in the comment after the macro").
		g.state, g.prev = stCommentRest, ' '
	}
	return nil
}

// restrictKeyRE is what pg_dump's \restrict key looks like: letters and
// digits (PostgreSQL 15.14, CVE-2025-8714).
var restrictKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// psqlCommand decides on a psql backslash command of a plain dump: an
// allowlist of what pg_dump and pg_dumpall write
// (https://www.postgresql.org/docs/15/app-pgdump.html,
// https://www.postgresql.org/docs/15/app-pg-dumpall.html): \connect (a
// switch), \restrict KEY and \unrestrict KEY (15.14+,
// https://www.postgresql.org/docs/release/15.14/), and \. ending COPY data
// (read as data, not here). Any other is refused with why: psql's \! runs
// a shell, \o |cmd, \g |cmd, \copy ... program pipe to programs, \o, \w,
// \copy, \lo_export write files, \i, \ir, \copy, \lo_import read them,
// \setenv sets the environment of what psql starts
// (https://www.postgresql.org/docs/15/app-psql.html#APP-PSQL-META-COMMANDS).
// A backslash in the arguments of an allowed one is refused too: psql
// reads a second command on the same line.
func psqlCommand(name, arg string) (isSwitch bool, why string) {
	rest := strings.TrimSpace(strings.TrimPrefix(arg, name))
	switch {
	case (name == "c" || name == "connect") && !strings.Contains(rest, `\`):
		return true, ""
	case (name == "restrict" || name == "unrestrict") && restrictKeyRE.MatchString(rest):
		return false, ""
	case name == "." && rest == "":
		return false, ""
	}
	return false, "a psql command pg_dump never writes: \\! runs a shell, \\o, \\g, \\w, \\copy pipe to programs or write files, \\i reads them"
}

// mysqlCommand decides on a mysql client command. They are one character
// (https://mariadb.com/kb/en/mariadb-command-line-client/): \u DB (use)
// and \r DB HOST (connect) switch database; mariadb-dump's first line
// "/*M!999999\- enable the sandbox mode */" is \-, which only makes the
// client safer (https://mariadb.org/mariadb-dump-file-compatibility-change/).
// mysqldump writes no other.
func mysqlCommand(name, _ string) (isSwitch bool, why string) {
	switch name {
	case "u", "r":
		return true, ""
	case "-":
		return false, ""
	}
	return false, "a mysql client command: \\! runs a program, \\. reads a file, \\T writes one, \\P pipes to a program"
}

// sqliteCommand decides on an sqlite3 dot command. sqlite3's .dump writes
// none (https://sqlite.org/cli.html#converting_an_entire_database_to_a_text_file):
// .open, .restore and .connection switch database; every other one is
// refused, switch allowed or not: .shell and .system run programs,
// .output/.once/.save/.backup/.log/.excel write files, .read/.import/.load
// read them (https://sqlite.org/cli.html).
func sqliteCommand(name, _ string) (isSwitch bool, why string) {
	switch name {
	case "open", "restore", "connection":
		return true, ""
	}
	return false, "an sqlite3 dot command: it can run a program or read or write a file"
}

// noteStmt records the tables a statement creates or drops, and a COPY
// whose data follows.
func (g *SQLGuard) noteStmt() {
	ws := stmtWords{toks: append([]token(nil), g.words...), lower: g.syn.lowerNames}
	switch ws.at(0) {
	case "CREATE":
		if t := ws.createdTable(); t != "" {
			g.Tables = append(g.Tables, t)
		}
	case "DROP":
		if i := slices.Index(g.Tables, ws.droppedTable()); i >= 0 {
			g.Tables = slices.Delete(g.Tables, i, i+1)
		}
	case "COPY":
		// COPY name (cols) FROM stdin; (the column list can be longer
		// than the words kept: its last words tell)
		if g.lastWord == [2]string{"FROM", "STDIN"} {
			g.state, g.copyTable = stCopyStart, ws.name(1)
			g.CopyRows[g.copyTable] += 0
		}
	}
}

// stmtWords are a statement's first tokens, read for the table it names.
type stmtWords struct {
	toks  []token
	lower bool // unquoted names fold to lower case
}

// at is the n-th token, upper case, when it is a plain word.
func (ws stmtWords) at(n int) string {
	if n < len(ws.toks) && !ws.toks[n].quoted && !ws.toks[n].punct {
		return strings.ToUpper(ws.toks[n].s)
	}
	return ""
}

// name reads a possibly qualified name from token n.
func (ws stmtWords) name(n int) string {
	var parts []string
	for n < len(ws.toks) {
		t := ws.toks[n]
		if t.punct {
			break
		}
		s := t.s
		if !t.quoted && ws.lower {
			s = strings.ToLower(s)
		}
		parts = append(parts, s)
		if n+1 < len(ws.toks) && ws.toks[n+1].punct && ws.toks[n+1].s == "." {
			n += 2
			continue
		}
		break
	}
	return strings.Join(parts, ".")
}

// createdTable is the table of CREATE [OR REPLACE] [TEMP|UNLOGGED|…]
// TABLE [IF NOT EXISTS] name, or "".
func (ws stmtWords) createdTable() string {
	n := 1
	for ; n < len(ws.toks); n++ {
		switch ws.at(n) {
		case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL":
			continue
		}
		break
	}
	if ws.at(n) != "TABLE" {
		return ""
	}
	n++
	if ws.at(n) == "IF" && ws.at(n+1) == "NOT" && ws.at(n+2) == "EXISTS" {
		n += 3
	}
	return ws.name(n)
}

// droppedTable is the table of DROP TABLE [IF EXISTS] name, or "".
func (ws stmtWords) droppedTable() string {
	if ws.at(1) != "TABLE" {
		return ""
	}
	n := 2
	if ws.at(n) == "IF" && ws.at(n+1) == "EXISTS" {
		n += 2
	}
	return ws.name(n)
}
