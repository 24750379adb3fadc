package restorecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/restore"
)

// ListOptions are what 'putonly list' is told.
type ListOptions struct {
	Bucket, Prefix, Job string
	JSON                bool // one ListEntry per line instead of the table

	Connect        Connect
	Stdout, Stderr io.Writer
}

// ListEntry is one backup in 'putonly list --json'.
type ListEntry struct {
	URL       string    `json:"url"`
	Key       string    `json:"key"`
	Prefix    string    `json:"prefix"`
	Job       string    `json:"job"`
	Started   time.Time `json:"started"`
	Completed time.Time `json:"completed"`
	Size      int64     `json:"size"`
	Manifest  bool      `json:"manifest"`
}

// List prints the backups under the prefix, newest first; what is not a
// backup is counted on Stderr.
func List(ctx context.Context, o ListOptions) error {
	if o.Bucket == "" {
		return usage(errors.New("list needs --bucket"), "")
	}
	if err := checkLocation(o.Bucket, o.Prefix); err != nil {
		return err
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	l, err := restore.List(ctx, api, o.Bucket, o.Prefix, o.Job)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.Stdout)
		for _, b := range l.Backups {
			enc.Encode(ListEntry{
				URL: "s3://" + o.Bucket + "/" + b.Key, Key: b.Key, Prefix: b.Prefix, Job: b.Job,
				Started: b.Time, Completed: b.LastModified, Size: b.Size, Manifest: b.HasManifest,
			})
		}
		return nil
	}
	if len(l.Backups) == 0 {
		fmt.Fprintf(o.Stderr, "putonly: no backups under s3://%s/%s%s\n", o.Bucket, o.Prefix, o.Job)
		o.printCanaries(l)
		return nil
	}
	printListing(o.Stdout, l)
	for _, k := range l.Orphans {
		fmt.Fprintf(o.Stderr, "putonly: manifest without its backup: %s\n", k)
	}
	o.printCanaries(l)
	if l.Other > 0 {
		fmt.Fprintf(o.Stderr, "putonly: %s under the prefix %s not backups\n", restore.Count(l.Other, "other object"), isAre(l.Other))
	}
	return nil
}

// printListing is list's table.
func printListing(w io.Writer, l *restore.Listing) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tJOB\tSIZE\tMANIFEST\tKEY")
	for _, b := range l.Backups {
		m := "yes"
		if !b.HasManifest {
			m = "MISSING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Time.Format(time.DateTime+"Z"), b.Job, cli.Human(b.Size), m, b.Key)
	}
	tw.Flush()
}

func (o ListOptions) printCanaries(l *restore.Listing) {
	if l.Canaries > 0 {
		fmt.Fprintf(o.Stderr, "putonly: %s under %s%s %s key self-test canaries, not backups (a lifecycle rule expires them)\n",
			restore.Count(l.Canaries, "object"), o.Prefix, layout.SelftestPrefix, isAre(l.Canaries))
	}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
