package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "list", order: 30, run: runList,
		summary: "list --bucket B [--prefix P]       backups newest first, with times and sizes"})
}

const listUsage = `Usage:
  putonly list --bucket B [--prefix P] [--job J] [--json] [connection flags]

Lists the backups under s3://B/P, newest first, with the time each started,
its size and whether its manifest is next to it. It reads the key layout
only (s3:ListBucket); it downloads nothing and needs no identity. Objects
that are not backups are counted, not shown.

Run it with read credentials on a trusted machine: the backup key cannot
list.

Exit status: 0 listed (also when there is no backup); 1 the listing failed;
2 bad flags.

Flags:
`

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly list", flag.ContinueOnError)
	var conn connFlags
	conn.Register(fs)
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix`, e.g. db1/")
	job := fs.String("job", "", "only the backups of this job `name`")
	asJSON := fs.Bool("json", false, "one JSON object per backup and line, for scripts")
	if done, err := parseFlags(fs, listUsage, args, stdout, stderr); done {
		return err
	}
	if *bucket == "" {
		return usageError(fmt.Errorf("list needs --bucket"), "")
	}
	client, err := conn.Client(ctx)
	if err != nil {
		return failure(err)
	}
	l, err := restore.List(ctx, client, *bucket, *prefix, *job)
	if err != nil {
		return failure(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, b := range l.Backups {
			enc.Encode(listEntry{
				URL: "s3://" + *bucket + "/" + b.Key, Key: b.Key, Prefix: b.Prefix, Job: b.Job,
				Started: b.Time, Completed: b.LastModified, Size: b.Size, Manifest: b.HasManifest,
			})
		}
		return nil
	}
	canaries := func() {
		if l.Canaries > 0 {
			fmt.Fprintf(stderr, "putonly: %s under %s%s %s key self-test canaries, not backups (a lifecycle rule expires them)\n",
				plural(l.Canaries, "object"), *prefix, layout.SelftestPrefix, isAre(l.Canaries))
		}
	}
	if len(l.Backups) == 0 {
		fmt.Fprintf(stderr, "putonly: no backups under s3://%s/%s%s\n", *bucket, *prefix, *job)
		canaries()
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tJOB\tSIZE\tMANIFEST\tKEY")
	for _, b := range l.Backups {
		m := "yes"
		if !b.HasManifest {
			m = "MISSING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Time.Format(time.DateTime+"Z"), b.Job, human(b.Size), m, b.Key)
	}
	tw.Flush()
	for _, o := range l.Orphans {
		fmt.Fprintf(stderr, "putonly: manifest without its backup: %s\n", o)
	}
	canaries()
	if l.Other > 0 {
		fmt.Fprintf(stderr, "putonly: %s under the prefix %s not backups\n", plural(l.Other, "other object"), isAre(l.Other))
	}
	return nil
}

type listEntry struct {
	URL       string    `json:"url"`
	Key       string    `json:"key"`
	Prefix    string    `json:"prefix"`
	Job       string    `json:"job"`
	Started   time.Time `json:"started"`
	Completed time.Time `json:"completed"`
	Size      int64     `json:"size"`
	Manifest  bool      `json:"manifest"`
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
