package restorecmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/restore"
)

// DrillOptions are what 'putonly drill' is told: which backup (the newest
// of Job, or Key) into which scratch target (IntoDatabase, or the command
// Into), and how to report (Format text or json, a Textfile for
// node_exporter).
type DrillOptions struct {
	Bucket, Prefix, Job, Key string
	Identities               []string
	Into, IntoDatabase, Type string
	Keep, AllowSwitch        bool
	NoVerify                 bool
	Format                   string // text or json
	Progress                 string
	Textfile                 string
	Timeout                  time.Duration

	Connect        Connect
	Stdout, Stderr io.Writer
}

// Drill restores a backup into a scratch target, reports what it holds on
// Stdout, and returns the drill's failure after the report.
func Drill(ctx context.Context, o DrillOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	var db *restore.Database
	if o.IntoDatabase != "" {
		var err error
		if db, err = restore.NewDatabase(o.Type, o.IntoDatabase); err != nil {
			return usage(fmt.Errorf("--into-database: %w", err), "")
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("drill timeout of %s reached", o.Timeout))
	defer cancel()
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	name := o.Job
	if name == "" {
		if b, ok := restore.ParseKey(o.Key); ok {
			name = b.Job
		}
	}
	var fed atomic.Int64
	stop := startProgress("drill "+name, &fed, o.Progress, o.Stderr)
	res, derr := restore.Drill(ctx, api, restore.DrillOptions{
		Bucket: o.Bucket, Prefix: o.Prefix, Job: o.Job, Key: o.Key, Identities: ids, NoVerify: o.NoVerify,
		Into: o.Into, Database: db, Keep: o.Keep, AllowSwitch: o.AllowSwitch,
		Stdout: o.Stderr, Stderr: o.Stderr, Progress: &fed,
	})
	stop()
	if err := o.report(name, res, derr); err != nil {
		return err
	}
	return derr
}

func (o *DrillOptions) check() error {
	if err := checkSource("drill", &o.Bucket, &o.Key, o.Prefix); err != nil {
		return err
	}
	switch {
	case o.Into == "" && o.IntoDatabase == "":
		return usage(errors.New("drill needs --into-database NAME or --into COMMAND"), "for example --into-database shop_drill, or --into 'cat > /dev/null' to verify only")
	case o.Into != "" && o.IntoDatabase != "":
		return usagef("--into and --into-database exclude each other")
	case (o.Job == "") == (o.Key == ""):
		return usagef("drill needs exactly one of --job and --key")
	case o.Timeout <= 0:
		return usagef("--timeout %s: must be positive", o.Timeout)
	case o.Format != "text" && o.Format != "json":
		return usagef("--format %q: use text or json", o.Format)
	case o.Keep && o.IntoDatabase == "":
		return usagef("--keep goes with --into-database")
	case o.Type != "" && o.IntoDatabase == "":
		return usagef("--type goes with --into-database")
	}
	return nil
}

// report prints the drill's verdict (text or JSON) and writes the
// textfile.
func (o *DrillOptions) report(name string, res restore.DrillResult, derr error) error {
	rep := res.Report(name, o.Bucket, derr)
	if o.Format == "json" {
		if err := rep.WriteJSON(o.Stdout); err != nil {
			return err
		}
	} else {
		if derr == nil {
			fmt.Fprintf(o.Stdout, "drill %s: OK s3://%s/%s: %s; %s\n", name, o.Bucket, rep.Key, verdict(res.Restore), res.Timings())
		} else {
			where := "s3://" + o.Bucket + "/" + rep.Key
			if rep.Key == "" {
				// No backup was found: the error names the job and prefix.
				where = "s3://" + o.Bucket + "/" + o.Prefix
			}
			fmt.Fprintf(o.Stdout, "drill %s: FAILED %s: %s; %s\n", name, where, cli.OneLine(derr), res.Timings())
		}
		rep.WriteText(o.Stdout)
	}
	if o.Textfile != "" {
		var m bytes.Buffer
		_ = restore.WriteDrillPrometheus(&m, o.Bucket, o.Prefix, name, res, derr)
		return writeTextfile(o.Textfile, m.Bytes())
	}
	return nil
}
