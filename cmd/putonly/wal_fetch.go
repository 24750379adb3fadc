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
	app.Register(&cli.Command{Name: "wal-fetch", Order: 52, Run: runWALFetch,
		Summary: "wal-fetch --bucket B --job J --identity FILE %f %p   fetch one WAL file (restore_command)"})
}

const walFetchUsage = `Usage:
  putonly wal-fetch --bucket B [--prefix P] --job J --identity FILE [connection flags] FILE PATH

For PostgreSQL's restore_command, on the restore host with read credentials
(s3:ListBucket and s3:GetObject) and the age identity; 'putonly pitr' writes
it for you:

  restore_command = 'putonly wal-fetch --bucket B --prefix P --job shop --identity /root/key.txt %f %p'

Downloads the object archiving WAL file FILE, decrypts and decompresses it
into PATH, and checks its SHA-256 against the one its name carries. One
listing of the archive is kept in --cache for the whole recovery, so each
segment costs one GetObject; a file the listing lacks lists again when the
listing is older than --cache-age.

Exit status: 0 fetched and verified; 1 the archive has no such file (what
PostgreSQL expects at the end of the archive); 126 any other failure
(network, credentials, wrong identity, corrupt object, different contents
under one name): above 125, so PostgreSQL stops the recovery instead of
taking the error for the end of the archive and promoting too early.

Flags:
`

// walFetchFatal is wal-fetch's exit status for an error that must stop the
// recovery: PostgreSQL treats a restore_command exit status above 125 as
// fatal and any other failure as "no such file" (xlogarchive.c,
// RestoreArchivedFile; https://www.postgresql.org/docs/15/continuous-archiving.html:
// "if the command was terminated by a signal ... or an error by the shell
// (such as command not found), then recovery will abort").
const walFetchFatal = 126

func runWALFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly wal-fetch", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	o := restorecmd.WALFetchOptions{Pick: restorecmd.Picks{}, Connect: reader(&conn), Stderr: stderr}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix` of the job, e.g. db1/")
	fs.StringVar(&o.Job, "job", "", "the `job` that archived the WAL (wal-push --job)")
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file`; repeat for several")
	fs.StringVar(&o.Cache, "cache", "", "`file` keeping the archive's listing between calls (default: under the user's cache directory)")
	fs.DurationVar(&o.CacheAge, "cache-age", restore.DefaultWALCacheAge, "list again when a file is missing from a listing older than this")
	fs.Var(o.Pick, "pick", "`FILE=DIGEST`: use this content when different contents are archived under FILE; repeat")
	pos, done, err := cli.ParseArgs(fs, walFetchUsage, args, 2, stdout, stderr)
	switch {
	case done && err != nil:
		return &exitError{Code: walFetchFatal, Err: err}
	case done:
		return nil
	case len(pos) != 2:
		return &exitError{Code: walFetchFatal, Err: errors.New("wal-fetch needs FILE and PATH (restore_command's %f %p)")}
	}
	o.File, o.Path, o.Endpoint = pos[0], pos[1], conn.Endpoint
	err = restorecmd.WALFetch(ctx, o)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, restore.ErrWALNotFound):
		return &exitError{Code: 1, Err: err}
	}
	return &exitError{Code: walFetchFatal, Err: err}
}
