package restorecmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/restore"
)

// AuditOptions are what 'putonly audit' is told: the jobs under a prefix
// (Jobs must exist), the limits that make one a problem, and the WALJobs
// whose archives to check.
type AuditOptions struct {
	Bucket, Prefix string
	Jobs           []string
	MaxAge         time.Duration
	Shrink         float64
	Window         int
	Identities     []string // optional: also read the newest manifests
	WALJobs        []string
	WALMaxAge      time.Duration
	Textfile       string

	Connect Connect
	Stdout  io.Writer
}

// Audit prints the state of every job's backups (and WAL archives), writes
// the textfile, and fails when there is nothing to audit or a job needs
// attention.
func Audit(ctx context.Context, o AuditOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	ro := restore.AuditOptions{Bucket: o.Bucket, Prefix: o.Prefix, Jobs: o.Jobs, MaxAge: o.MaxAge, Shrink: o.Shrink, Window: o.Window}
	if len(o.Identities) > 0 {
		var err error
		if ro.Identities, err = loadIdentities(o.Identities); err != nil {
			return err
		}
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	rep, err := restore.Audit(ctx, api, ro)
	if err != nil {
		return err
	}
	printAudit(o.Stdout, rep)
	walAudits, err := o.auditWAL(ctx, api, ro)
	if err != nil {
		return err
	}
	if o.Textfile != "" {
		var b bytes.Buffer
		rep.WritePrometheus(&b)
		restore.WriteWALPrometheus(&b, o.Bucket, walAudits)
		if err := writeTextfile(o.Textfile, b.Bytes()); err != nil {
			return err
		}
	}
	if len(rep.Jobs) == 0 && len(walAudits) == 0 {
		return fmt.Errorf("no backups under s3://%s/%s", o.Bucket, o.Prefix)
	}
	var bad []string
	for _, j := range rep.Jobs {
		if !j.OK() {
			bad = append(bad, j.Prefix+j.Job)
		}
	}
	for _, a := range walAudits {
		if !a.OK() {
			bad = append(bad, a.Prefix+a.Job+" (WAL)")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("audit: %d of %d job(s) need attention: %s", len(bad), len(rep.Jobs)+len(walAudits), strings.Join(bad, ", "))
	}
	return nil
}

func (o *AuditOptions) check() error {
	if o.Bucket == "" {
		return usagef("audit needs --bucket")
	}
	if err := checkLocation(o.Bucket, o.Prefix); err != nil {
		return err
	}
	switch {
	case o.MaxAge <= 0:
		return usagef("--max-age %s: must be positive", o.MaxAge)
	case o.Shrink <= 0 || o.Shrink >= 1:
		return usage(fmt.Errorf("--shrink %g: must be between 0 and 1", o.Shrink), "0.9 flags a backup 90% smaller than usual")
	case o.Window < 1:
		return usagef("--window %d: must be at least 1", o.Window)
	}
	return nil
}

// auditWAL audits each WAL job and prints the findings.
func (o *AuditOptions) auditWAL(ctx context.Context, api restore.API, ro restore.AuditOptions) ([]*restore.WALAudit, error) {
	if len(o.WALJobs) == 0 {
		return nil, nil
	}
	var audits []*restore.WALAudit
	for _, job := range o.WALJobs {
		a, err := restore.AuditWAL(ctx, api, restore.WALAuditOptions{Bucket: o.Bucket, Prefix: o.Prefix, Job: job, MaxAge: o.WALMaxAge, Identities: ro.Identities})
		if err != nil {
			return nil, err
		}
		audits = append(audits, a)
	}
	fmt.Fprintln(o.Stdout)
	printWALAudits(o.Stdout, audits)
	return audits, nil
}

// printAudit is the table of jobs, then each job's problems.
func printAudit(w io.Writer, rep *restore.AuditReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATUS\tNEWEST\tAGE\tSIZE\tMEDIAN BEFORE\tMANIFEST")
	for _, j := range rep.Jobs {
		status := "ok"
		switch {
		case j.Stale:
			status = "STALE"
		case !j.OK():
			status = "SUSPICIOUS"
		}
		newest, age, size, base := "-", "-", "-", "-"
		if j.Newest != nil {
			newest = j.Newest.Time.Format(time.DateTime + "Z")
			age = shortAge(j.Age)
			size = cli.Human(j.Newest.Size)
		}
		if j.Baseline > 0 {
			base = cli.Human(j.Baseline)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Prefix+j.Job, status, newest, age, size, base, j.Manifest)
	}
	tw.Flush()
	for _, j := range rep.Jobs {
		for _, p := range j.Problems {
			fmt.Fprintf(w, "%s%s: %s\n", j.Prefix, j.Job, p)
		}
	}
}

// printWALAudits is the table of WAL archives, then each one's problems.
func printWALAudits(w io.Writer, audits []*restore.WALAudit) {
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
}

func shortAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return d.Round(time.Second).String()
}
