package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/restore"
)

// CheckOptions are 'putonly check': the config, one job of it (or all),
// and whether each dump program reaches its database.
type CheckOptions struct {
	Config, Job string
	Connect     bool
}

// CheckConfig validates the config and shows on w what each job would run
// and where it would write (and, without Job, each drill and audit), runs
// no dump and makes no request to S3. An invalid config is a
// [cli.UsageError]; a missing dump program is [backup.ErrNoDumpProgram]
// (errors.Is), listed before the databases that could not be reached.
func CheckConfig(ctx context.Context, o CheckOptions, w io.Writer) error {
	if o.Config == "" {
		return cli.Usage(errors.New("check needs --config FILE"))
	}
	cfg, err := backup.LoadConfig(o.Config)
	if err != nil {
		return cli.Usage(err)
	}
	// An auditor's config may have drills and audits and no job at all.
	var jobs []*backup.Job
	if len(cfg.Jobs) > 0 || o.Job != "" {
		if jobs, err = cfg.ResolveJobs(o.Job); err != nil {
			return cli.Usage(err)
		}
	}
	var checks []Check
	if o.Job == "" {
		checks = describeConfigChecks(cfg, w)
		if err := checkIdentities(checks); err != nil {
			return cli.Usage(err)
		}
	}
	var missing, unreachable []error
	for _, j := range jobs {
		if err := checkJob(ctx, j, o.Connect, w); errors.Is(err, backup.ErrNoDumpProgram) {
			missing = append(missing, err)
		} else if err != nil {
			unreachable = append(unreachable, err)
		}
	}
	if err := errors.Join(append(missing, unreachable...)...); err != nil {
		return err
	}
	if len(checks) == 0 {
		fmt.Fprintf(w, "%s: %s valid\n", o.Config, cli.Plural(len(jobs), "job"))
		return nil
	}
	n := map[string]int{}
	for _, c := range checks {
		n[c.Kind]++
	}
	fmt.Fprintf(w, "%s: %s, %s, %s valid\n", o.Config, cli.Plural(len(jobs), "job"), cli.Plural(n["drill"], "drill"), cli.Plural(n["audit"], "audit"))
	return nil
}

// checkJob prints what j runs and where it writes, finds its dump program
// and, with connect, reaches its database.
func checkJob(ctx context.Context, j *backup.Job, connect bool, w io.Writer) error {
	comp := "zstd " + j.Compression
	if j.Compression == "none" {
		comp = "no compression"
	}
	fmt.Fprintf(w, "%s: %s | %s | age (%s: %s) -> s3://%s/%s%s/…, SSE %s\n",
		j.Name, strings.Join(backup.RedactArgv(j.Argv), " "), comp, cli.Plural(j.Recipient.Len(), "recipient"),
		strings.Join(j.Recipient.Types(), ","), j.Bucket, j.Prefix, j.Name, j.SSE)
	if _, err := backup.CheckProgram(j); err != nil || !connect {
		return err
	}
	how, err := backup.CheckConnect(ctx, j)
	switch {
	case err != nil:
		return err
	case how == "":
		fmt.Fprintf(w, "%s: not connected (%s source: only a dump would tell)\n", j.Name, j.SourceType)
	default:
		fmt.Fprintf(w, "%s: database reached (%s)\n", j.Name, how)
	}
	return nil
}

// checkIdentities loads the age identity of each drill and audit that has
// one: a mistyped path or a file that holds no identity would otherwise
// pass check and fail the first scheduled drill, a week later. Nothing of
// the identity is printed.
func checkIdentities(checks []Check) error {
	var errs []error
	for _, c := range checks {
		file := c.Drill.Identity
		if c.Kind == "audit" {
			file = c.Audit.Identity
		}
		if file == "" {
			continue
		}
		if _, err := restore.LoadIdentities(file); err != nil {
			errs = append(errs, cli.Hint(fmt.Errorf("%s %s: %w", c.Kind, c.Name, err),
				"identity: names the age identity file the backups are encrypted to, readable by the daemon's user (age-keygen -y FILE prints its recipient)"))
		}
	}
	return errors.Join(errs...)
}

// describeConfigChecks prints what each drill and audit of the daemon
// would do (LoadConfig has checked their schedules).
func describeConfigChecks(cfg *backup.Config, w io.Writer) []Check {
	checks := ChecksFrom(cfg)
	for _, c := range checks {
		what := ""
		switch {
		case c.Kind == "audit":
			what = fmt.Sprintf("the jobs under s3://%s/%s", c.Conn.Bucket, c.Conn.Prefix)
		case c.Drill.IntoDatabase != "":
			what = fmt.Sprintf("the newest of s3://%s/%s%s/ into database %s", c.Conn.Bucket, c.Conn.Prefix, c.Drill.Job, c.Drill.IntoDatabase)
		default:
			what = fmt.Sprintf("the newest of s3://%s/%s%s/ into %q", c.Conn.Bucket, c.Conn.Prefix, c.Drill.Job, c.Drill.Into)
		}
		fmt.Fprintf(w, "%s %s: %s, schedule %q\n", c.Kind, c.Name, what, c.Spec)
	}
	return checks
}
