package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
	"github.com/putonly/putonly/restore"
)

func init() {
	app.Register(&cli.Command{Name: "restore", Order: 40, Run: runRestore,
		Summary: "restore --bucket B --key K -o OUT  download, decrypt and verify a backup\n  putonly restore --latest --job J ...       the newest backup of a job\n  putonly restore ... --into-database DB     into a new database of the source's type"})
}

const restoreUsage = `Usage:
  putonly restore --bucket B --key KEY --identity FILE [-o OUT | -o -] [connection flags]
  putonly restore --bucket B [--prefix P] --latest --job J --identity FILE [-o OUT | -o -]
  putonly restore ... --into-database NAME [--type T] | --into COMMAND

Downloads a backup, decrypts it with the age identity, decompresses it when
its key ends in .zst.age, and checks the plaintext's size and SHA-256
against the backup's manifest. It streams: memory stays bounded whatever the
size, and nothing but the output is written to disk.

With -o FILE the output is written to a temporary file in the same directory
and renamed to FILE only when everything verified: on any failure there is
no FILE, never an empty or partial one. An existing FILE is not replaced
without --force.

With -o - (or no -o, when stdout is not a terminal) the plaintext streams to
stdout as it is decrypted, so a pipe into pg_restore starts at once; a
failure is then reported at the end, with exit status 1, and the consumer
has read unverified data: prefer -o FILE, or a drill, to prove a backup.

With --into-database NAME the backup is restored into a new database of
the source's type (from the manifest or the dump; --type overrides):
postgres: createdb, then psql -X -v ON_ERROR_STOP=1 (a custom-format
archive turned into SQL by pg_restore --no-owner --no-acl -f -);
mysql/mariadb: CREATE DATABASE and the client (--sandbox
--local-infile=0); sqlite: NAME is a new file (sqlite3 -safe). It refuses a database that exists and
holds tables, and one named like the source database unless
--allow-source-name (a restore onto a new server). On failure the
database it created is dropped again. With --into COMMAND the dump is fed
to COMMAND's stdin (sh -c). Either way, an SQL dump that would switch
database (USE, \connect, CREATE DATABASE, ...) is refused before its
client reads the statement, unless --allow-database-switch. A backup may
be forged by a compromised database host, so the same check refuses,
switch allowed or not, every client command the dump tools do not write
(psql \!, \o, \g |cmd, \i, \copy; mysql system, source, tee, pager;
sqlite3 .shell, .output, ...) and the SQL that runs programs or touches
files (COPY ... PROGRAM, lo_export, ALTER SYSTEM, LANGUAGE c, INTO
OUTFILE, LOAD DATA, writefile(), VACUUM INTO, ...). COMMAND sees only
that guarded stream (a custom-format archive goes to it unread: prefer
--into-database). Restore as a database role that is not a superuser:
SQL inside function bodies is not read. The tools take the connection
from their environment (PGHOST, ~/.pgpass, ~/.my.cnf, ...).

KEY may be s3://BUCKET/KEY. Run it on a trusted machine with read
credentials (s3:GetObject, and s3:ListBucket for --latest): the backup key
can do neither.

Exit status: 0 restored and verified; 1 the restore failed (no such backup,
wrong identity, corrupt or truncated object, manifest mismatch); 2 bad flags.

Flags:
`

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly restore", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	o := restorecmd.RestoreOptions{Connect: reader(&conn), Stdout: stdout, Stderr: stderr}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix` for --latest, e.g. db1/")
	fs.StringVar(&o.Key, "key", "", "object `key` of the backup (or s3://BUCKET/KEY)")
	fs.BoolVar(&o.Latest, "latest", false, "restore the newest backup of --job")
	fs.StringVar(&o.Job, "job", "", "job `name` for --latest")
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file` (age-keygen output or an unencrypted SSH key); repeat for several")
	fs.StringVar(&o.Out, "o", "", "output `file`, or - for stdout")
	fs.BoolVar(&o.Force, "force", false, "replace an existing output file")
	fs.BoolVar(&o.NoVerify, "no-verify", false, "restore without a manifest (age still authenticates the data; nothing checks it is the complete dump)")
	fs.StringVar(&o.IntoDatabase, "into-database", "", "restore into this new database `name` (a file for sqlite)")
	fs.StringVar(&o.Into, "into", "", "restore into the stdin of this `command` (sh -c)")
	fs.StringVar(&o.Type, "type", "", "database `type` for --into-database: postgres, mysql, sqlite (default: from the manifest or the dump)")
	fs.BoolVar(&o.AllowSwitch, "allow-database-switch", false, "let the dump switch database (USE, \\connect, CREATE DATABASE)")
	fs.BoolVar(&o.AllowSourceName, "allow-source-name", false, "let --into-database be named like the source database (a restore onto a new server)")
	fs.StringVar(&o.Progress, "progress", "auto", "progress line on stderr: auto (on a terminal), always, never")
	if done, err := parseFlags(fs, restoreUsage, args, stdout, stderr); done {
		return err
	}
	return readSideExit(restorecmd.Restore(ctx, o))
}

// reader is the Connect of the restore side's commands.
func reader(c *connFlags) func(context.Context) (restore.API, error) {
	return func(ctx context.Context) (restore.API, error) {
		client, err := c.Client(ctx)
		if err != nil {
			return nil, err
		}
		return client, nil
	}
}

// readSideExit maps an error of internal/restorecmd to its exit status:
// 2 for bad input, 1 (with a hint where one helps) for a failure.
func readSideExit(err error) error {
	var ue *cli.UsageError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue):
		return &exitError{Code: 2, Err: ue.Err}
	}
	return failure(err)
}
