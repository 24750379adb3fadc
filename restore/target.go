package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/putonly/putonly/internal/dumpinfo"
)

// Target types: the database servers a dump can be restored into by name.
const (
	TypePostgres = "postgres"
	TypeMySQL    = "mysql"
	TypeSQLite   = "sqlite"
	TypeMongoDB  = "mongodb"
)

// ErrTargetExists: the scratch database exists and holds tables.
var ErrTargetExists = errors.New("the target database exists and is not empty")

// ErrTargetIsSource: the target is named like the database the backup was
// taken from.
var ErrTargetIsSource = errors.New("the target is named like the source database")

// dbNameRE is what a scratch database may be called: no quoting needed in
// any dialect, so no name can smuggle SQL into the commands below.
var dbNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// CheckTargetName says whether name is a valid --into-database for typ.
func CheckTargetName(typ, name string) error {
	switch typ {
	case TypeSQLite:
		if name == "" {
			return errors.New("no file name")
		}
		return nil
	case TypePostgres, TypeMySQL, TypeMongoDB, "":
		if !dbNameRE.MatchString(name) {
			return fmt.Errorf("database name %q: use letters, digits and _ (at most 63, not starting with a digit)", name)
		}
		return nil
	}
	return fmt.Errorf("unknown database type %q: use postgres, mysql or sqlite", typ)
}

// NewDatabase is the target of --into-database NAME: a database of typ
// ("" until the manifest or the dump tells), or, for a NAME that is a path
// (it holds / or .) and no typ, an SQLite file. The name is checked for
// its type (CheckTargetName).
func NewDatabase(typ, name string) (*Database, error) {
	if typ == "" && strings.ContainsAny(name, "/.") {
		typ = TypeSQLite
	}
	if err := CheckTargetName(typ, name); err != nil {
		return nil, err
	}
	return &Database{Type: typ, Name: name}, nil
}

// Database is a scratch database a dump is restored into by name, with the
// server's own client tools (psql, createdb, pg_restore; mariadb or mysql;
// sqlite3), which take the connection from their environment (PGHOST,
// PGUSER, ~/.pgpass; ~/.my.cnf, MYSQL_HOST; nothing for sqlite).
type Database struct {
	Type string // postgres, mysql, sqlite (mongodb: not supported yet)
	Name string // database name, or the SQLite file
	Env  []string
	// created: Prepare made it, so Drop may remove it.
	created bool
}

func (d *Database) String() string {
	if d.Type == TypeSQLite {
		return "sqlite file " + d.Name
	}
	return d.Type + " database " + d.Name
}

// tool runs a client tool to completion and returns its stdout.
func (d *Database) tool(ctx context.Context, stdin string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = d.Env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 400 {
			msg = msg[:400] + " …"
		}
		return out.String(), fmt.Errorf("%s: %w: %s", argv[0], err, msg)
	}
	return out.String(), nil
}

func mysqlClient() string {
	if _, err := exec.LookPath("mariadb"); err == nil {
		return "mariadb"
	}
	return "mysql"
}

// psqlArgs: -X reads no ~/.psqlrc (a restore host's psqlrc could set
// anything), ON_ERROR_STOP=1 stops at the first failed statement, exit 3
// (https://www.postgresql.org/docs/15/app-psql.html). psql has no flag
// that turns its backslash commands off: the SQL guard's allowlist does.
func psqlArgs(db string) []string {
	return []string{"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-d", db}
}

// mysqlSandbox says the client takes --sandbox (MariaDB 10.5.25, 10.6.18,
// 10.11.8 and later): the client then refuses system (\!), tee (\T),
// pager with an argument (\P cmd) and source (\.), so a forged dump that
// the guard missed still cannot use them. It does not disable edit (\e)
// nor a bare pager: the guard refuses those
// (https://github.com/MariaDB/server/commit/2025597c0b, MDEV-21778);
// verified with mariadb 10.11 in cmd/putonly/hostile_e2e_test.go.
// Oracle's mysql client has no --sandbox.
var mysqlSandbox = sync.OnceValue(func() bool {
	out, _ := exec.Command(mysqlClient(), "--help").Output()
	return bytes.Contains(out, []byte("--sandbox"))
})

// mysqlArgs is the client reading a dump or our queries. Beyond --sandbox,
// --local-infile=0: LOAD DATA LOCAL INFILE would have the client send the
// server any file of the restore host it can read
// (https://mariadb.com/kb/en/mariadb-command-line-client/, --local-infile;
// https://dev.mysql.com/doc/refman/8.0/en/load-data-local-security.html).
func mysqlArgs(db string) []string {
	a := []string{mysqlClient(), "--batch", "--skip-column-names", "--local-infile=0"}
	if mysqlSandbox() {
		a = append(a, "--sandbox")
	}
	if db != "" {
		a = append(a, "--database="+db)
	}
	return a
}

// Prepare creates the scratch database. One that exists is used only when
// it holds no table (and is then not dropped afterwards).
func (d *Database) Prepare(ctx context.Context) error {
	if err := CheckTargetName(d.Type, d.Name); err != nil {
		return err
	}
	switch d.Type {
	case TypePostgres:
		out, err := d.tool(ctx, "select count(*) from pg_database where datname = '"+d.Name+"';\n", psqlArgs("postgres")...)
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		if strings.TrimSpace(out) == "0" {
			if _, err := d.tool(ctx, "", "createdb", "--", d.Name); err != nil {
				return fmt.Errorf("create %s: %w", d, err)
			}
			d.created = true
			return nil
		}
	case TypeMySQL:
		out, err := d.tool(ctx, "select count(*) from information_schema.schemata where schema_name = '"+d.Name+"';\n", mysqlArgs("")...)
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		if strings.TrimSpace(out) == "0" {
			if _, err := d.tool(ctx, "create database `"+d.Name+"`;\n", mysqlArgs("")...); err != nil {
				return fmt.Errorf("create %s: %w", d, err)
			}
			d.created = true
			return nil
		}
	case TypeSQLite:
		st, err := os.Stat(d.Name)
		if errors.Is(err, os.ErrNotExist) {
			f, err := os.OpenFile(d.Name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("create %s: %w", d, err)
			}
			f.Close()
			d.created = true
			return nil
		}
		if err != nil {
			return err
		}
		if st.Size() == 0 {
			return nil
		}
	case TypeMongoDB:
		return fmt.Errorf("--into-database for mongodb is not supported yet: use --into 'mongorestore --archive --nsFrom=\"SRC.*\" --nsTo=\"SCRATCH.*\"'")
	default:
		return fmt.Errorf("unknown database type %q", d.Type)
	}
	c, err := d.Inspect(ctx)
	if err != nil {
		return fmt.Errorf("check %s: %w", d, err)
	}
	if len(c.Tables) > 0 {
		return fmt.Errorf("%s: %w (%s)\n\thint: name a new scratch database, or drop this one first", d, ErrTargetExists, Count(len(c.Tables), "table"))
	}
	return nil
}

// Created says Prepare made the database (and Drop will remove it).
func (d *Database) Created() bool { return d.created }

// LoadArgv is the command that reads a dump of the given format on its
// stdin into the database.
func (d *Database) LoadArgv(info dumpinfo.Info) ([]string, error) {
	switch {
	case d.Type == TypePostgres && info.Format == dumpinfo.PGCustom:
		// psql reads the SQL that pg_restore -f - turns the archive into
		// (ConvertArgv), through the SQL guard: a forged archive's table
		// of contents holds any SQL (COPY ... TO PROGRAM in a COMMENT
		// entry ran with pg_restore -d; pg_restore -l does not show it).
		return psqlArgs(d.Name), nil
	case d.Type == TypePostgres && info.Format == dumpinfo.PGCluster:
		return nil, errors.New("a pg_dumpall dump restores a whole cluster, not one database: restore it into a scratch cluster with --into 'psql -h SCRATCH -d postgres' --allow-database-switch")
	case d.Type == TypePostgres && info.Format == dumpinfo.PGSQL:
		return psqlArgs(d.Name), nil
	case d.Type == TypeMySQL && info.Format == dumpinfo.MySQLSQL:
		return mysqlArgs(d.Name), nil
	case d.Type == TypeSQLite && info.Format == dumpinfo.SQLiteSQL:
		// -safe (sqlite3 3.37+): no .shell/.system/.output/.open/.load,
		// no ATTACH (so no VACUUM INTO), no writefile(), edit(),
		// load_extension() (https://sqlite.org/cli.html, "--safe"; before
		// 3.40.1 it missed the functions, CVE-2022-46908, which the guard
		// refuses by name anyway). sqlite3 .dump output needs none of them:
		// verified with a dump of FTS5, trigger and view in the e2e test.
		return []string{"sqlite3", "-safe", "-bail", d.Name}, nil
	}
	f := info.Format
	if f == "" {
		f = "not one putonly knows"
	}
	return nil, fmt.Errorf("the dump's format is %s: it cannot be restored into a %s", f, d)
}

// ConvertArgv is the command that turns a dump into SQL before LoadArgv's
// reads it, or nil. For a custom-format archive: pg_restore -f - writes the
// SQL pg_restore -d would send. No --create: the archive's DATABASE entry
// is then ignored and nothing names another database. --no-owner, --no-acl:
// the roles of the source need not exist here
// (https://www.postgresql.org/docs/15/app-pgrestore.html).
func (d *Database) ConvertArgv(info dumpinfo.Info) []string {
	if d.Type == TypePostgres && info.Format == dumpinfo.PGCustom {
		return []string{"pg_restore", "--no-owner", "--no-acl", "-f", "-"}
	}
	return nil
}

// Drop removes the scratch database, if Prepare created it.
func (d *Database) Drop(ctx context.Context) error {
	if !d.created {
		return nil
	}
	var err error
	switch d.Type {
	case TypePostgres:
		_, err = d.tool(ctx, "", "dropdb", "--if-exists", "--", d.Name)
	case TypeMySQL:
		_, err = d.tool(ctx, "drop database if exists `"+d.Name+"`;\n", mysqlArgs("")...)
	case TypeSQLite:
		for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
			if e := os.Remove(d.Name + suffix); e != nil && !errors.Is(e, os.ErrNotExist) {
				err = e
			}
		}
	}
	if err != nil {
		return fmt.Errorf("drop %s: %w", d, err)
	}
	d.created = false
	return nil
}

// SameAsSource says whether the target is named like the source database
// the manifest or the dump names.
func (d *Database) SameAsSource(source string) bool {
	if source == "" {
		return false
	}
	if d.Type == TypeSQLite {
		a, _ := filepath.Abs(d.Name)
		b, _ := filepath.Abs(source)
		return a == b || filepath.Base(a) == filepath.Base(b)
	}
	return strings.EqualFold(d.Name, source)
}

// TableCount is one table of a restored database.
type TableCount struct {
	Name  string `json:"name"` // schema.table for postgres
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes,omitempty"` // with its indexes; 0 where unknown
}

// Contents is what a restored database holds.
type Contents struct {
	Tables []TableCount `json:"tables"`
	Rows   int64        `json:"rows"`
	Bytes  int64        `json:"bytes"` // the whole database (file, for sqlite)
}

// Inspect asks the database what it holds: every table with its exact row
// count and size, and the database's size.
func (d *Database) Inspect(ctx context.Context) (Contents, error) {
	var c Contents
	var out string
	var err error
	switch d.Type {
	case TypePostgres:
		// One row per table, counted exactly with \gexec.
		q := `select format('select %L, count(*), pg_total_relation_size(%L) from %I.%I', n.nspname || '.' || c.relname, c.oid, n.nspname, c.relname)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
order by 1 \gexec
select '', -1, pg_database_size(current_database());
`
		out, err = d.tool(ctx, q, psqlArgs(d.Name)...)
	case TypeMySQL:
		var names string
		names, err = d.tool(ctx, "select table_name, data_length + index_length from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' order by 1;\n", mysqlArgs(d.Name)...)
		if err != nil {
			break
		}
		var q strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(names), "\n") {
			f := strings.Split(l, "\t")
			if len(f) != 2 {
				continue
			}
			t := strings.ReplaceAll(f[0], "`", "``")
			fmt.Fprintf(&q, "select '%s', count(*), %s from `%s`;\n", strings.ReplaceAll(strings.ReplaceAll(f[0], `\`, `\\`), "'", `\'`), digitsOr0(f[1]), t)
		}
		q.WriteString("select '', -1, coalesce(sum(data_length + index_length), 0) from information_schema.tables where table_schema = database();\n")
		out, err = d.tool(ctx, q.String(), mysqlArgs(d.Name)...)
	case TypeSQLite:
		var names string
		names, err = d.tool(ctx, "", "sqlite3", "-batch", "-readonly", d.Name, "select name from sqlite_schema where type = 'table' and name not like 'sqlite_%' order by 1;")
		if err != nil {
			break
		}
		var q strings.Builder
		for _, n := range strings.Split(strings.TrimSpace(names), "\n") {
			if n == "" {
				continue
			}
			fmt.Fprintf(&q, "select '%s', count(*), 0 from \"%s\";\n", strings.ReplaceAll(n, "'", "''"), strings.ReplaceAll(n, `"`, `""`))
		}
		out, err = d.tool(ctx, q.String(), "sqlite3", "-batch", "-readonly", "-separator", "\t", d.Name)
		if st, serr := os.Stat(d.Name); serr == nil {
			c.Bytes = st.Size()
		}
	default:
		return c, fmt.Errorf("cannot inspect a %s", d)
	}
	if err != nil {
		return c, fmt.Errorf("inspect %s: %w", d, err)
	}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			continue
		}
		rows, err1 := strconv.ParseInt(f[1], 10, 64)
		size, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return c, fmt.Errorf("inspect %s: unexpected line %q", d, l)
		}
		if rows < 0 {
			c.Bytes = size
			continue
		}
		c.Tables = append(c.Tables, TableCount{Name: f[0], Rows: rows, Bytes: size})
		c.Rows += rows
	}
	return c, nil
}

func digitsOr0(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "0"
	}
	return s
}

// process is a target command fed on its stdin: killed with its process
// group when the restore fails, so it never acts on a partial dump.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	name  string
}

func startProcess(ctx context.Context, argv []string, env []string, stdout, stderr io.Writer) (*process, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrTarget, argv[0], err)
	}
	return &process{cmd: cmd, stdin: stdin, name: strings.Join(argv, " ")}, nil
}

// kill stops the process group now, before its stdin is closed, so the
// target cannot first see the end of its input.
func (p *process) kill() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

func (p *process) wait() error {
	p.stdin.Close()
	return p.cmd.Wait()
}
