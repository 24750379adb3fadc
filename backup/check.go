package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoDumpProgram is the error of CheckProgram when the dump program does
// not exist or cannot be executed (errors.Is).
var ErrNoDumpProgram = errors.New("dump program not found")

// ErrConnect is the error of CheckConnect when the dump program could not
// reach its database (errors.Is).
var ErrConnect = errors.New("cannot reach the database")

// CheckProgram returns the path of the job's dump program, or an error
// naming it and the fix when it does not exist or is not executable: found
// by 'putonly check', not at 02:00 after the self-test has written its
// canaries.
func CheckProgram(job *Job) (string, error) {
	if len(job.Argv) == 0 {
		return "", fmt.Errorf("job %s: %w: no command", job.Name, ErrNoDumpProgram)
	}
	prog := job.Argv[0]
	path, err := exec.LookPath(prog)
	if err == nil {
		return path, nil
	}
	hint := "install it, or set binary: to its absolute path"
	switch job.SourceType {
	case SourceCommand:
		hint = "install it, or write its absolute path as the command's first element"
	case SourcePostgres:
		hint = "install the PostgreSQL client (Debian: postgresql-client-NN, the server's major version), or set binary: to its pg_dump"
	case SourceMySQL:
		hint = "install the MariaDB or MySQL client (Debian: mariadb-client), or set binary: to its dump program"
	case SourceSQLite:
		hint = "install sqlite3 (Debian: sqlite3), or set binary: to it"
	case SourceMongoDB:
		hint = "install the MongoDB Database Tools, or set binary: to mongodump"
	}
	what := "not found in PATH (" + os.Getenv("PATH") + ")"
	if strings.Contains(prog, "/") {
		st, serr := os.Stat(prog)
		switch {
		case serr != nil:
			what = "no such file"
		case st.IsDir():
			what = "a directory"
		default:
			what = "not executable (mode " + st.Mode().Perm().String() + ")"
			hint = "chmod +x it, or name the program it should be"
		}
	}
	return "", &FieldError{Field: "job " + job.Name + ": dump program", Value: prog,
		Err: &noProgramError{what}, Hint: hint}
}

// noProgramError is ErrNoDumpProgram saying why.
type noProgramError struct{ what string }

func (e *noProgramError) Error() string        { return e.what }
func (e *noProgramError) Is(target error) bool { return target == ErrNoDumpProgram }

// ConnectTimeout bounds CheckConnect.
const ConnectTimeout = 30 * time.Second

// CheckConnect runs the job's dump program in a mode that reaches the
// database and reads no data, with the job's arguments and putonly's
// environment (PGHOST, ~/.my.cnf, ... as the dump would see them):
// pg_dump --schema-only, mariadb-dump --no-data, sqlite3 PATH reading the
// schema.
// Its output is discarded. It returns how it checked, and for a failure an
// error carrying the program's last stderr line. Sources it cannot check
// without a dump (command, mongodb, base backups) return "" and nil.
func CheckConnect(ctx context.Context, job *Job) (string, error) {
	if len(job.Argv) == 0 || job.Mode == ModeBase {
		return "", nil
	}
	var argv []string
	switch job.SourceType {
	case SourcePostgres:
		argv = insertAfterProgram(job.Argv, "--schema-only")
	case SourceMySQL:
		argv = insertAfterProgram(job.Argv, "--no-data")
	case SourceSQLite:
		path := job.SourceDatabase
		if path == "" && len(job.Argv) > 3 {
			path = job.Argv[3]
		}
		// Reading the schema, unlike 'select 1', fails on a file that is not a
		// database (sqlite3 opens any file lazily).
		argv = []string{job.Argv[0], "-bail", "-readonly", path, "select count(*) from sqlite_master"}
	default:
		return "", nil
	}
	how := strings.Join(RedactArgv(argv), " ")
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 64 << 10}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		last := lastLine(stderr.String())
		if ctx.Err() != nil {
			last = fmt.Sprintf("no answer within %s", ConnectTimeout)
		}
		if last == "" {
			last = err.Error()
		}
		prog := filepath.Base(argv[0])
		if !strings.HasPrefix(last, prog) {
			last = prog + ": " + last
		}
		return how, fmt.Errorf("job %s: %w: %s", job.Name, ErrConnect, redactString(last))
	}
	return how, nil
}

// insertAfterProgram is argv with opt right after the program name, so it
// comes before any positional argument.
func insertAfterProgram(argv []string, opt string) []string {
	out := append([]string{argv[0], opt}, argv[1:]...)
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// limitedBuffer keeps the last max bytes written to it (about: it trims
// once it holds twice that).
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b.Write(p)
	if l.b.Len() > 2*l.max {
		tail := append([]byte(nil), l.b.Bytes()[l.b.Len()-l.max:]...)
		l.b.Reset()
		l.b.Write(tail)
	}
	return len(p), nil
}
