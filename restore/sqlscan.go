package restore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Dialect is the SQL flavour of a dump: it decides what quotes, comments
// and client commands look like.
type Dialect int

// Dialects of the dumps putonly's presets write.
const (
	DialectPostgres Dialect = iota + 1 // pg_dump / pg_dumpall plain SQL, read by psql
	DialectMySQL                       // mysqldump / mariadb-dump, read by the mysql client
	DialectSQLite                      // sqlite3 .dump, read by sqlite3
)

func (d Dialect) String() string {
	switch d {
	case DialectPostgres:
		return "postgres"
	case DialectMySQL:
		return "mysql"
	case DialectSQLite:
		return "sqlite"
	}
	return "unknown"
}

// ErrDatabaseSwitch is what a dump that would write outside the target
// database fails with (errors.Is); the error is a *SwitchError.
var ErrDatabaseSwitch = errors.New("the dump switches to another database")

// SwitchError names the statement of a dump that would make its client
// leave the target database (USE, \connect, CREATE DATABASE, ...) or write
// outside it (CREATE ROLE, ATTACH, ...).
type SwitchError struct {
	Statement string // the statement's first words, e.g. "USE `shop`"
	Line      int64  // 1-based line of the dump where it starts
}

func (e *SwitchError) Error() string {
	return fmt.Sprintf("%v: line %d: %s\n\thint: %s", ErrDatabaseSwitch, e.Line, e.Statement, switchFix)
}

// switchFix is what a user can do with a dump that names its database.
const switchFix = "this backup names its database (mysqldump --databases, pg_dumpall): loading it writes there, not into the target; " +
	"load it only on a scratch server that may be written anywhere (--allow-database-switch), or restore it with -o FILE and remove the statement"

func (e *SwitchError) Unwrap() error { return ErrDatabaseSwitch }

// ErrUnsafeDump is what a dump fails with when it holds a client command
// or statement that none of the dump tools writes and that would run a
// program, read or write a file, or load code on the restore host or the
// scratch server (errors.Is); the error is an *UnsafeError. A forged
// backup can carry them: the age recipients a database host encrypts to
// are public. --allow-database-switch does not allow them.
var ErrUnsafeDump = errors.New("the dump holds a command no dump tool writes")

// UnsafeError names the command or statement refused, and why.
type UnsafeError struct {
	Statement string // e.g. `\! id`, "system", "COPY ... PROGRAM"
	Line      int64
	Why       string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%v: line %d: %s (%s): refusing to restore it; a backup holding it was forged or is not a dump", ErrUnsafeDump, e.Line, e.Statement, e.Why)
}

func (e *UnsafeError) Unwrap() error { return ErrUnsafeDump }

// maxHold bounds what the guard holds back while it reads the first words
// of a statement; a statement that does not show its kind within it is
// refused rather than passed unread.
const maxHold = 1 << 20

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
type SQLGuard struct {
	dst     io.Writer
	dialect Dialect
	syn     *syntax // how the dialect's client reads the dump
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
	state lexState
	// before is the dump's byte before the one being read, in any state.
	before byte
	set    setWatch // the mysql session settings (sqlscan_set.go)
	// capture keeps a string's bytes while capturing; captureBad: they
	// did not fit or held a backslash.
	capture    []byte
	capturing  bool
	captureBad bool

	delim     []byte // statement terminator (mysql DELIMITER)
	delimPos  int
	quote     byte   // closing quote of the string or identifier being read
	escapes   bool   // the current string takes backslash escapes
	backslash bool   // in it, the previous byte was an escaping backslash
	dollar    []byte // current dollar-quote tag, e.g. "$fn$"
	versioned int    // depth of MySQL /*! ... */ comments being read as code
	// ambiguous is the depth of a /*+ … */ or /*M! … */ comment: code to
	// one mysql client (or server), a comment to the other; 0: none.
	ambiguous    int
	ambiguousNew bool // the comment being opened is one of those
	depth        int  // of nested /* */ comments (postgres)

	unsafe   *UnsafeError // found while reading a token, reported by Write
	prevKind byte         // the statement's previous token, any position: 'w'ord, 'q'uoted, 's'tring, 'p'unct
	prevWord []byte       // and its text, for a word or quoted name
	lastWord [2]string    // its last two words, upper case ("" quoted or long)

	inStmt     bool // a statement has started
	classified bool // and its first words were checked
	stmtLine   int64
	words      []token
	word       []byte // the word being read
	prev       byte   // previous byte of code
	lineStart  bool   // nothing but blanks since the last newline
	wordBOL    bool   // the word being read started a line
	dashFresh  bool   // the '-' before this one started a statement
	termLine   bool   // the line so far is "go" or "/": sqlite3 may end a statement there

	meta       []byte // a client command being read (\c, DELIMITER, .open)
	metaKind   byte   // '\\', 'D' (delimiter) or '.'
	metaLine   int64
	metaInStmt bool
	copyTable  string // COPY block being read
	copyLine   []byte // start of the current COPY data line
	copyEsc    bool   // in it, the previous byte was an unpaired backslash
}

type token struct {
	s      string // as written, unquoted
	quoted bool   // an identifier in quotes
	str    bool   // a string literal, shown as '…'
	punct  bool
	val    string // a string's content, kept in SET statements (mysql); else unreadable
}

type lexState int

const (
	stCode         lexState = iota
	stLineComment           // -- or # to the end of the line
	stCommentOpen           // read "/*": the next byte tells a MySQL /*! comment
	stCommentM              // read "/*M": MariaDB's /*M! if "!" follows
	stBlockComment          // /* ... */
	stVersion               // read "/*!": skipping the version digits
	stString                // '...', or "..." in mysql
	stQuotedIdent           // "..." (postgres, sqlite) or `...`
	stDollarTag             // reading a possible $tag$ opener
	stDollar                // $tag$ ... $tag$
	stMeta                  // a client command, to the end of its line
	stCopyStart             // after COPY ... FROM stdin; to the end of its line
	stCopy                  // COPY data, to a line "\."
	stDash                  // read "--" (mysql): the next byte tells a comment
	stCommentRest           // after a mysql \ command in /*! */: dropped to */ or the line end
)

// NewSQLGuard returns a guard writing to dst.
func NewSQLGuard(dst io.Writer, d Dialect, allow bool) *SQLGuard {
	g := &SQLGuard{dst: dst, dialect: d, syn: syntaxes[d], allow: allow, held: -1, line: 1, lineStart: true,
		delim: []byte(";"), CopyRows: map[string]int64{}}
	if g.syn == nil {
		g.err = fmt.Errorf("SQL guard: unknown dialect %d", d)
	}
	return g
}

// Write checks p and passes to dst what is known safe. After a switch it
// returns the *SwitchError, then and for every later call.
func (g *SQLGuard) Write(p []byte) (int, error) {
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
			if g.capturing && g.state == stString {
				g.keep(g.buf[i : i+skip])
			}
			i += skip - 1
			g.before = g.buf[i]
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
		g.before = g.buf[i]
	}
	safe := len(g.buf)
	if g.held >= 0 {
		safe = g.held
		if len(g.buf)-g.held > maxHold {
			g.err = fmt.Errorf("line %d: a statement does not show what it is in its first %d bytes: refusing to pass it unread", g.stmtLine, maxHold)
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
func (g *SQLGuard) Close() error {
	if g.err != nil {
		return g.err
	}
	err := g.endWord()
	if err == nil && g.state == stMeta {
		err = g.endMeta()
	}
	if err == nil && g.inStmt && !g.classified {
		err = g.classify(true)
	}
	g.setEnd()
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
func (g *SQLGuard) skippable(p []byte) int {
	switch {
	case g.state == stString && !g.backslash:
		var j int
		switch {
		case g.versioned > 0:
			j = bytes.IndexAny(p, string([]byte{g.quote, '\\', '/'}))
		case g.escapes:
			j = bytes.IndexAny(p, string([]byte{g.quote, '\\'}))
		default:
			j = bytes.IndexByte(p, g.quote)
		}
		if j < 0 {
			return len(p)
		}
		return j
	case g.state == stCopy && len(g.copyLine) >= 3 && !g.copyEsc:
		j := bytes.IndexAny(p, "\\\n")
		if j < 0 {
			return len(p)
		}
		return j
	}
	return 0
}
