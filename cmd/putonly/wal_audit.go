package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/restore"
)

// walAuditFlags are audit's WAL flags: which jobs archive WAL, and how old
// the newest file may be.
type walAuditFlags struct {
	jobs   stringList
	maxAge time.Duration
}

func (f *walAuditFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.jobs, "wal", "also check the WAL archive of this `job` (wal-push --job): continuity from the newest base backup, conflicting contents, .history files, age; repeat for several")
	fs.DurationVar(&f.maxAge, "wal-max-age", time.Hour, "with --wal: the newest archived WAL file older than this means archiving stalled (keep it well above archive_timeout)")
}

// run audits each WAL job and prints the findings; ok is false when one
// needs attention.
func (f *walAuditFlags) run(ctx context.Context, api restore.API, o restore.AuditOptions, w io.Writer) (audits []*restore.WALAudit, bad []string, err error) {
	if len(f.jobs) == 0 {
		return nil, nil, nil
	}
	for _, job := range f.jobs {
		a, err := restore.AuditWAL(ctx, api, restore.WALAuditOptions{Bucket: o.Bucket, Prefix: o.Prefix, Job: job, MaxAge: f.maxAge, Identities: o.Identities})
		if err != nil {
			return nil, nil, err
		}
		audits = append(audits, a)
		if !a.OK() {
			bad = append(bad, a.Prefix+a.Job+" (WAL)")
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAL JOB\tSTATUS\tNEWEST\tAGE (RPO)\tSEGMENTS\tTIMELINES\tFROM")
	for _, a := range audits {
		status := "ok"
		switch {
		case a.Stale:
			status = "STALLED"
		case !a.OK():
			status = "BROKEN"
		}
		newest, age := "-", "-"
		if a.Newest != nil {
			newest, age = a.Newest.Name.File, shortAge(a.Age)
		}
		var tl []string
		for _, t := range a.Timelines {
			tl = append(tl, fmt.Sprint(t))
		}
		from := a.From
		if a.Base == nil && from != "" {
			from += " (oldest archived; --identity checks from the newest base backup)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.Prefix+a.Job, status, newest, age, a.Segments, strings.Join(tl, ","), from)
	}
	tw.Flush()
	for _, a := range audits {
		for _, p := range a.Problems {
			fmt.Fprintf(w, "%s%s (WAL): %s\n", a.Prefix, a.Job, p)
		}
	}
	return audits, bad, nil
}
