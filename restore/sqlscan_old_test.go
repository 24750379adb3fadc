package restore

// This file keeps the SQL guard as it was before the lexer was split into
// one method per construct (sqlscan.go), only so that FuzzSQLGuard can
// check the two decide alike on every input. It goes when the restructure
// has landed.

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// maxHold bounds what the guard holds back while it reads the first words
// of a statement; a statement that does not show its kind within it is
// refused rather than passed unread.
const oldmaxHold = 1 << 20

// SQLGuard is a writer that passes an SQL dump to dst while it checks,
// statement by statement, that the dump stays in the database its client
// was started in. A statement is held back until its first words are read:
// when they switch database, Write returns a *SwitchError and dst never
// sees any byte of that statement, so a client killed then has not read
// it. With allow set it only records the switches (Switches).
//
// It also lists the tables the dump creates (Tables), for the drill's
// comparison with what was restored, and counts the rows of COPY blocks.
//
// It understands quotes, comments, MySQL's executable /*! */ comments and
// DELIMITER, psql's COPY ... FROM stdin data and backslash commands,
// sqlite3's dot commands. It does not look inside statements for
// database-qualified names (INSERT INTO otherdb.t): neither mysqldump nor
// pg_dump writes them for the tables of one database.
type oldSQLGuard struct {
	dst     io.Writer
	dialect Dialect
	allow   bool

	// Switches are the statements that switch database, when allowed.
	Switches []SwitchError
	// Tables are the tables the dump creates, in order, as written
	// (schema.table for postgres). Dropped ones are removed.
	Tables []string
	// CopyRows counts the data lines of each table's COPY block
	// (postgres plain dumps).
	CopyRows map[string]int64

	buf   []byte // bytes not yet passed to dst
	held  int    // index in buf from which bytes are held back; -1: none
	err   error
	line  int64
	state oldlexState

	delim     []byte // statement terminator (mysql DELIMITER)
	delimPos  int
	quote     byte   // closing quote of the string or identifier being read
	escapes   bool   // the current string takes backslash escapes
	backslash bool   // in it, the previous byte was an escaping backslash
	dollar    []byte // current dollar-quote tag, e.g. "$fn$"
	versioned int    // depth of MySQL /*! ... */ comments being read as code

	unsafe   *UnsafeError // found while reading a token, reported by Write
	prevKind byte         // the statement's previous token, any position: 'w'ord, 'q'uoted, 's'tring, 'p'unct
	prevWord []byte       // and its text, for a word or quoted name
	lastWord [2]string    // its last two words, upper case ("" quoted or long)

	inStmt     bool // a statement has started
	classified bool // and its first words were checked
	stmtLine   int64
	words      []oldtoken
	word       []byte // the word being read
	prev       byte   // previous byte of code
	lineStart  bool   // nothing but blanks since the last newline

	meta       []byte // a client command being read (\c, DELIMITER, .open)
	metaKind   byte   // '\\', 'D' (delimiter) or '.'
	metaLine   int64
	metaInStmt bool
	copyTable  string // COPY block being read
	copyLine   []byte // start of the current COPY data line
	copyEsc    bool   // in it, the previous byte was an unpaired backslash
}

type oldtoken struct {
	s      string // as written, unquoted
	quoted bool   // an identifier in quotes
	str    bool   // a string literal, shown as '…'
	punct  bool
}

type oldlexState int

const (
	oldstCode         oldlexState = iota
	oldstLineComment              // -- or # to the end of the line
	oldstCommentOpen              // read "/*": the next byte tells a MySQL /*! comment
	oldstCommentM                 // read "/*M": MariaDB's /*M! if "!" follows
	oldstBlockComment             // /* ... */
	oldstVersion                  // read "/*!": skipping the version digits
	oldstString                   // '...', or "..." in mysql
	oldstQuotedIdent              // "..." (postgres, sqlite) or `...`
	oldstDollarTag                // reading a possible $tag$ opener
	oldstDollar                   // $tag$ ... $tag$
	oldstMeta                     // a client command, to the end of its line
	oldstCopyStart                // after COPY ... FROM stdin; to the end of its line
	oldstCopy                     // COPY data, to a line "\."
)

// NewSQLGuard returns a guard writing to dst.
func oldNewSQLGuard(dst io.Writer, d Dialect, allow bool) *oldSQLGuard {
	return &oldSQLGuard{dst: dst, dialect: d, allow: allow, held: -1, line: 1, lineStart: true,
		delim: []byte(";"), CopyRows: map[string]int64{}}
}

// Write checks p and passes to dst what is known safe. After a switch it
// returns the *SwitchError, then and for every later call.
func (g *oldSQLGuard) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	base := len(g.buf)
	g.buf = append(g.buf, p...)
	for i := base; i < len(g.buf); i++ {
		// Fast paths: inside a string only its quote, a backslash and
		// newlines matter; in COPY data only newlines.
		if skip := g.skippable(g.buf[i:]); skip > 0 {
			g.line += int64(bytes.Count(g.buf[i:i+skip], []byte{'\n'}))
			i += skip - 1
			continue
		}
		err := g.step(i, g.buf[i])
		if err == nil && g.unsafe != nil {
			err = g.unsafe
		}
		if err != nil {
			g.err = err
			return 0, err
		}
		if g.buf[i] == '\n' {
			g.line++
		}
	}
	safe := len(g.buf)
	if g.held >= 0 {
		safe = g.held
		if len(g.buf)-g.held > oldmaxHold {
			g.err = fmt.Errorf("line %d: a statement does not show what it is in its first %d bytes: refusing to pass it unread", g.stmtLine, oldmaxHold)
			return 0, g.err
		}
	}
	if safe > 0 {
		if _, err := g.dst.Write(g.buf[:safe]); err != nil {
			g.err = err
			return 0, err
		}
		n := copy(g.buf, g.buf[safe:])
		g.buf = g.buf[:n]
		if g.held >= 0 {
			g.held -= safe
		}
	}
	return len(p), nil
}

// Close classifies what is left (a last statement without a terminator)
// and passes it on. It does not close dst.
func (g *oldSQLGuard) Close() error {
	if g.err != nil {
		return g.err
	}
	err := g.endWord()
	if err == nil && g.state == oldstMeta {
		err = g.endMeta()
	}
	if err == nil && g.inStmt && !g.classified {
		err = g.classify(true)
	}
	if err == nil && g.unsafe != nil {
		err = g.unsafe
	}
	if err != nil {
		g.err = err
		return err
	}
	g.held = -1
	if len(g.buf) > 0 {
		if _, err := g.dst.Write(g.buf); err != nil {
			return err
		}
		g.buf = g.buf[:0]
	}
	return nil
}

// skippable is how many leading bytes of p step would read without a
// decision: the body of a string up to its quote (or a backslash), COPY
// data after a line's first bytes up to the newline.
func (g *oldSQLGuard) skippable(p []byte) int {
	switch {
	case g.state == oldstString && !g.backslash:
		var j int
		if g.escapes {
			j = bytes.IndexAny(p, string([]byte{g.quote, '\\'}))
		} else {
			j = bytes.IndexByte(p, g.quote)
		}
		if j < 0 {
			return len(p)
		}
		return j
	case g.state == oldstCopy && len(g.copyLine) >= 3 && !g.copyEsc:
		j := bytes.IndexAny(p, "\\\n")
		if j < 0 {
			return len(p)
		}
		return j
	}
	return 0
}

func oldisWordByte(c byte, d Dialect) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 ||
		(c == '$' && d == DialectMySQL)
}

func oldisBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }

// startStmt notes that a statement starts at buf index i, and holds it
// back until it is classified.
func (g *oldSQLGuard) startStmt(i int) {
	if g.inStmt {
		return
	}
	g.inStmt, g.classified, g.stmtLine = true, false, g.line
	g.words = g.words[:0]
	g.prevKind, g.prevWord, g.lastWord = 0, g.prevWord[:0], [2]string{}
	if g.held < 0 {
		g.held = i
	}
}

func (g *oldSQLGuard) step(i int, c byte) error {
	switch g.state {
	case oldstLineComment:
		if c == '\n' {
			g.state, g.lineStart = oldstCode, true
		}
		return nil
	case oldstCommentOpen:
		switch {
		case g.dialect == DialectMySQL && c == '!':
			g.startStmt(i)
			g.state = oldstVersion
		case g.dialect == DialectMySQL && c == 'M':
			g.state = oldstCommentM
		default:
			g.state, g.prev = oldstBlockComment, c
		}
		return nil
	case oldstCommentM:
		if c == '!' {
			g.startStmt(i)
			g.state = oldstVersion
			return nil
		}
		g.state, g.prev = oldstBlockComment, c
		return nil
	case oldstBlockComment:
		if c == '/' && g.prev == '*' {
			g.state, g.prev = oldstCode, ' '
			return nil
		}
		g.prev = c
		return nil
	case oldstVersion:
		if c >= '0' && c <= '9' {
			return nil
		}
		g.versioned++
		g.state, g.prev = oldstCode, ' '
		if c == '\\' {
			// MariaDB's "/*M!999999\- enable the sandbox mode */": a
			// client command inside the comment.
			break
		}
		return g.step(i, c)
	case oldstString:
		switch {
		case g.backslash:
			g.backslash = false
		case c == '\\' && g.escapes:
			g.backslash = true
		case c == g.quote:
			g.state, g.prev = oldstCode, 'x'
			g.addToken(oldtoken{s: "'…'", str: true})
			return g.maybeClassify()
		}
		return nil
	case oldstQuotedIdent:
		if c == g.quote {
			g.state, g.prev = oldstCode, 'x'
			g.addToken(oldtoken{s: string(g.word), quoted: true})
			g.word = g.word[:0]
			return g.maybeClassify()
		}
		if len(g.word) < 256 {
			g.word = append(g.word, c)
		}
		return nil
	case oldstDollarTag:
		g.dollar = append(g.dollar, c)
		switch {
		case c == '$':
			g.state = oldstDollar
			g.word = g.word[:0]
			return nil
		case oldisWordByte(c, g.dialect) && !(len(g.dollar) == 2 && c >= '0' && c <= '9') && len(g.dollar) < 64:
			return nil
		}
		// Not a dollar quote ($1): read on as code.
		g.state = oldstCode
		g.dollar = g.dollar[:0]
		return g.step(i, c)
	case oldstDollar:
		g.word = append(g.word, c)
		if len(g.word) > len(g.dollar) {
			g.word = g.word[len(g.word)-len(g.dollar):]
		}
		if c == '$' && bytes.Equal(g.word, g.dollar) {
			g.state, g.prev = oldstCode, 'x'
			g.word, g.dollar = g.word[:0], g.dollar[:0]
		}
		return nil
	case oldstMeta:
		if g.metaKind == '\\' && g.dialect == DialectMySQL {
			// The mysql client's commands are one letter: \u DB is use,
			// \r connect; what follows is read as code.
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
	case oldstCopyStart:
		if c == '\n' {
			g.state = oldstCopy
			g.copyLine = g.copyLine[:0]
		}
		return nil
	case oldstCopy:
		if len(g.copyLine) < 3 {
			g.copyLine = append(g.copyLine, c)
		}
		if g.copyEsc {
			// COPY TO writes only \\, \b \f \n \r \t \v, \N and the
			// final \. ("COPY TO will never emit an octal or
			// hex-digits backslash sequence",
			// https://www.postgresql.org/docs/15/sql-copy.html). psql
			// reads the data as SQL and commands when the COPY fails
			// (no such table, without ON_ERROR_STOP): a forged \! in a
			// row would run there.
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
				g.state, g.lineStart, g.copyTable = oldstCode, true, ""
			} else {
				g.CopyRows[g.copyTable]++
			}
			g.copyLine = g.copyLine[:0]
		}
		return nil
	}

	// Code.
	atLineStart := g.lineStart
	if c == '\n' {
		g.lineStart = true
	} else if !oldisBlank(c) {
		g.lineStart = false
	}
	if !oldisWordByte(c, g.dialect) {
		if err := g.endWord(); err != nil {
			return err
		}
	}
	prev := g.prev
	g.prev = c

	// The statement terminator (";", or mysql's DELIMITER).
	if c == g.delim[g.delimPos] {
		g.delimPos++
		if g.delimPos == len(g.delim) {
			g.delimPos = 0
			return g.endStmt()
		}
		return nil
	}
	g.delimPos = 0
	if c == g.delim[0] {
		g.delimPos = 1
		return nil
	}

	switch {
	case oldisBlank(c):
		return nil
	case c == '-' && prev == '-' && (g.dialect != DialectMySQL || g.lastPunct('-')):
		g.dropLastPunct('-')
		g.state = oldstLineComment
		return nil
	case c == '#' && g.dialect == DialectMySQL:
		g.state = oldstLineComment
		return nil
	case c == '*' && prev == '/':
		g.dropLastPunct('/')
		g.state = oldstCommentOpen
		return nil
	case c == '/' && prev == '*' && g.versioned > 0:
		g.versioned--
		g.dropLastPunct('*')
		g.prev = ' '
		return nil
	case c == '\'' || (c == '"' && g.dialect == DialectMySQL):
		g.startStmt(i)
		g.escapes = g.dialect == DialectMySQL || (g.dialect == DialectPostgres && (prev == 'E' || prev == 'e') && g.lastWordIs("E"))
		g.state, g.quote, g.backslash = oldstString, c, false
		return nil
	case c == '"' || c == '`' || (c == '[' && g.dialect == DialectSQLite):
		g.startStmt(i)
		g.quote = c
		if c == '[' {
			g.quote = ']'
		}
		g.state = oldstQuotedIdent
		g.word = g.word[:0]
		return nil
	case c == '$' && g.dialect == DialectPostgres && !oldisWordByte(prev, g.dialect):
		g.startStmt(i)
		g.state = oldstDollarTag
		g.dollar = append(g.dollar[:0], c)
		return nil
	case c == '\\' && g.dialect != DialectSQLite:
		// A psql or mysql client command, anywhere outside quotes: held
		// back until its name is read.
		if g.held < 0 {
			g.held = i
		}
		g.metaInStmt = g.inStmt
		g.state, g.metaKind, g.meta, g.metaLine = oldstMeta, '\\', g.meta[:0], g.line
		return nil
	case c == '.' && g.dialect == DialectSQLite && !g.inStmt && atLineStart:
		g.startStmt(i)
		g.metaInStmt = false
		g.state, g.metaKind, g.meta, g.metaLine = oldstMeta, '.', g.meta[:0], g.line
		return nil
	}
	g.startStmt(i)
	if oldisWordByte(c, g.dialect) {
		if len(g.word) < 256 {
			g.word = append(g.word, c)
		}
		return nil
	}
	g.addToken(oldtoken{s: string(c), punct: true})
	return nil
}

// maxTokens is how many leading tokens of a statement are kept: enough
// for its kind and the table it creates or copies into.
const oldmaxTokens = 24

func (g *oldSQLGuard) addToken(t oldtoken) {
	g.scan(t)
	if len(g.words) < oldmaxTokens {
		g.words = append(g.words, t)
	}
}

func (g *oldSQLGuard) lastPunct(c byte) bool {
	n := len(g.words)
	return n > 0 && g.words[n-1].punct && g.words[n-1].s == string(c)
}

func (g *oldSQLGuard) dropLastPunct(c byte) {
	if g.lastPunct(c) {
		g.words = g.words[:len(g.words)-1]
	}
	if len(g.words) == 0 && g.inStmt && !g.classified {
		// Only a comment so far: no statement yet.
		g.inStmt = false
		if g.versioned == 0 {
			g.held = -1
		}
	}
}

func (g *oldSQLGuard) lastWordIs(s string) bool {
	n := len(g.words)
	return n > 0 && !g.words[n-1].quoted && !g.words[n-1].punct && strings.EqualFold(g.words[n-1].s, s)
}

// endWord completes the word being read.
func (g *oldSQLGuard) endWord() error {
	if len(g.word) == 0 || g.state != oldstCode {
		return nil
	}
	if len(g.words) >= oldmaxTokens {
		// Past the words a statement is known by: nothing to keep, but
		// scan sees it.
		g.scanTok('w', "", g.word)
		g.word = g.word[:0]
		return g.maybeClassify()
	}
	w := string(g.word)
	g.word = g.word[:0]
	g.addToken(oldtoken{s: w})
	if g.dialect == DialectMySQL && len(g.words) == 1 && strings.EqualFold(w, "delimiter") {
		g.state, g.metaKind, g.meta, g.metaLine = oldstMeta, 'D', g.meta[:0], g.line
		return nil
	}
	return g.maybeClassify()
}

// kw is the statement's n-th word, upper case, punctuation skipped; ""
// for a quoted identifier or past the end.
func (g *oldSQLGuard) kw(n int) string {
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

func (g *oldSQLGuard) nwords() int {
	var k int
	for _, t := range g.words {
		if !t.punct {
			k++
		}
	}
	return k
}

func (g *oldSQLGuard) maybeClassify() error {
	if g.inStmt && !g.classified && g.nwords() >= 4 {
		return g.classify(false)
	}
	return nil
}

// classify decides on a statement from its first words; final says the
// statement has ended.
func (g *oldSQLGuard) classify(final bool) error {
	if stmt, why, wait := g.unsafeStatement(final); wait {
		return nil
	} else if stmt != "" {
		return &UnsafeError{Statement: stmt, Line: g.stmtLine, Why: why}
	}
	w0, w1 := g.kw(0), g.kw(1)
	var bad bool
	switch w0 {
	case "USE", "CONNECT", "ATTACH", "DETACH":
		bad = true
	case "CREATE", "DROP", "ALTER":
		obj := w1
		if w0 == "CREATE" && w1 == "OR" && g.kw(2) == "REPLACE" {
			obj = g.kw(3)
		}
		switch obj {
		case "DATABASE", "ROLE", "USER", "TABLESPACE":
			bad = true
		case "SCHEMA":
			bad = g.dialect == DialectMySQL // a database in MySQL, a namespace in PostgreSQL
		}
	}
	if bad && !final && g.nwords() < 7 {
		return nil // read a few more words, to name the database in the error
	}
	g.classified = true
	if g.state != oldstMeta {
		g.held = -1
	}
	if bad {
		e := SwitchError{Statement: g.describe(), Line: g.stmtLine}
		if !g.allow {
			return &e
		}
		g.Switches = append(g.Switches, e)
	}
	return nil
}

// describe shows the statement's first words, for the error.
func (g *oldSQLGuard) describe() string {
	var b strings.Builder
	for i, t := range g.words {
		if i >= 8 {
			b.WriteString(" …")
			break
		}
		if i > 0 && !t.punct {
			b.WriteByte(' ')
		}
		switch {
		case t.str:
			b.WriteString(t.s)
		case t.quoted && g.dialect == DialectMySQL:
			b.WriteString("`" + t.s + "`")
		case t.quoted:
			b.WriteString(`"` + t.s + `"`)
		default:
			b.WriteString(t.s)
		}
	}
	return b.String()
}

// endMeta completes a client command: psql's \connect, mysql's \u or
// DELIMITER, sqlite3's .open.
func (g *oldSQLGuard) endMeta() error {
	g.state = oldstCode
	arg := strings.TrimSpace(string(g.meta))
	kind := g.metaKind
	g.meta = g.meta[:0]
	name, _, _ := strings.Cut(arg, " ")
	var bad bool
	var stmt string
	switch kind {
	case 'D':
		if d := strings.Fields(arg); len(d) > 0 {
			g.delim, g.delimPos = []byte(d[0]), 0
		}
		g.inStmt, g.classified, g.held = false, true, -1
		g.words = g.words[:0]
		return nil
	case '\\':
		stmt = `\` + arg
		var why string
		switch g.dialect {
		case DialectPostgres:
			bad, why = g.psqlCommand(name, arg)
		case DialectMySQL:
			// The mysql client's commands are one character
			// (https://mariadb.com/kb/en/mariadb-command-line-client/):
			// \u DB (use) and \r DB HOST (connect) switch database;
			// mariadb-dump's first line "/*M!999999\- enable the sandbox
			// mode */" is \-, which only makes the client safer
			// (https://mariadb.org/mariadb-dump-file-compatibility-change/).
			// mysqldump writes no other.
			switch name {
			case "u", "r":
				bad = true
			case "-":
			default:
				why = "a mysql client command: \\! runs a program, \\. reads a file, \\T writes one, \\P pipes to a program"
			}
		}
		if why != "" {
			if len(stmt) > 80 {
				stmt = stmt[:80] + " …"
			}
			return &UnsafeError{Statement: stmt, Line: g.metaLine, Why: why}
		}
	case '.':
		stmt = "." + arg
		// sqlite3's .dump writes no dot command
		// (https://sqlite.org/cli.html#converting_an_entire_database_to_a_text_file):
		// .open, .restore and .connection switch database; every other
		// one is refused, switch allowed or not: .shell and .system run
		// programs, .output/.once/.save/.backup/.log/.excel write files,
		// .read/.import/.load read them (https://sqlite.org/cli.html).
		switch name {
		case "open", "restore", "connection":
			bad = true
		default:
			if len(stmt) > 80 {
				stmt = stmt[:80] + " …"
			}
			return &UnsafeError{Statement: stmt, Line: g.metaLine, Why: "an sqlite3 dot command: it can run a program or read or write a file"}
		}
		g.inStmt, g.classified = false, true
		g.words = g.words[:0]
	}
	if len(stmt) > 80 {
		stmt = stmt[:80] + " …"
	}
	if bad {
		e := SwitchError{Statement: stmt, Line: g.metaLine}
		if !g.allow {
			return &e
		}
		g.Switches = append(g.Switches, e)
	}
	if !g.metaInStmt && kind == '\\' {
		// The command was a line of its own, not part of a statement.
		g.inStmt, g.classified = false, true
	}
	if !g.inStmt || g.classified {
		g.held = -1
	}
	return nil
}

// endStmt is reached at the statement terminator.
func (g *oldSQLGuard) endStmt() error {
	if err := g.endWord(); err != nil {
		return err
	}
	if g.inStmt && !g.classified {
		if err := g.classify(true); err != nil {
			return err
		}
	}
	if g.inStmt {
		g.noteStmt()
	}
	g.inStmt, g.classified, g.held = false, true, -1
	g.words = g.words[:0]
	return nil
}

// noteStmt records the tables a statement creates or drops, and a COPY
// whose data follows.
func (g *oldSQLGuard) noteStmt() {
	ws := append([]oldtoken(nil), g.words...)
	at := func(n int) string {
		if n < len(ws) && !ws[n].quoted && !ws[n].punct {
			return strings.ToUpper(ws[n].s)
		}
		return ""
	}
	// name reads a possibly qualified name from ws[n].
	name := func(n int) string {
		var parts []string
		for n < len(ws) {
			t := ws[n]
			if t.punct {
				break
			}
			s := t.s
			if !t.quoted && g.dialect == DialectPostgres {
				s = strings.ToLower(s)
			}
			parts = append(parts, s)
			if n+1 < len(ws) && ws[n+1].punct && ws[n+1].s == "." {
				n += 2
				continue
			}
			break
		}
		return strings.Join(parts, ".")
	}
	switch at(0) {
	case "CREATE":
		n := 1
		for ; n < len(ws); n++ {
			switch at(n) {
			case "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL":
				continue
			}
			break
		}
		if at(n) != "TABLE" {
			return
		}
		n++
		if at(n) == "IF" && at(n+1) == "NOT" && at(n+2) == "EXISTS" {
			n += 3
		}
		if t := name(n); t != "" {
			g.Tables = append(g.Tables, t)
		}
	case "DROP":
		if at(1) != "TABLE" {
			return
		}
		n := 2
		if at(n) == "IF" && at(n+1) == "EXISTS" {
			n += 2
		}
		if t := name(n); t != "" {
			for i, x := range g.Tables {
				if x == t {
					g.Tables = append(g.Tables[:i], g.Tables[i+1:]...)
					break
				}
			}
		}
	case "COPY":
		// COPY name (cols) FROM stdin; (the column list can be longer
		// than the words kept: its last words tell)
		if g.lastWord == [2]string{"FROM", "STDIN"} {
			g.state, g.copyTable = oldstCopyStart, name(1)
			g.CopyRows[g.copyTable] += 0
		}
	}
}

// Functions that read or write files, or reach other servers, from SQL:
// no dump tool writes a call to them (pg_dump restores large objects with
// lo_create/lo_open/lowrite/lo_close, never lo_import/lo_export;
// mysqldump never calls LOAD_FILE; sqlite3 .dump writes plain INSERTs).
// Server-side functions still need privileges a restore role should not
// have: restoring as a non-superuser is the real defence (README), this
// refuses the direct calls early and by name.
var oldunsafeFuncs = map[Dialect]map[string]string{
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
func (g *oldSQLGuard) scan(t oldtoken) {
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
type oldtext struct {
	s string
	b []byte
}

func (x oldtext) len() int {
	if x.b != nil {
		return len(x.b)
	}
	return len(x.s)
}

func (x oldtext) at(i int) byte {
	if x.b != nil {
		return x.b[i]
	}
	return x.s[i]
}

// is says the text is lit, ASCII case folded, without allocating.
func (x oldtext) is(lit string) bool {
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

func (x oldtext) String() string {
	if x.b != nil {
		return string(x.b)
	}
	return x.s
}

func (g *oldSQLGuard) scanTok(kind byte, s string, b []byte) {
	t := oldtext{s: s, b: b}
	prevKind := g.prevKind
	prev := oldtext{b: g.prevWord}
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

func (g *oldSQLGuard) scanCheck(kind byte, t oldtext, prevKind byte, prev oldtext) {
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
		if why, bad := oldunsafeFuncs[g.dialect][string(name)]; bad {
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
func (g *oldSQLGuard) routineStmt() bool {
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
var oldmysqlCommands = map[string]bool{
	"CHARSET": true, "CLEAR": true, "EDIT": true, "EGO": true, "EXIT": true, "GO": true, "HELP": true,
	"NOPAGER": true, "NOTEE": true, "NOWARNING": true, "PAGER": true, "PRINT": true, "PROMPT": true,
	"QUIT": true, "REHASH": true, "SOURCE": true, "STATUS": true, "SYSTEM": true, "TEE": true,
	"WARNINGS": true, "RESETCONNECTION": true, "QUERY_ATTRIBUTES": true, "SSL_SESSION_DATA_PRINT": true,
}

// unsafeStatement says why a statement, from its first words, is never
// passed; final says it has ended. It returns "", true when it needs more
// words to decide.
func (g *oldSQLGuard) unsafeStatement(final bool) (stmt, why string, wait bool) {
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
		case oldmysqlCommands[w0]:
			return g.words[0].s, "a mysql client command, not SQL: system runs a program, source reads a file, tee writes one, pager pipes to a program", false
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

// restrictKeyRE is what pg_dump's \restrict key looks like: letters and
// digits (PostgreSQL 15.14, CVE-2025-8714).
var oldrestrictKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

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
func (g *oldSQLGuard) psqlCommand(name, arg string) (isSwitch bool, why string) {
	rest := strings.TrimSpace(strings.TrimPrefix(arg, name))
	switch {
	case (name == "c" || name == "connect") && !strings.Contains(rest, `\`):
		return true, ""
	case (name == "restrict" || name == "unrestrict") && oldrestrictKeyRE.MatchString(rest):
		return false, ""
	case name == "." && rest == "":
		return false, ""
	}
	return false, "a psql command pg_dump never writes: \\! runs a shell, \\o, \\g, \\w, \\copy pipe to programs or write files, \\i reads them"
}
