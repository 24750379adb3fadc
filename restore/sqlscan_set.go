package restore

import "strings"

// This file follows the mysql session settings that change how the rest
// of a dump is read. With NO_BACKSLASH_ESCAPES in sql_mode a backslash no
// longer escapes a quote, with ANSI_QUOTES "…" is a name and a backslash
// in it nothing, and in the client character sets big5, cp932, gbk,
// gb18030 and sjis a backslash can be the second byte of a character
// (https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html,
// https://dev.mysql.com/doc/refman/8.0/en/charset-connection.html#charset-connection-impermissible-client-charset).
// The mysql client follows sql_mode from the server's status flags
// (client/mysql.cc add_line: SERVER_STATUS_NO_BACKSLASH_ESCAPES,
// SERVER_STATUS_ANSI_QUOTES) and the server reads statements in
// character_set_client: a dump that sets them could make both read past
// a string end the guard saw, where a \! or a USE waits. The guard reads
// every dump with backslash escapes and without ANSI quotes, so it
// refuses SET statements that would change either, and PREPARE and
// EXECUTE, which could do so from a string it cannot read.
//
// mysqldump writes only SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO', sql_mode =
// '<the routine's mode>', SET NAMES utf8mb4, character_set_client =
// utf8mb4, and the restores from variables it saved from @@sql_mode and
// @@character_set_client (SET @saved_sql_mode = @@sql_mode, ... SET
// sql_mode = @saved_sql_mode), which pass.

// setWatch follows one SET statement's assignments.
type setWatch struct {
	active bool
	toks   []token // the current assignment's tokens
	long   bool    // it had more than fit
	depth  int     // of parentheses
	// saved are the user variables that hold a value saved from a
	// setting: "sql_mode" or "charset".
	saved map[string]string
	// Outside SET: the statement assigns a user variable (@v := …,
	// INTO @v), which may undo what saved says.
	assigns, colon, into bool
}

// unreadable is a string token's value when its bytes were not kept: too
// long, or with a backslash.
const unreadable = "\x00"

// safeModes are the sql_mode words that change nothing in how a dump is
// read. Missing: NO_BACKSLASH_ESCAPES, ANSI_QUOTES and the combinations
// that include it (ANSI, DB2, MAXDB, MSSQL, ORACLE, POSTGRESQL).
var safeModes = map[string]bool{
	"": true, "ALLOW_INVALID_DATES": true, "EMPTY_STRING_IS_NULL": true, "ERROR_FOR_DIVISION_BY_ZERO": true,
	"HIGH_NOT_PRECEDENCE": true, "IGNORE_BAD_TABLE_OPTIONS": true, "IGNORE_SPACE": true, "MYSQL323": true,
	"MYSQL40": true, "NO_AUTO_CREATE_USER": true, "NO_AUTO_VALUE_ON_ZERO": true, "NO_DIR_IN_CREATE": true,
	"NO_ENGINE_SUBSTITUTION": true, "NO_FIELD_OPTIONS": true, "NO_KEY_OPTIONS": true, "NO_TABLE_OPTIONS": true,
	"NO_UNSIGNED_SUBTRACTION": true, "NO_ZERO_DATE": true, "NO_ZERO_IN_DATE": true, "ONLY_FULL_GROUP_BY": true,
	"PAD_CHAR_TO_FULL_LENGTH": true, "PIPES_AS_CONCAT": true, "REAL_AS_FLOAT": true,
	"SIMULTANEOUS_ASSIGNMENT": true, "STRICT_ALL_TABLES": true, "STRICT_TRANS_TABLES": true,
	"TIME_ROUND_FRACTIONAL": true, "TIME_TRUNCATE_FRACTIONAL": true, "TRADITIONAL": true,
}

// safeCharsets are the client character sets in which every byte below
// 0x80 is that ASCII character.
var safeCharsets = map[string]bool{
	"armscii8": true, "ascii": true, "binary": true, "cp1250": true, "cp1251": true, "cp1256": true,
	"cp1257": true, "cp850": true, "cp852": true, "cp866": true, "dec8": true, "eucjpms": true, "euckr": true,
	"gb2312": true, "geostd8": true, "greek": true, "hebrew": true, "hp8": true, "keybcs2": true, "koi8r": true,
	"koi8u": true, "latin1": true, "latin2": true, "latin5": true, "latin7": true, "macce": true, "macroman": true,
	"swe7": true, "tis620": true, "ujis": true, "utf8": true, "utf8mb3": true, "utf8mb4": true,
}

// setToken follows the tokens of a SET statement (mysql).
func (g *SQLGuard) setToken(t token) {
	w := &g.set
	if !g.syn.sessionSets {
		return
	}
	if len(g.words) == 0 && !t.punct && !t.quoted && !t.str && strings.EqualFold(t.s, "SET") {
		w.active, w.toks, w.long, w.depth = true, w.toks[:0], false, 0
		return
	}
	if !w.active {
		switch {
		case isPunct(t, ":"):
			w.colon = true
			return
		case w.colon && isPunct(t, "="), w.into && isPunct(t, "@"):
			w.assigns = true
		}
		w.colon, w.into = false, isWord(t, "INTO")
		return
	}
	switch {
	case t.punct && t.s == "(":
		w.depth++
	case t.punct && t.s == ")":
		w.depth--
	}
	if w.depth == 0 && (t.punct && t.s == "," || isWord(t, "FOR")) {
		g.setAssignment()
		if isWord(t, "FOR") { // SET STATEMENT … FOR statement
			w.active = false
		}
		return
	}
	if len(w.toks) < 16 {
		w.toks = append(w.toks, t)
	} else {
		w.long = true
	}
}

// setEnd is reached at the end of a statement.
func (g *SQLGuard) setEnd() {
	w := &g.set
	if w.active {
		g.setAssignment()
		w.active = false
	}
	if w.assigns && !g.definesCode() {
		clear(w.saved)
	}
	w.assigns, w.colon, w.into = false, false, false
}

// definesCode says the statement creates a routine, trigger, event or
// view: what it holds does not run now.
func (g *SQLGuard) definesCode() bool {
	if g.kw(0) != "CREATE" {
		return false
	}
	for n := 1; n < 8; n++ {
		switch g.kw(n) {
		case "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "VIEW":
			return true
		}
	}
	return false
}

// assignsVar says tokens assign a user variable: := or INTO.
func assignsVar(ts []token) bool {
	for i, t := range ts {
		if isWord(t, "INTO") || isPunct(t, ":") && i+1 < len(ts) && isPunct(ts[i+1], "=") {
			return true
		}
	}
	return false
}

func isWord(t token, w string) bool {
	return !t.punct && !t.quoted && !t.str && strings.EqualFold(t.s, w)
}

func isPunct(t token, p string) bool { return t.punct && t.s == p }

// setAssignment decides on one assignment of a SET statement.
func (g *SQLGuard) setAssignment() {
	w := &g.set
	ts, long := w.toks, w.long
	w.toks, w.long = w.toks[:0], false
	if len(ts) == 0 || g.unsafe != nil {
		return
	}
	name, value, user := splitAssignment(ts)
	if assignsVar(value) {
		clear(w.saved)
	}
	if user {
		g.setUserVar(name, value)
		return
	}
	var setting string
	switch strings.ToLower(name) {
	case "sql_mode":
		setting = "sql_mode"
	case "character_set_client", "names", "charset", "character set":
		setting = "charset"
	default:
		return
	}
	if long || !g.safeSetting(setting, value) {
		g.unsafe = &UnsafeError{Statement: "SET " + name + " …", Line: g.line,
			Why: "it would change how the client and the server read quotes and backslashes in the rest of the dump " +
				"(NO_BACKSLASH_ESCAPES, ANSI_QUOTES, or a character set such as gbk or sjis)"}
	}
}

// splitAssignment reads "@@scope.name = value", "SESSION name := value"
// (or STATEMENT, MariaDB's SET STATEMENT … FOR),
// "@var = value", "NAMES value", "CHARACTER SET value": the name (for a
// user variable, without its @), the value's tokens, and whether it is a
// user variable.
func splitAssignment(ts []token) (name string, value []token, user bool) {
	switch {
	case len(ts) > 2 && isPunct(ts[0], "@") && isPunct(ts[1], "@"):
		ts = ts[2:]
		if len(ts) > 2 && isPunct(ts[1], ".") {
			ts = ts[2:]
		}
	case len(ts) > 1 && isPunct(ts[0], "@"):
		user, ts = true, ts[1:]
	case len(ts) > 1 && (isWord(ts[0], "SESSION") || isWord(ts[0], "GLOBAL") || isWord(ts[0], "LOCAL") ||
		isWord(ts[0], "PERSIST") || isWord(ts[0], "PERSIST_ONLY") || isWord(ts[0], "STATEMENT")):
		ts = ts[1:]
	}
	if len(ts) > 1 && isWord(ts[0], "CHARACTER") && isWord(ts[1], "SET") {
		return "character set", ts[2:], false
	}
	if isWord(ts[0], "NAMES") || isWord(ts[0], "CHARSET") {
		return ts[0].s, ts[1:], false
	}
	name, ts = ts[0].s, ts[1:]
	if len(ts) > 0 && isPunct(ts[0], ":") {
		ts = ts[1:]
	}
	if len(ts) > 0 && isPunct(ts[0], "=") {
		ts = ts[1:]
	}
	return name, ts, user
}

// setUserVar notes whether a user variable now holds a saved setting:
// SET @v = @@sql_mode, or @@character_set_client.
func (g *SQLGuard) setUserVar(name string, value []token) {
	w := &g.set
	if w.saved == nil {
		w.saved = map[string]string{}
	}
	name = strings.ToLower(name)
	delete(w.saved, name)
	if len(value) < 3 || !isPunct(value[0], "@") || !isPunct(value[1], "@") {
		return
	}
	v := value[2:]
	if len(v) == 3 && isPunct(v[1], ".") && (isWord(v[0], "SESSION") || isWord(v[0], "LOCAL")) {
		v = v[2:]
	}
	switch {
	case len(v) == 1 && isWord(v[0], "sql_mode"):
		w.saved[name] = "sql_mode"
	case len(v) == 1 && isWord(v[0], "character_set_client"):
		w.saved[name] = "charset"
	}
}

// safeSetting says a setting's new value keeps the dump read as the
// guard reads it: a value it knows (a word or a string), DEFAULT, or a
// user variable saved from the setting itself. A COLLATE after a
// character set is its collation.
func (g *SQLGuard) safeSetting(setting string, value []token) bool {
	if setting == "charset" && len(value) == 3 && isWord(value[1], "COLLATE") {
		value = value[:1]
	}
	switch {
	case len(value) == 2 && isPunct(value[0], "@"):
		return g.set.saved[strings.ToLower(value[1].s)] == setting
	case len(value) != 1 || value[0].punct || value[0].quoted:
		return false
	case !value[0].str && strings.EqualFold(value[0].s, "DEFAULT"):
		return true
	}
	v := value[0].s
	if value[0].str {
		v = value[0].val
	}
	if setting == "charset" {
		return safeCharsets[strings.ToLower(v)]
	}
	for _, m := range strings.Split(v, ",") {
		if !safeModes[strings.ToUpper(strings.TrimSpace(m))] {
			return false
		}
	}
	return true
}
