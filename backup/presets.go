package backup

import (
	"os/exec"
	"strings"
)

// Source types.
const (
	SourcePostgres = "postgres"
	SourceMySQL    = "mysql"
	SourceMongoDB  = "mongodb"
	SourceSQLite   = "sqlite"
	SourceCommand  = "command"
)

// argv turns a source into the command to run. Presets take connection
// details from the tools' own environment and option files (PGHOST,
// PGPASSFILE, ~/.my.cnf, ...) plus Args, so no password needs to be on the
// command line or in the putonly config.
func (s SourceConfig) argv() ([]string, error) {
	bin, bad := s.bin, fieldError
	var argv []string
	var err error
	switch s.Type {
	case SourcePostgres:
		if argv, err = s.postgresArgv(); err != nil {
			return nil, err
		}
	case SourceMySQL:
		if argv, err = s.mysqlArgv(); err != nil {
			return nil, err
		}
	case SourceMongoDB:
		// --archive without a file name streams to stdout.
		argv = []string{bin("mongodump"), "--archive"}
		if s.URI != "" {
			argv = append(argv, "--uri="+s.URI)
		}
		if s.Database != "" {
			argv = append(argv, "--db="+s.Database)
		}
	case SourceSQLite:
		if s.Path == "" {
			return nil, bad(".path", "", "no database file", "set path: /var/lib/app/app.db")
		}
		// .dump runs inside one read transaction, so the SQL is a
		// consistent snapshot of a live database (unlike copying the file,
		// which can catch a half-written page or miss the WAL). The
		// database is opened read-only. A corrupt database still exits 0:
		// endMarker catches that.
		argv = []string{bin("sqlite3"), "-bail", "-readonly", s.Path, ".dump"}
	case SourceCommand:
		if len(s.Command) == 0 {
			return nil, bad(".command", "", "no command", "set command: [pg_dump, -Fc, shop] (argv, no shell; write [sh, -c, '...'] for one)")
		}
		if len(s.Args) > 0 {
			return nil, bad(".args", redactString(strings.Join(s.Args, " ")), "args are for presets", "put every argument in command")
		}
		return append([]string(nil), s.Command...), nil
	case "":
		return nil, bad(".type", "", "no source type", "set type: postgres, mysql, mongodb, sqlite or command")
	default:
		return nil, bad(".type", s.Type, "unknown source type", "use postgres, mysql, mongodb, sqlite or command")
	}
	if s.Mode != "" && s.Type != SourcePostgres {
		return nil, bad(".mode", s.Mode, "mode is only for type: postgres", "remove it")
	}
	if len(s.Command) > 0 {
		return nil, bad(".command", redactString(strings.Join(s.Command, " ")), "command is only for type: command", "use args to add arguments to a preset")
	}
	return append(argv, s.Args...), nil
}

// bin is the dump program: the binary setting, else def.
func (s SourceConfig) bin(def string) string {
	if s.Binary != "" {
		return s.Binary
	}
	return def
}

// postgresArgv is the preset of type postgres: pg_dump, pg_dumpall or
// pg_basebackup.
func (s SourceConfig) postgresArgv() ([]string, error) {
	bin, bad := s.bin, fieldError
	var argv []string
	switch s.Mode {
	case "", "dump":
	case ModeBase:
		if s.All || s.Database != "" {
			return nil, bad(".mode", s.Mode, "a base backup copies the whole cluster, not one database", "remove database and all (pg_basebackup connects with PGHOST, PGPORT, PGUSER, or args: [-d, 'host=... user=...'])")
		}
	default:
		return nil, bad(".mode", s.Mode, "unknown postgres mode", "use dump (pg_dump, the default) or base (pg_basebackup, for point-in-time recovery with wal-push)")
	}
	if s.Mode == ModeBase {
		argv = baseBackupArgv(bin("pg_basebackup"))
	} else if s.All {
		if s.Database != "" {
			return nil, bad(".database", s.Database, "set together with all: true", "pg_dumpall dumps every database; remove one of them")
		}
		// pg_dumpall writes plain SQL only; it includes roles and
		// tablespaces, which pg_dump -Fc does not.
		argv = []string{bin("pg_dumpall")}
	} else {
		if s.Database == "" {
			return nil, bad(".database", "", "no database", "set database: NAME, or all: true for pg_dumpall")
		}
		// Custom format: compressed by us, restorable selectively by
		// pg_restore; -Z0 leaves compression to putonly's zstd stage.
		argv = []string{bin("pg_dump"), "--format=custom", "--compress=0", "--dbname=" + s.Database}
	}
	return argv, nil
}

// mysqlArgv is the preset of type mysql: mariadb-dump where installed,
// else mysqldump.
func (s SourceConfig) mysqlArgv() ([]string, error) {
	bin, bad := s.bin, fieldError
	def := "mysqldump"
	if _, err := exec.LookPath("mariadb-dump"); err == nil {
		def = "mariadb-dump"
	}
	// --single-transaction gives a consistent snapshot of InnoDB tables
	// without locking; routines, triggers and events are part of a
	// restorable database.
	argv := []string{bin(def), "--single-transaction", "--routines", "--triggers", "--events", "--hex-blob"}
	switch {
	case s.All && s.Database != "":
		return nil, bad(".database", s.Database, "set together with all: true", "remove one of them")
	case s.All:
		argv = append(argv, "--all-databases")
	case s.Database != "":
		// The database as the last argument, not --databases: the
		// dump then names no database (no CREATE DATABASE, no USE), so
		// it restores into whichever database its client is given
		// and cannot write over the source on another server.
		argv = append(argv, s.Database)
	default:
		return nil, bad(".database", "", "no database", "set database: NAME, or all: true")
	}
	return argv, nil
}

// ext is the extension of the dump layer in the object name.
func (s SourceConfig) ext() string {
	if s.Ext != "" {
		return strings.TrimPrefix(s.Ext, ".")
	}
	switch s.Type {
	case SourcePostgres:
		if s.Mode == ModeBase {
			return "tar"
		}
		if s.All {
			return "sql"
		}
		return "dump"
	case SourceMySQL, SourceSQLite:
		return "sql"
	case SourceMongoDB:
		return "archive"
	}
	return "dump"
}

// endMarker is how a complete dump of the preset ends, where the tool can
// exit 0 after a partial dump: sqlite3 .dump on a corrupt database writes
// what it could read, then "ROLLBACK; -- due to errors" instead of
// "COMMIT;", and exits 0; restored, it leaves an empty database.
func (s SourceConfig) endMarker() string {
	if s.Type == SourceSQLite {
		return "COMMIT;"
	}
	return ""
}

// database is what the source dumps, for the manifest: the database name,
// or the SQLite file.
func (s SourceConfig) database() string {
	if s.Type == SourceSQLite {
		return s.Path
	}
	return s.Database
}
