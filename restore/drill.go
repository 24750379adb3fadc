package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"filippo.io/age"
)

// API is what list, restore, drill and audit need from S3: s3:ListBucket
// and s3:GetObject. The backup key has neither.
type API interface {
	Lister
	Getter
}

// DrillOptions say what to restore and where.
type DrillOptions struct {
	Bucket, Prefix, Job string
	Key                 string // a given backup instead of the job's latest
	Identities          []age.Identity
	NoVerify            bool
	// Database is a scratch database the drill creates, loads, inspects
	// and drops (unless Keep).
	Database *Database
	Keep     bool
	// Into is a shell command (sh -c) that reads the dump on its stdin,
	// e.g. "pg_restore --exit-on-error -d scratch". Its stdout and stderr go
	// to Stdout and Stderr. Only the dump's own table list is reported.
	Into string
	// AllowSwitch lets the dump change database; see LoadOptions.
	AllowSwitch    bool
	Env            []string
	Stdout, Stderr io.Writer
	Progress       *atomic.Int64
}

// DrillResult is the report of a drill: what was restored, what the
// scratch database holds, and the timings, as far as the drill got.
type DrillResult struct {
	Backup  Backup // zero when Key was given
	Restore Result // the restore's own result (bytes, SHA-256, manifest)
	Load    LoadResult
	// Contents is what the scratch database holds after the restore
	// (nil for an Into command, or when the restore failed).
	Contents *Contents
	// Problems found comparing Contents with the dump; any fails the drill.
	Problems []string
	Target   string        // "postgres database shop_drill", or the command
	Dropped  bool          // the scratch database was dropped afterwards
	Find     time.Duration // listing to find the latest backup
	Stream   time.Duration // download, decrypt, verify and feed the target
	Finish   time.Duration // the target's work after the end of its input
	Check    time.Duration // asking the scratch database what it holds
	Drop     time.Duration
	Total    time.Duration
}

// ErrTarget wraps a failure of the drill's target command.
var ErrTarget = errors.New("target command failed")

// ErrEvidence: the restore completed, but the scratch database does not
// hold what the dump lists.
var ErrEvidence = errors.New("the restored database does not hold what the dump lists")

// Drill restores the latest backup of a job (or Key) into a scratch target
// and checks the result: the drill passes only when the download, the
// decryption, the manifest verification and the target all succeed, and,
// for a Database, when it holds every table the dump lists (with the rows
// the dump's COPY blocks carry) and is not empty. The scratch database is
// dropped afterwards, pass or fail, unless Keep. When the restore fails the
// target is killed (with its process group), so it does not act on a
// partial dump.
func Drill(ctx context.Context, api API, o DrillOptions) (res DrillResult, err error) {
	start := time.Now()
	defer func() { res.Total = time.Since(start) }()
	key := o.Key
	if key == "" {
		b, err := Latest(ctx, api, o.Bucket, o.Prefix, o.Job)
		res.Find = time.Since(start)
		if err != nil {
			return res, err
		}
		res.Backup, key = b, b.Key
	}
	res.Target = o.Into
	if o.Database != nil {
		res.Target = o.Database.Name
	}
	lr, lerr := Load(ctx, api, LoadOptions{
		Bucket: o.Bucket, Key: key, Identities: o.Identities, NoVerify: o.NoVerify,
		Database: o.Database, Into: o.Into, AllowSwitch: o.AllowSwitch,
		Env: o.Env, Stdout: o.Stdout, Stderr: o.Stderr, Progress: o.Progress,
	})
	res.Load, res.Restore, res.Stream, res.Finish = lr, lr.Restore, lr.Stream, lr.Finish
	if o.Database != nil {
		res.Target = o.Database.String()
		defer func() {
			if o.Keep || !o.Database.Created() {
				return
			}
			// Dropped even when the context expired: the scratch
			// database must not outlive a failed drill.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			dropStart := time.Now()
			derr := o.Database.Drop(dctx)
			res.Drop = time.Since(dropStart)
			res.Dropped = derr == nil
			if derr != nil && err == nil {
				err = derr
			}
		}()
	}
	if lerr != nil {
		return res, lerr
	}
	if o.Database == nil {
		return res, nil
	}
	checkStart := time.Now()
	c, ierr := o.Database.Inspect(ctx)
	res.Check = time.Since(checkStart)
	if ierr != nil {
		return res, ierr
	}
	res.Contents = &c
	res.Problems = Compare(lr.DumpTables, lr.DumpRows, c, o.Database.Type)
	if len(res.Problems) > 0 {
		return res, fmt.Errorf("%w: %s", ErrEvidence, strings.Join(res.Problems, "; "))
	}
	return res, nil
}

// Compare checks a restored database against what its dump lists: every
// table the dump creates is there, with the rows the dump's COPY blocks
// carry where it has them, and the database is not empty.
func Compare(dumpTables []string, dumpRows map[string]int64, c Contents, typ string) []string {
	norm := func(s string) string {
		if typ == TypeSQLite {
			return strings.ToLower(s)
		}
		return s
	}
	have := map[string]int64{}
	for _, t := range c.Tables {
		have[norm(t.Name)] = t.Rows
	}
	var problems, missing []string
	for _, t := range dumpTables {
		if _, ok := have[norm(t)]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		problems = append(problems, fmt.Sprintf("%d of the dump's %d tables missing: %s", len(missing), len(dumpTables), strings.Join(missing, ", ")))
	}
	var names []string
	for t := range dumpRows {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if got, ok := have[norm(t)]; ok && got != dumpRows[t] {
			problems = append(problems, fmt.Sprintf("table %s: %d rows restored, the dump carries %d", t, got, dumpRows[t]))
		}
	}
	switch {
	case len(c.Tables) == 0:
		problems = append(problems, "the restored database holds no table")
	case c.Rows == 0:
		problems = append(problems, fmt.Sprintf("the restored database holds no row (%d empty tables)", len(c.Tables)))
	}
	return problems
}
