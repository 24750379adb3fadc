package main

import (
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
	register(&command{name: "restore", order: 40, run: runRestore,
		summary: "restore --bucket B --key K -o OUT  download, decrypt and verify a backup\n  putonly restore --latest --job J ...       the newest backup of a job\n  putonly restore ... --into-database DB     into a new database of the source's type"})
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
	conn.register(fs)
	var ids stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix` for --latest, e.g. db1/")
	key := fs.String("key", "", "object `key` of the backup (or s3://BUCKET/KEY)")
	latest := fs.Bool("latest", false, "restore the newest backup of --job")
	job := fs.String("job", "", "job `name` for --latest")
	fs.Var(&ids, "identity", "age identity `file` (age-keygen output or an unencrypted SSH key); repeat for several")
	out := fs.String("o", "", "output `file`, or - for stdout")
	force := fs.Bool("force", false, "replace an existing output file")
	noVerify := fs.Bool("no-verify", false, "restore without a manifest (age still authenticates the data; nothing checks it is the complete dump)")
	intoDB := fs.String("into-database", "", "restore into this new database `name` (a file for sqlite)")
	into := fs.String("into", "", "restore into the stdin of this `command` (sh -c)")
	typ := fs.String("type", "", "database `type` for --into-database: postgres, mysql, sqlite (default: from the manifest or the dump)")
	allowSwitch := fs.Bool("allow-database-switch", false, "let the dump switch database (USE, \\connect, CREATE DATABASE)")
	allowSource := fs.Bool("allow-source-name", false, "let --into-database be named like the source database (a restore onto a new server)")
	progress := fs.String("progress", "auto", "progress line on stderr: auto (on a terminal), always, never")
	if done, err := parseFlags(fs, restoreUsage, args, stdout, stderr); done {
		return err
	}
	if *into != "" || *intoDB != "" {
		return restoreInto(ctx, &conn, ids, *bucket, *prefix, *key, *latest, *job, *into, *intoDB, *typ, *noVerify, *allowSwitch, *allowSource, *progress, *out, stdout, stderr)
	}
	if b, k, ok := splitS3URL(*key); ok {
		if *bucket != "" && *bucket != b {
			return usageError(fmt.Errorf("--bucket %s and --key %s disagree", *bucket, *key), "")
		}
		*bucket, *key = b, k
	}
	switch {
	case *bucket == "":
		return usageError(fmt.Errorf("restore needs --bucket"), "")
	case *latest == (*key != ""):
		return usageError(fmt.Errorf("restore needs exactly one of --key and --latest"), "putonly list --bucket B shows the keys")
	case *latest && *job == "":
		return usageError(fmt.Errorf("--latest needs --job"), "")
	case !*latest && *job != "":
		return usageError(fmt.Errorf("--job goes with --latest"), "")
	}
	if *out == "" {
		if isTerminal(stdout) {
			return usageError(fmt.Errorf("no -o and stdout is a terminal"), "write to a file with -o FILE, or pipe: -o - | pg_restore ...")
		}
		*out = "-"
	}
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	o := restore.Options{Bucket: *bucket, Key: *key, Identities: identities, NoVerify: *noVerify}
	return restoreTo(ctx, &conn, o, *latest, *prefix, *job, *out, *force, *progress, stdout, stderr)
}

// restoreTo restores o.Key (with latest, the newest backup of job) to out,
// a file written atomically or "-" for stdout.
func restoreTo(ctx context.Context, conn *connFlags, o restore.Options, latest bool, prefix, job, out string, force bool, progress string, stdout, stderr io.Writer) error {
	// The output file is claimed before any request, so an existing file
	// fails at once rather than after the listing.
	var af *restore.AtomicFile
	if out != "-" {
		var err error
		if af, err = restore.CreateAtomic(out, force); err != nil {
			return usageError(err, "")
		}
		defer af.Abort()
	}
	client, err := conn.client(ctx)
	if err != nil {
		return failure(err)
	}
	if latest {
		b, err := restore.Latest(ctx, client, o.Bucket, prefix, job)
		if err != nil {
			return failure(err)
		}
		o.Key = b.Key
	}
	start := time.Now()
	var fed atomic.Int64
	stop := startRestoreProgress("restore", &fed, progress, stderr)
	defer stop()
	if af == nil {
		res, err := restore.Restore(ctx, client, o, &countingWriter{w: stdout, n: &fed})
		stop()
		if err != nil && res.PlaintextBytes > 0 {
			err = fmt.Errorf("%w\n\tthe %d bytes already written to stdout are incomplete or wrong: discard them", err, res.PlaintextBytes)
		}
		if err != nil {
			return failure(err)
		}
		fmt.Fprintf(stderr, "putonly: restored s3://%s/%s to stdout: %s, %s\n", o.Bucket, o.Key, verdict(res), rate(res.PlaintextBytes, time.Since(start)))
		return nil
	}
	res, err := restore.Restore(ctx, client, o, &countingWriter{w: af, n: &fed})
	stop()
	if err != nil {
		return failure(err)
	}
	if err := af.Commit(); err != nil {
		return failure(err)
	}
	fmt.Fprintf(stderr, "putonly: restored s3://%s/%s to %s: %s, %s\n",
		o.Bucket, o.Key, out, verdict(res), rate(res.PlaintextBytes, time.Since(start)))
	return nil
}

func outName(out string) string {
	if out == "-" {
		return "stdout"
	}
	return out
}

// verdict says what was restored and how it was checked.
func verdict(res restore.Result) string {
	if m := res.Manifest; m != nil {
		return fmt.Sprintf("%d bytes, SHA-256 %s, match the manifest (dump by %s on %s, %s)",
			res.PlaintextBytes, res.SHA256, m.Tool+" "+m.Version, m.Host, m.Start.Format(time.RFC3339))
	}
	return fmt.Sprintf("%d bytes, SHA-256 %s, NOT verified (--no-verify)", res.PlaintextBytes, res.SHA256)
}

// restoreInto is restore --into-database / --into.
func restoreInto(ctx context.Context, conn *connFlags, ids stringList, bucket, prefix, key string, latest bool, job, into, intoDB, typ string,
	noVerify, allowSwitch, allowSource bool, progress, out string, stdout, stderr io.Writer) error {
	if b, k, ok := splitS3URL(key); ok {
		bucket, key = b, k
	}
	switch {
	case bucket == "":
		return usageError(fmt.Errorf("restore needs --bucket"), "")
	case latest == (key != ""):
		return usageError(fmt.Errorf("restore needs exactly one of --key and --latest"), "putonly list --bucket B shows the keys")
	case latest && job == "":
		return usageError(fmt.Errorf("--latest needs --job"), "")
	case into != "" && intoDB != "":
		return usageError(fmt.Errorf("--into and --into-database exclude each other"), "")
	case out != "":
		return usageError(fmt.Errorf("-o goes without --into and --into-database"), "")
	case typ != "" && intoDB == "":
		return usageError(fmt.Errorf("--type goes with --into-database"), "")
	}
	var db *restore.Database
	if intoDB != "" {
		db = &restore.Database{Type: typ, Name: intoDB}
		if typ == "" && strings.ContainsAny(intoDB, "/.") {
			db.Type = restore.TypeSQLite
		}
		if err := restore.CheckTargetName(db.Type, intoDB); err != nil {
			return usageError(fmt.Errorf("--into-database: %w", err), "")
		}
	}
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	client, err := conn.client(ctx)
	if err != nil {
		return failure(err)
	}
	if latest {
		b, err := restore.Latest(ctx, client, bucket, prefix, job)
		if err != nil {
			return failure(err)
		}
		key = b.Key
	}
	var fed atomic.Int64
	stop := startRestoreProgress("restore", &fed, progress, stderr)
	start := time.Now()
	res, contents, err := restore.IntoDatabase(ctx, client, restore.LoadOptions{
		Bucket: bucket, Key: key, Identities: identities, NoVerify: noVerify,
		Database: db, Into: into, AllowSwitch: allowSwitch, AllowSourceName: allowSource,
		Stdout: stderr, Stderr: stderr, Progress: &fed,
	})
	stop()
	if err != nil {
		return failure(err)
	}
	target := into
	if db != nil {
		target = db.String()
	}
	fmt.Fprintf(stderr, "putonly: restored s3://%s/%s into %s: %s, %s\n", bucket, key, target, verdict(res.Restore), rate(res.Restore.PlaintextBytes, time.Since(start)))
	if contents != nil {
		fmt.Fprintf(stderr, "putonly: %s holds %s, %s\n", target, restore.Count(len(contents.Tables), "table"), restore.Count(contents.Rows, "row"))
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
