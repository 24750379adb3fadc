package main

import (
	"context"
	"flag"
	"io"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
)

func init() {
	app.Register(&cli.Command{Name: "list", Order: 30, Run: runList,
		Summary: "list --bucket B [--prefix P]       backups newest first, with times and sizes"})
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
	o := restorecmd.ListOptions{Connect: reader(&conn), Stdout: stdout, Stderr: stderr}
	fs.StringVar(&o.Bucket, "bucket", "", "S3 `bucket`")
	fs.StringVar(&o.Prefix, "prefix", "", "key `prefix`, e.g. db1/")
	fs.StringVar(&o.Job, "job", "", "only the backups of this job `name`")
	fs.BoolVar(&o.JSON, "json", false, "one JSON object per backup and line, for scripts")
	if done, err := parseFlags(fs, listUsage, args, stdout, stderr); done {
		return err
	}
	return readSideExit(restorecmd.List(ctx, o))
}
