package restorecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/putonly/putonly/restore"
)

// WALFetchOptions are what 'putonly wal-fetch' (PostgreSQL's
// restore_command) is told: the archive of Job, the WAL File to fetch and
// the Path to write it to.
type WALFetchOptions struct {
	Bucket, Prefix, Job string
	Identities          []string
	File, Path          string // restore_command's %f and %p
	// Cache keeps the archive's listing between calls ("" is under the
	// user's cache directory, keyed by Endpoint, bucket and job); a file
	// missing from a listing older than CacheAge lists again.
	Cache    string
	Endpoint string
	CacheAge time.Duration
	Pick     Picks

	Connect Connect
	Stderr  io.Writer
}

// Picks are --pick FILE=DIGEST: the content to use where different
// contents are archived under one WAL file name.
type Picks map[string]string

func (p Picks) String() string { return fmt.Sprint(map[string]string(p)) }

func (p Picks) Set(v string) error {
	file, digest, ok := strings.Cut(v, "=")
	if !ok || file == "" || len(digest) < 6 {
		return errors.New("want FILE=DIGEST, with at least 6 hex digits of the SHA-256 'putonly audit' shows")
	}
	p[file] = digest
	return nil
}

// WALFetch fetches one archived WAL file into Path, verified against the
// SHA-256 its object's name carries. A file the archive lacks is an error
// wrapping restore.ErrWALNotFound: the end of the archive for PostgreSQL,
// where any other error must stop the recovery.
func WALFetch(ctx context.Context, o WALFetchOptions) error {
	if o.Bucket == "" || o.Job == "" {
		return usagef("wal-fetch needs --bucket and --job")
	}
	if err := checkLocation(o.Bucket, o.Prefix); err != nil {
		return err
	}
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	start := time.Now()
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	path := o.Cache
	if path == "" {
		path = restore.DefaultWALCachePath(o.Endpoint, o.Bucket, o.Prefix+o.Job)
	}
	ix, _, err := restore.WALCache{Path: path, MaxAge: o.CacheAge}.Index(ctx, api, o.Bucket, o.Prefix, o.Job, o.File)
	if err != nil {
		return err
	}
	obj, err := ix.Lookup(o.File, o.Pick)
	if err != nil {
		return err
	}
	st, err := restore.FetchWAL(ctx, api, o.Bucket, obj, ids, o.Path)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "putonly: wal-fetch %s: %d bytes, sha256 %s verified, %s\n", o.File, st.PlaintextBytes, obj.SHA256[:12], time.Since(start).Round(time.Millisecond))
	return nil
}
