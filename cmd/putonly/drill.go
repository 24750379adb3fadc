package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "drill", order: 60, run: runDrill,
		summary: "drill --job J --into-database DB   restore the newest backup into a scratch database,\n                                             report its tables and rows, drop it (or --into COMMAND)"})
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
	var ids stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix`, e.g. db1/")
	job := fs.String("job", "", "job `name`: drill its newest backup")
	key := fs.String("key", "", "drill this backup `key` instead of the newest")
	fs.Var(&ids, "identity", "age identity `file`; repeat for several")
	into := fs.String("into", "", "scratch target `command` (sh -c) that reads the dump on stdin")
	intoDB := fs.String("into-database", "", "scratch database `name` (a file for sqlite) to create, restore into, inspect and drop")
	typ := fs.String("type", "", "database `type` for --into-database: postgres, mysql, sqlite (default: from the manifest or the dump)")
	keep := fs.Bool("keep", false, "keep the scratch database after the drill")
	allowSwitch := fs.Bool("allow-database-switch", false, "let the dump switch database (USE, \\connect, CREATE DATABASE): only for a scratch server")
	format := fs.String("format", "text", "report `format`: text or json")
	progress := fs.String("progress", "auto", "progress line on stderr: auto (on a terminal), always, never")
	noVerify := fs.Bool("no-verify", false, "do not require the manifest")
	textfile := fs.String("textfile", "", "also write the result as Prometheus metrics to this `file` (atomically)")
	timeout := fs.Duration("timeout", 12*time.Hour, "fail the drill (and kill the target) after this `duration`")
	if done, err := parseFlags(fs, drillUsage, args, stdout, stderr); done {
		return err
	}
	if b, k, ok := splitS3URL(*key); ok {
		*bucket, *key = b, k
	}
	switch {
	case *bucket == "":
		return usageError(fmt.Errorf("drill needs --bucket"), "")
	case *into == "" && *intoDB == "":
		return usageError(fmt.Errorf("drill needs --into-database NAME or --into COMMAND"), "for example --into-database shop_drill, or --into 'cat > /dev/null' to verify only")
	case *into != "" && *intoDB != "":
		return usageError(fmt.Errorf("--into and --into-database exclude each other"), "")
	case (*job == "") == (*key == ""):
		return usageError(fmt.Errorf("drill needs exactly one of --job and --key"), "")
	case *timeout <= 0:
		return usageError(fmt.Errorf("--timeout %s: must be positive", *timeout), "")
	case *format != "text" && *format != "json":
		return usageError(fmt.Errorf("--format %q: use text or json", *format), "")
	case *keep && *intoDB == "":
		return usageError(fmt.Errorf("--keep goes with --into-database"), "")
	case *typ != "" && *intoDB == "":
		return usageError(fmt.Errorf("--type goes with --into-database"), "")
	}
	db, err := scratchDatabase(*typ, *intoDB)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("drill timeout of %s reached", *timeout))
	defer cancel()
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	client, err := conn.Client(ctx)
	if err != nil {
		return failure(err)
	}
	name := *job
	if name == "" {
		if b, ok := restore.ParseKey(*key); ok {
			name = b.Job
		}
	}
	var fed atomic.Int64
	stop := startRestoreProgress("drill "+name, &fed, *progress, stderr)
	res, derr := restore.Drill(ctx, client, restore.DrillOptions{
		Bucket: *bucket, Prefix: *prefix, Job: *job, Key: *key, Identities: identities, NoVerify: *noVerify,
		Into: *into, Database: db, Keep: *keep, AllowSwitch: *allowSwitch,
		Stdout: stderr, Stderr: stderr, Progress: &fed,
	})
	stop()
	return reportDrill(stdout, name, *bucket, *prefix, *format, *textfile, res, derr)
}

// scratchDatabase is the --into-database target (nil without one).
func scratchDatabase(typ, intoDB string) (*restore.Database, error) {
	if intoDB == "" {
		return nil, nil
	}
	if err := restore.CheckTargetName(typ, intoDB); err != nil && !(typ == "" && strings.ContainsAny(intoDB, "/.")) {
		return nil, usageError(fmt.Errorf("--into-database: %w", err), "")
	}
	db := &restore.Database{Type: typ, Name: intoDB}
	if typ == "" && strings.ContainsAny(intoDB, "/.") {
		db.Type = restore.TypeSQLite // a path: an SQLite file
	}
	return db, nil
}

// reportDrill prints the drill's verdict (text or JSON), writes the
// textfile, and returns the drill's failure.
func reportDrill(stdout io.Writer, name, bucket, prefix, format, textfile string, res restore.DrillResult, derr error) error {
	rep := res.Report(name, bucket, derr)
	if format == "json" {
		if err := rep.WriteJSON(stdout); err != nil {
			return failure(err)
		}
	} else {
		if derr == nil {
			fmt.Fprintf(stdout, "drill %s: OK s3://%s/%s: %s; %s\n", name, bucket, rep.Key, verdict(res.Restore), res.Timings())
		} else {
			where := "s3://" + bucket + "/" + rep.Key
			if rep.Key == "" {
				// No backup was found: the error names the job and prefix.
				where = "s3://" + bucket + "/" + prefix
			}
			fmt.Fprintf(stdout, "drill %s: FAILED %s: %s; %s\n", name, where, oneLine(derr), res.Timings())
		}
		rep.WriteText(stdout)
	}
	if textfile != "" {
		var m bytes.Buffer
		_ = restore.WriteDrillPrometheus(&m, bucket, prefix, name, res, derr)
		if err := writeTextfile(textfile, m.Bytes()); err != nil {
			return failure(err)
		}
	}
	if derr != nil {
		return failure(derr)
	}
	return nil
}

// verdict says what was restored and how it was checked.
func verdict(res restore.Result) string {
	if m := res.Manifest; m != nil {
		return fmt.Sprintf("%d bytes, SHA-256 %s, match the manifest (dump by %s on %s, %s)",
			res.PlaintextBytes, res.SHA256, m.Tool+" "+m.Version, m.Host, m.Start.Format(time.RFC3339))
	}
	return fmt.Sprintf("%d bytes, SHA-256 %s, NOT verified (--no-verify)", res.PlaintextBytes, res.SHA256)
}
