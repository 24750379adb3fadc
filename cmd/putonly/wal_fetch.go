package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "wal-fetch", order: 52, run: runWALFetch,
		summary: "wal-fetch --bucket B --job J --identity FILE %f %p   fetch one WAL file (restore_command)"})
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

type picks map[string]string

func (p picks) String() string { return fmt.Sprint(map[string]string(p)) }
func (p picks) Set(v string) error {
	file, digest, ok := strings.Cut(v, "=")
	if !ok || file == "" || len(digest) < 6 {
		return errors.New("want FILE=DIGEST, with at least 6 hex digits of the SHA-256 'putonly audit' shows")
	}
	p[file] = digest
	return nil
}

func runWALFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly wal-fetch", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	var ids stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix` of the job, e.g. db1/")
	job := fs.String("job", "", "the `job` that archived the WAL (wal-push --job)")
	fs.Var(&ids, "identity", "age identity `file`; repeat for several")
	cache := fs.String("cache", "", "`file` keeping the archive's listing between calls (default: under the user's cache directory)")
	cacheAge := fs.Duration("cache-age", restore.DefaultWALCacheAge, "list again when a file is missing from a listing older than this")
	pick := picks{}
	fs.Var(pick, "pick", "`FILE=DIGEST`: use this content when different contents are archived under FILE; repeat")
	pos, done, err := parseFlagsArgs(fs, walFetchUsage, args, 2, stdout, stderr)
	if done {
		if err != nil {
			return &exitError{Code: walFetchFatal, Err: err}
		}
		return nil
	}
	fatal := func(err error) error { return &exitError{Code: walFetchFatal, Err: err} }
	switch {
	case len(pos) != 2:
		return fatal(errors.New("wal-fetch needs FILE and PATH (restore_command's %f %p)"))
	case *bucket == "" || *job == "":
		return fatal(errors.New("wal-fetch needs --bucket and --job"))
	}
	identities, err := identities(ids)
	if err != nil {
		return fatal(err)
	}
	start := time.Now()
	client, err := conn.Client(ctx)
	if err != nil {
		return fatal(err)
	}
	path := *cache
	if path == "" {
		path = restore.DefaultWALCachePath(conn.Endpoint, *bucket, *prefix+*job)
	}
	ix, _, err := restore.WALCache{Path: path, MaxAge: *cacheAge}.Index(ctx, client, *bucket, *prefix, *job, pos[0])
	if err != nil {
		return fatal(err)
	}
	obj, err := ix.Lookup(pos[0], pick)
	if errors.Is(err, restore.ErrWALNotFound) {
		return &exitError{Code: 1, Err: err}
	}
	if err != nil {
		return fatal(err)
	}
	st, err := restore.FetchWAL(ctx, client, *bucket, obj, identities, pos[1])
	if err != nil {
		return fatal(err)
	}
	fmt.Fprintf(stderr, "putonly: wal-fetch %s: %d bytes, sha256 %s verified, %s\n", pos[0], st.PlaintextBytes, obj.SHA256[:12], time.Since(start).Round(time.Millisecond))
	return nil
}
