package restore

import (
	"bytes"
	"fmt"
	"strings"
)

// This file is the lexer: the syntax of each dialect, and one reader per
// state (a comment, a quote, a client command, COPY data, code).

// syntax is how a dialect's client reads a dump: what opens a string, a
// quoted name, a comment or a client command. The lexer asks it instead
// of naming dialects.
type syntax struct {
	strings    string // bytes that open a string literal
	names      string // bytes that open a quoted identifier ('[' closes with ']')
	nameQuote  string // how a quoted identifier is shown in an error
	allEscape  bool   // every string takes backslash escapes (mysql)
	escapeE    bool   // E'…' strings take backslash escapes (postgres)
	dollarWord bool   // '$' is a letter of words (mysql)
	dollarTags bool   // $tag$ … $tag$ quotes (postgres)
	hashLine   bool   // # comments to the end of the line (mysql)
	dollarName bool   // '$' continues a name that starts with a letter (postgres)
	nested     bool   // /* */ comments nest (postgres)
	// dashSpace: "--" opens a comment only before a blank or where a
	// statement starts (mysql).
	dashSpace bool
	versioned bool // /*! … */, /*M! … */ and /*+ … */ are code (mysql)
	// settingProof: strings are refused where the client's or server's
	// reading of them would change with a session setting the dump can
	// make (postgres: standard_conforming_strings, client_encoding).
	settingProof bool
	// sessionSets: SET statements can change how the rest is read
	// (mysql: sql_mode, the client character set; sqlscan_set.go).
	sessionSets bool
	// shellLines: the sqlite3 shell skips a line starting with # and ends a
	// statement at a line "go" or "/".
	shellLines   bool
	delimiterCmd bool // DELIMITER as a statement's first word changes the terminator (mysql)
	schemaIsDB   bool // CREATE SCHEMA creates a database (mysql), not a namespace (postgres)
	lowerNames   bool // unquoted names fold to lower case (postgres)
	// backslash reads the client's \ commands anywhere outside quotes and
	// comments; oneLetter: they are one letter and code follows (mysql),
	// otherwise they run to the end of the line (psql).
	backslash bool
	oneLetter bool
	dotLine   bool // sqlite3's .commands, at the start of a line outside a statement
	// command decides on a client command, by its name and its whole
	// argument text: a database switch, or why it is refused.
	command func(name, arg string) (isSwitch bool, why string)
}

var syntaxes = map[Dialect]*syntax{
	DialectPostgres: {strings: "'", names: `"`, nameQuote: `"`, escapeE: true, dollarTags: true,
		dollarName: true, nested: true, settingProof: true, lowerNames: true, backslash: true, command: psqlCommand},
	DialectMySQL: {strings: "'\"", names: "`", nameQuote: "`", allEscape: true, dollarWord: true,
		hashLine: true, dashSpace: true, versioned: true, sessionSets: true, delimiterCmd: true, schemaIsDB: true,
		backslash: true, oneLetter: true, command: mysqlCommand},
	DialectSQLite: {strings: "'", names: "\"`[", nameQuote: `"`, dotLine: true, shellLines: true,
		command: sqliteCommand},
}

func (s *syntax) wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 ||
		(c == '$' && s.dollarWord)
}

// inWord says c continues the word being read: in postgres a '$' does
// when the word is a name (ident_cont in psql's and the server's lexer,
// https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS):
// a$$b$$ is one name, not a$ and a dollar quote; after a number it
// opens one.
func (g *SQLGuard) inWord(c byte) bool {
	return g.syn.wordByte(c) || c == '$' && g.syn.dollarName && len(g.word) > 0 && (g.word[0] < '0' || g.word[0] > '9')
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }

// startStmt notes that a statement starts at buf index i, and holds it
// back until it is classified.
func (g *SQLGuard) startStmt(i int) {
	if g.inStmt {
		return
	}
	g.inStmt, g.classified, g.stmtLine = true, false, g.line
	g.set.active = false
	g.words = g.words[:0]
	g.prevKind, g.prevWord, g.lastWord = 0, g.prevWord[:0], [2]string{}
	if g.held < 0 {
		g.held = i
	}
}

// step reads the byte at buf index i in the lexer's state: each construct
// has its own reader.
func (g *SQLGuard) step(i int, c byte) error {
	switch g.state {
	case stLineComment:
		g.lineComment(c)
	case stCommentOpen:
		g.commentOpen(i, c)
	case stCommentM:
		g.commentM(i, c)
	case stBlockComment:
		g.blockComment(c)
	case stVersion:
		return g.versionDigits(i, c)
	case stString:
		return g.stringByte(c)
	case stQuotedIdent:
		return g.quotedName(c)
	case stDollarTag:
		return g.dollarTag(i, c)
	case stDollar:
		g.dollarBody(c)
	case stMeta:
		return g.commandByte(c)
	case stCopyStart:
		g.copyHeader(c)
	case stCopy:
		return g.copyData(c)
	case stDash:
		return g.dashNext(i, c)
	case stCommentRest:
		g.commentRest(c)
	default:
		return g.code(i, c)
	}
	return nil
}

// lineComment: -- or # to the end of the line.
func (g *SQLGuard) lineComment(c byte) {
	if c == '\n' {
		g.state, g.lineStart, g.prev = stCode, true, c
	}
}

// commentOpen: after "/*", a '!' (or MariaDB's "M!") makes the comment
// code that the server runs, from its version digits on.
func (g *SQLGuard) commentOpen(i int, c byte) {
	switch {
	case g.syn.versioned && (c == '!' || c == '+'):
		// An optimizer hint /*+ … */ is a comment to the mariadb client
		// but code to MySQL's, which reads \ commands in it
		// (client/mysql.cc add_line: ss_comment).
		g.startStmt(i)
		g.state, g.ambiguousNew = stVersion, c == '+'
	case g.syn.versioned && c == 'M':
		g.state = stCommentM
	default:
		g.state, g.prev, g.depth = stBlockComment, c, 1
	}
}

// commentM: after "/*M", MariaDB's executable comment if '!' follows
// (a plain comment to MySQL's client and server).
func (g *SQLGuard) commentM(i int, c byte) {
	if c == '!' {
		g.startStmt(i)
		g.state, g.ambiguousNew = stVersion, true
		return
	}
	g.state, g.prev, g.depth = stBlockComment, c, 1
}

// blockComment: /* … */, skipped; in postgres they nest, and psql ends
// one only at its matching */
// (https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-COMMENTS).
func (g *SQLGuard) blockComment(c byte) {
	switch {
	case c == '/' && g.prev == '*':
		g.depth--
		if g.depth <= 0 {
			g.state = stCode
		}
		g.prev = ' '
	case c == '*' && g.prev == '/' && g.syn.nested:
		g.depth++
		g.prev = ' '
	default:
		g.prev = c
	}
}

// versionDigits skips the server version of "/*!50003": what follows is
// code, until the "*/" that closes it (a client command too: MariaDB's
// "/*M!999999\- enable the sandbox mode */").
func (g *SQLGuard) versionDigits(i int, c byte) error {
	if c >= '0' && c <= '9' {
		return nil
	}
	g.versioned++
	if g.ambiguousNew && g.ambiguous == 0 {
		g.ambiguous = g.versioned
	}
	g.state, g.prev, g.ambiguousNew = stCode, ' ', false
	return g.code(i, c)
}

// stringByte: a string literal, to its closing quote.
func (g *SQLGuard) stringByte(c byte) error {
	if err := g.settingProofString(c); err != nil {
		return err
	}
	if err := g.versionedQuote(c); err != nil {
		return err
	}
	switch {
	case g.backslash:
		g.backslash = false
	case c == '\\' && g.escapes:
		g.backslash, g.captureBad = true, true
	case c == g.quote:
		g.state, g.prev = stCode, 'x'
		t := token{s: "'…'", str: true, val: unreadable}
		if g.capturing && !g.captureBad {
			t.val = string(g.capture)
		}
		g.capturing = false
		g.addToken(t)
		return g.maybeClassify()
	}
	return nil
}

// keep adds string bytes to what is captured, up to 256.
func (g *SQLGuard) keep(b []byte) {
	if len(g.capture)+len(b) > 256 {
		g.captureBad = true
		return
	}
	g.capture = append(g.capture, b...)
}

// settingProofString refuses, in postgres, the two places where a string
// reads differently under a setting a dump can change with SET, set_config
// or a DO block the guard cannot read:
//   - a standard string's quote right after a backslash: with
//     standard_conforming_strings off psql and the server read \' as an
//     escaped quote and the string goes on
//     (https://www.postgresql.org/docs/15/runtime-config-compatible.html#GUC-STANDARD-CONFORMING-STRINGS);
//   - in an E'…' string, a backslash right after a byte >= 0x80: in the
//     client encodings SJIS, BIG5, GBK, UHC, GB18030 and JOHAB that
//     backslash is the second byte of a character, not an escape
//     (https://www.postgresql.org/docs/15/multibyte.html#MULTIBYTE-CHARSET-SUPPORTED).
//
// pg_dump writes standard strings and doubles quotes (”), so neither is
// in what it writes unless a value ends with a backslash.
func (g *SQLGuard) settingProofString(c byte) error {
	switch {
	case !g.syn.settingProof || g.backslash:
		return nil
	case c == g.quote && !g.escapes && g.before == '\\':
		return &UnsafeError{Statement: `\' in a string`, Line: g.line,
			Why: "psql reads it as an escaped quote when standard_conforming_strings is off, which the dump can set"}
	case c == '\\' && g.escapes && g.before >= 0x80:
		return &UnsafeError{Statement: "a backslash after a byte >= 0x80 in E'…'", Line: g.line,
			Why: "in a client encoding such as SJIS or GBK it is part of a character, not an escape"}
	}
	return nil
}

// versionedQuote refuses "*/" inside a string or quoted name in an
// executable comment: a server older than the comment's version skips the
// comment to that "*/", while the mysql client reads on in the string, so
// the two would split what follows differently.
func (g *SQLGuard) versionedQuote(c byte) error {
	if g.versioned > 0 && c == '/' && g.before == '*' {
		return &UnsafeError{Statement: "*/ inside a quote in /*! */", Line: g.line,
			Why: "a server that skips the comment ends it there, the mysql client does not"}
	}
	return nil
}

// quotedName: a quoted identifier, kept (up to 256 bytes) as a word.
func (g *SQLGuard) quotedName(c byte) error {
	if err := g.versionedQuote(c); err != nil {
		return err
	}
	if c == g.quote {
		g.state, g.prev = stCode, 'x'
		g.addToken(token{s: string(g.word), quoted: true})
		g.word = g.word[:0]
		return g.maybeClassify()
	}
	if len(g.word) < 256 {
		g.word = append(g.word, c)
	}
	return nil
}

// dollarTag reads what follows a '$': a tag and '$' open a dollar quote;
// anything else ($1, a lone $) is code.
func (g *SQLGuard) dollarTag(i int, c byte) error {
	g.dollar = append(g.dollar, c)
	switch {
	case c == '$':
		g.state = stDollar
		g.word = g.word[:0]
		return nil
	case g.syn.wordByte(c) && !(len(g.dollar) == 2 && c >= '0' && c <= '9') && len(g.dollar) < 64:
		return nil
	}
	g.state = stCode
	g.dollar = g.dollar[:0]
	return g.code(i, c)
}

// dollarBody: a dollar-quoted string, to its tag.
func (g *SQLGuard) dollarBody(c byte) {
	g.word = append(g.word, c)
	if len(g.word) > len(g.dollar) {
		g.word = g.word[len(g.word)-len(g.dollar):]
	}
	if c == '$' && bytes.Equal(g.word, g.dollar) {
		g.state, g.prev = stCode, 'x'
		g.word, g.dollar = g.word[:0], g.dollar[:0]
	}
}

// commandByte: a client command (\c, DELIMITER, .open), to the end of its
// line, or one letter for the mysql client's \ commands: \u DB is use,
// \r connect; what follows is read as code.
func (g *SQLGuard) commandByte(c byte) error {
	if g.metaKind == '\\' && g.syn.oneLetter {
		g.meta = append(g.meta, c)
		return g.endMeta()
	}
	if c == '\n' {
		g.lineStart = true
		return g.endMeta()
	}
	if len(g.meta) < 1024 {
		g.meta = append(g.meta, c)
	}
	return nil
}

// copyHeader: the rest of the line of COPY … FROM stdin;.
func (g *SQLGuard) copyHeader(c byte) {
	if c == '\n' {
		g.state = stCopy
		g.copyLine = g.copyLine[:0]
	}
}

// copyData: COPY rows, counted, to a line "\.".
func (g *SQLGuard) copyData(c byte) error {
	if len(g.copyLine) < 3 {
		g.copyLine = append(g.copyLine, c)
	}
	if g.copyEsc {
		// COPY TO writes only \\, \b \f \n \r \t \v, \N and the final
		// \. ("COPY TO will never emit an octal or hex-digits backslash
		// sequence", https://www.postgresql.org/docs/15/sql-copy.html).
		// psql reads the data as SQL and commands when the COPY fails
		// (no such table, without ON_ERROR_STOP): a forged \! in a row
		// would run there.
		g.copyEsc = false
		if !strings.ContainsRune(`\bfnrtvN`, rune(c)) && !(c == '.' && len(g.copyLine) == 2) {
			return &UnsafeError{Statement: `\` + string(c) + " in COPY data", Line: g.line,
				Why: "pg_dump never writes it; psql runs it as a command if the COPY fails"}
		}
	} else if c == '\\' {
		g.copyEsc = true
	}
	if c == '\n' {
		if l := string(g.copyLine); l == "\\.\n" || l == "\\.\r" {
			g.state, g.lineStart, g.copyTable = stCode, true, ""
		} else {
			g.CopyRows[g.copyTable]++
		}
		g.copyLine = g.copyLine[:0]
	}
	return nil
}

// code reads a byte outside quotes, comments and commands: the statement
// terminator, the opening of one of those, or a word or punctuation of
// the statement.
func (g *SQLGuard) code(i int, c byte) error {
	atLineStart := g.lineStart
	if c == '\n' {
		g.lineStart = true
	} else if !isBlank(c) {
		g.lineStart = false
	}
	if !g.inWord(c) {
		if err := g.endWord(); err != nil {
			return err
		}
	}
	prev := g.prev
	g.prev = c
	if err := g.shellLine(c, atLineStart); err != nil {
		return err
	}
	if part, complete := g.terminator(c); complete {
		return g.endStmt()
	} else if part {
		return nil
	}
	if err := g.ambiguousByte(c, prev); err != nil {
		return err
	}
	if isBlank(c) || g.comment(c, prev) || g.quoteOpens(i, c, prev) || g.commandOpens(i, c, atLineStart) {
		return nil
	}
	fresh := !g.inStmt
	g.startStmt(i)
	if g.inWord(c) {
		if len(g.word) == 0 {
			g.wordBOL = atLineStart
		}
		if len(g.word) < 256 {
			g.word = append(g.word, c)
		}
		return nil
	}
	g.dashFresh = c == '-' && fresh
	g.addToken(token{s: string(c), punct: true})
	return nil
}

// shellLine refuses what the sqlite3 shell reads apart from SQLite
// (shell.c process_input): a line starting with # it skips as a comment,
// and a line "go" or "/" (then blanks or a comment) ends the statement
// there (line_is_command_terminator). .dump writes neither; read as SQL
// they would hide a .command from the guard.
func (g *SQLGuard) shellLine(c byte, atLineStart bool) error {
	if !g.syn.shellLines {
		return nil
	}
	if g.termLine && !isBlank(c) || c == '\n' {
		if g.termLine && (c == '\n' || c == '-' || c == '/') {
			return &UnsafeError{Statement: "a line \"go\" or \"/\"", Line: g.line,
				Why: "the sqlite3 shell ends a statement there, SQLite reads it as code"}
		}
		g.termLine = false
	}
	switch {
	case atLineStart && c == '#':
		return &UnsafeError{Statement: "# at the start of a line", Line: g.line,
			Why: "the sqlite3 shell skips the line as a comment, SQLite reads it as code"}
	case atLineStart && c == '/':
		g.termLine = true
	}
	return nil
}

// ambiguousByte refuses, inside a comment that one mysql client (or
// server) reads as code and the other skips (/*+ … */, /*M! … */), what
// would make the two read on differently: a quote, a comment.
func (g *SQLGuard) ambiguousByte(c, prev byte) error {
	if g.ambiguous == 0 {
		return nil
	}
	if strings.IndexByte("'\"`#", c) >= 0 || c == '-' && prev == '-' || c == '*' && prev == '/' {
		return &UnsafeError{Statement: fmt.Sprintf("%q inside /*+ or /*M! comment", c), Line: g.line,
			Why: "MySQL's and MariaDB's clients read such a comment differently: one as code, one skipped"}
	}
	return nil
}

// terminator follows the statement terminator (";", or what DELIMITER
// set) byte by byte: part says c belongs to it, complete that it ends it.
func (g *SQLGuard) terminator(c byte) (part, complete bool) {
	if c == g.delim[g.delimPos] {
		g.delimPos++
		if g.delimPos == len(g.delim) {
			g.delimPos = 0
			return true, true
		}
		return true, false
	}
	g.delimPos = 0
	if c == g.delim[0] {
		g.delimPos = 1
		return true, false
	}
	return false, false
}

// comment says c (after prev) opens a comment, or closes a MySQL
// executable comment being read as code.
func (g *SQLGuard) comment(c, prev byte) bool {
	switch {
	case c == '-' && prev == '-' && g.syn.dashSpace:
		g.state = stDash
	case c == '-' && prev == '-' && !g.syn.dashSpace:
		g.dropLastPunct('-')
		g.commentOnly()
		g.state = stLineComment
	case c == '#' && g.syn.hashLine:
		g.state = stLineComment
	case c == '*' && prev == '/':
		g.dropLastPunct('/')
		g.commentOnly()
		g.state = stCommentOpen
	case c == '/' && prev == '*' && g.versioned > 0:
		g.versioned--
		if g.versioned < g.ambiguous {
			g.ambiguous = 0
		}
		g.dropLastPunct('*')
		g.prev = ' '
	default:
		return false
	}
	return true
}

// commentRest skips what the mysql client drops after a command in an
// executable comment: to the */ that closes the comment, or the line end
// (after which the comment goes on as code).
func (g *SQLGuard) commentRest(c byte) {
	switch {
	case c == '/' && g.prev == '*':
		g.versioned--
		if g.versioned < g.ambiguous {
			g.ambiguous = 0
		}
		g.state, g.prev = stCode, ' '
	case c == '\n':
		g.state, g.prev, g.lineStart = stCode, c, true
	default:
		g.prev = c
	}
}

// dashNext decides on "--" in mysql from the byte after it: a comment
// before a blank or a line end, or where a statement starts; otherwise
// two minus signs (the mysql client's add_line, as the server:
// https://dev.mysql.com/doc/refman/8.0/en/ansi-diff-comments.html). Before
// another control byte the client reads code and the server a comment:
// refused.
func (g *SQLGuard) dashNext(i int, c byte) error {
	fresh := g.dashFresh && len(g.words) == 1 && g.versioned == 0
	switch {
	case c == ' ' || c >= '\t' && c <= '\r' || fresh:
		g.dropLastPunct('-')
		g.commentOnly()
		g.state = stLineComment
		g.lineComment(c)
		return nil
	case c < ' ' || c == 0x7f:
		return &UnsafeError{Statement: fmt.Sprintf("-- then %q", c), Line: g.line,
			Why: "the mysql client reads code there, the server a comment"}
	}
	g.state = stCode
	g.addToken(token{s: "-", punct: true})
	return g.code(i, c)
}

// quoteOpens says c (after prev) opens a string, a quoted name or a
// possible dollar quote.
func (g *SQLGuard) quoteOpens(i int, c, prev byte) bool {
	switch {
	case strings.IndexByte(g.syn.strings, c) >= 0:
		g.startStmt(i)
		g.escapes = g.syn.allEscape || (g.syn.escapeE && (prev == 'E' || prev == 'e') && g.lastWordIs("E"))
		g.state, g.quote, g.backslash = stString, c, false
		g.capturing, g.capture, g.captureBad = g.set.active, g.capture[:0], false
	case strings.IndexByte(g.syn.names, c) >= 0:
		g.startStmt(i)
		g.quote = c
		if c == '[' {
			g.quote = ']'
		}
		g.state = stQuotedIdent
		g.word = g.word[:0]
	case c == '$' && g.syn.dollarTags:
		g.startStmt(i)
		g.state = stDollarTag
		g.dollar = append(g.dollar[:0], c)
	default:
		return false
	}
	return true
}

// commandOpens says c opens a client command: psql's or mysql's \,
// anywhere outside quotes (held back until its name is read), or
// sqlite3's . at the start of a line outside a statement.
func (g *SQLGuard) commandOpens(i int, c byte, atLineStart bool) bool {
	switch {
	case c == '\\' && g.syn.backslash:
		if g.held < 0 {
			g.held = i
		}
		g.metaInStmt = g.inStmt
	case c == '.' && g.syn.dotLine && !g.inStmt && atLineStart:
		g.startStmt(i)
		g.metaInStmt = false
	default:
		return false
	}
	g.state, g.metaKind, g.meta, g.metaLine = stMeta, c, g.meta[:0], g.line
	return true
}
