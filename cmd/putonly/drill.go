package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
)

func init() {
	app.Register(&cli.Command{Name: "drill", Order: 60, Run: runDrill,
		Summary: "drill --job J --into-database DB   restore the newest backup into a scratch database,\n                                             report its tables and rows, drop it (or --into COMMAND)"})
}

const drillUsage = `Usage:
  putonly drill --bucket B [--prefix P] --job J --identity FILE --into-database NAME [--keep] [--format json]
  putonly drill --bucket B [--prefix P] --job J --identity FILE --into COMMAND

A restore that was never tried is not a backup. drill restores the newest
backup of the job (or --key) into a scratch target and reports what it
holds, with timings.

With --into-database NAME, drill creates the scratch database (postgres:
createdb, then psql -X -v ON_ERROR_STOP=1, fed a custom-format dump as
the SQL pg_restore --no-owner --no-acl -f - writes; mysql/mariadb: CREATE
DATABASE, then the client with --sandbox --local-infile=0; sqlite: NAME
is a new file, loaded by sqlite3 -safe), restores into it,
asks it what it holds (every table, its exact row count and size), and
drops it afterwards unless --keep. The database type comes from the
backup's manifest or the dump itself (--type overrides). It refuses a
database that exists and holds tables, and one named like the backup's
source database. The tools take the connection from their environment
(PGHOST, PGUSER, ~/.pgpass; ~/.my.cnf, MYSQL_HOST).

With --into COMMAND the dump is fed to the stdin of COMMAND (run with
sh -c); only the dump's own table list is reported.

Before any SQL dump reaches its target, drill checks, statement by
statement, that it stays in the database it is given: a USE, \connect,
CREATE/DROP/ALTER DATABASE, CREATE ROLE, ATTACH or a client command that
switches database fails the drill before the target reads it, and the
target is killed (--allow-database-switch lets it through, for a scratch
server that may be written anywhere). A backup may be forged by a
compromised database host: every client command the dump tools do not
write (psql \!, \o, \i, \copy; mysql system, source, tee, pager;
sqlite3 .shell, .output, ...) and the SQL that runs programs or touches
files (COPY ... PROGRAM, lo_export, ALTER SYSTEM, LANGUAGE c, INTO
OUTFILE, LOAD DATA, writefile(), VACUUM INTO, ...) is refused the same
way, switch allowed or not; an --into COMMAND sees only that guarded
stream. Drill as a database role that is not a superuser: SQL inside
function bodies is not read.

The drill passes only when the download, the decryption, the check against
the manifest and the target all succeed, and the scratch database holds
every table the dump lists (and the rows of a plain PostgreSQL dump's
COPY blocks) and at least one row. When the backup turns out bad, the
target is killed before it sees the end of its input. The target's output
goes to stderr.

Examples:
  putonly drill --bucket acme-backups --prefix db1/ --job shop --identity key.txt --into-database shop_drill
  putonly drill --bucket acme-backups --prefix db1/ --job wiki --identity key.txt --into-database wiki_drill --format json
  putonly drill --bucket acme-backups --prefix db1/ --job app --identity key.txt --into-database /tmp/app-drill.db
  putonly drill ... --into 'cat > /dev/null'     # download, decrypt and verify only

A drill that outlives --timeout (12h) fails, and its target is killed; the
scratch database is still dropped. With --textfile, the result is also
written for node_exporter's textfile collector (putonly_drill_ok,
putonly_drill_last_success_timestamp_seconds, putonly_drill_restored_rows,
...). On a terminal, a progress line shows bytes, rate and elapsed time.

Exit status: 0 OK; 1 FAILED; 2 bad flags.

Flags:
`

func runDrill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly drill", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	o := restorecmd.DrillOptions{Connect: reader(&conn), Stdout: stdout, Stderr: stderr}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix`, e.g. db1/")
	fs.StringVar(&o.Job, "job", "", "job `name`: drill its newest backup")
	fs.StringVar(&o.Key, "key", "", "drill this backup `key` instead of the newest")
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file`; repeat for several")
	fs.StringVar(&o.Into, "into", "", "scratch target `command` (sh -c) that reads the dump on stdin")
	fs.StringVar(&o.IntoDatabase, "into-database", "", "scratch database `name` (a file for sqlite) to create, restore into, inspect and drop")
	fs.StringVar(&o.Type, "type", "", "database `type` for --into-database: postgres, mysql, sqlite (default: from the manifest or the dump)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the scratch database after the drill")
	fs.BoolVar(&o.AllowSwitch, "allow-database-switch", false, "let the dump switch database (USE, \\connect, CREATE DATABASE): only for a scratch server")
	fs.StringVar(&o.Format, "format", "text", "report `format`: text or json")
	fs.StringVar(&o.Progress, "progress", "auto", "progress line on stderr: auto (on a terminal), always, never")
	fs.BoolVar(&o.NoVerify, "no-verify", false, "do not require the manifest")
	fs.StringVar(&o.Textfile, "textfile", "", "also write the result as Prometheus metrics to this `file` (atomically)")
	fs.DurationVar(&o.Timeout, "timeout", 12*time.Hour, "fail the drill (and kill the target) after this `duration`")
	if done, err := parseFlags(fs, drillUsage, args, stdout, stderr); done {
		return err
	}
	return readSideExit(restorecmd.Drill(ctx, o))
}
