// Package restorecmd runs the restore side's commands of putonly
// (restore, decrypt, list, drill, wal-fetch, pitr, audit) on a trusted
// machine with read credentials: each takes its options, finds, opens and
// checks what it needs through package restore, prints what the command
// prints, and returns an error. A *cli.UsageError is bad input (exit status
// 2); any other error is the operation's failure.
package restorecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/atomicfile"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/s3name"
	"github.com/putonly/putonly/restore"
)

// usage is bad input (a cli.UsageError: exit status 2), with what to do
// instead on a line of its own.
func usage(err error, hint string) error { return cli.Usage(cli.Hint(err, hint)) }

func usagef(format string, args ...any) error { return usage(fmt.Errorf(format, args...), "") }

// checkLocation refuses, before any request, a --bucket or --prefix the
// agent refuses to write to (the same rules, internal/s3name): a prefix
// without its trailing / is joined to the job name (db1 + shop reads
// db1shop/), so restore, drill and audit found no backup and blamed the
// bucket, and S3 answered a malformed bucket name with a 400 that exited 1.
func checkLocation(bucket, prefix string) error {
	if err := s3name.CheckBucket(bucket); err != nil {
		return nameUsage("--bucket", bucket, err)
	}
	if err := s3name.CheckPrefix(prefix); err != nil {
		return nameUsage("--prefix", prefix, err)
	}
	return nil
}

// nameUsage is a refused name, with the fix s3name gives for it.
func nameUsage(flag, value string, err error) error {
	var p *s3name.Problem
	fix := ""
	if errors.As(err, &p) {
		fix = p.Fix
	}
	return usage(fmt.Errorf("%s %q: %w", flag, value, err), fix)
}

// Connect opens the read side of the bucket. The commands call it once
// their input is checked, so bad flags fail before any request.
type Connect func(ctx context.Context) (restore.API, error)

// loadIdentities loads the --identity files.
func loadIdentities(files []string) ([]age.Identity, error) {
	if len(files) == 0 {
		return nil, usage(errors.New("no --identity"), "pass the age identity file the backups are encrypted to (age-keygen -y FILE prints its recipient)")
	}
	ids, err := restore.LoadIdentities(files...)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usage(err, "check the path: --identity is the age identity file the backups are encrypted to, kept on the restore host (the database host never has it)")
	}
	if err != nil {
		return nil, usage(err, "")
	}
	return ids, nil
}

// checkSource reads the backup's location for cmd (restore, drill): an
// s3:// --key (keyURL), a bucket that must be given, and a bucket and
// prefix S3 would accept (checkLocation).
func checkSource(cmd string, bucket, key *string, prefix string) error {
	if err := keyURL(bucket, key); err != nil {
		return err
	}
	if *bucket == "" {
		return usagef("%s needs --bucket", cmd)
	}
	return checkLocation(*bucket, prefix)
}

// keyURL accepts s3://bucket/key for --key: it sets *bucket and *key from
// it, and refuses a --bucket that names another bucket.
func keyURL(bucket, key *string) error {
	rest, found := strings.CutPrefix(*key, "s3://")
	if !found {
		return nil
	}
	b, k, _ := strings.Cut(rest, "/")
	if *bucket != "" && *bucket != b {
		return usagef("--bucket %s and --key %s disagree", *bucket, *key)
	}
	*bucket, *key = b, k
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

// startProgress prints "what: bytes, rate, elapsed" every second on a
// terminal (mode auto), or always, and returns the function that stops it
// and clears the line.
func startProgress(what string, n *atomic.Int64, mode string, w io.Writer) func() {
	return cli.ProgressLine(mode, w, func(el time.Duration) string {
		return fmt.Sprintf("%s: %s restored, %s, %s", what, cli.Human(n.Load()), cli.Rate(n.Load(), el), el.Round(time.Second))
	})
}

// writeTextfile replaces path atomically, readable by node_exporter.
func writeTextfile(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("textfile: %w", err)
	}
	return nil
}
