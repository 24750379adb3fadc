package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/agent"
)

const checkUsage = `Usage:
  putonly check --config FILE [--job NAME] [--connect]

Validates the config (strictly: unknown fields are errors; every setting
within its range) and the recipients, checks that each job's dump program
exists and is executable, and prints what each job would run and where it
would write. It runs no dump and makes no request to S3.

With --connect, each job's dump program also reaches its database, reading
no data: pg_dump --schema-only (output discarded), mariadb-dump --no-data,
sqlite3 PATH 'select count(*) from sqlite_master', with the job's arguments
and putonly's environment.
Command and mongodb sources are not connected to.

Exit status: 0 valid (and, with --connect, every database reached); 1 a
database could not be reached; 2 the config is invalid or a dump program is
missing.

Flags:
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly check", flag.ContinueOnError)
	config := fs.String("config", "", "YAML config `file`")
	job := fs.String("job", "", "check only the job with this `name`")
	connect := fs.Bool("connect", false, "also connect each job's dump program to its database (reads no data)")
	if done, err := parseFlags(fs, checkUsage, args, stdout, stderr); done {
		return err
	}
	if *config == "" {
		return &exitError{Code: 2, Err: errors.New("check needs --config FILE")}
	}
	cfg, err := backup.LoadConfig(*config)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	// An auditor's config may have drills and audits and no job at all.
	var jobs []*backup.Job
	if len(cfg.Jobs) > 0 || *job != "" {
		if jobs, err = cfg.ResolveJobs(*job); err != nil {
			return &exitError{Code: 2, Err: err}
		}
	}
	var checks []agent.Check
	if *job == "" {
		checks = describeChecks(cfg, stdout)
	}
	var missing, unreachable []error
	for _, j := range jobs {
		comp := "zstd " + j.Compression
		if j.Compression == "none" {
			comp = "no compression"
		}
		fmt.Fprintf(stdout, "%s: %s | %s | age (%s: %s) -> s3://%s/%s%s/…, SSE %s\n",
			j.Name, strings.Join(backup.RedactArgv(j.Argv), " "), comp, plural(j.Recipient.Len(), "recipient"),
			strings.Join(j.Recipient.Types(), ","), j.Bucket, j.Prefix, j.Name, j.SSE)
		if _, err := backup.CheckProgram(j); err != nil {
			missing = append(missing, err)
			continue
		}
		if *connect {
			how, err := backup.CheckConnect(ctx, j)
			switch {
			case err != nil:
				unreachable = append(unreachable, err)
			case how == "":
				fmt.Fprintf(stdout, "%s: not connected (%s source: only a dump would tell)\n", j.Name, j.SourceType)
			default:
				fmt.Fprintf(stdout, "%s: database reached (%s)\n", j.Name, how)
			}
		}
	}
	if len(missing) > 0 {
		return &exitError{Code: 2, Err: errors.Join(append(missing, unreachable...)...)}
	}
	if len(unreachable) > 0 {
		return &exitError{Code: 1, Err: errors.Join(unreachable...)}
	}
	if len(checks) == 0 {
		fmt.Fprintf(stdout, "%s: %s valid\n", *config, plural(len(jobs), "job"))
		return nil
	}
	n := map[string]int{}
	for _, c := range checks {
		n[c.Kind]++
	}
	fmt.Fprintf(stdout, "%s: %s, %s, %s valid\n", *config, plural(len(jobs), "job"), plural(n["drill"], "drill"), plural(n["audit"], "audit"))
	return nil
}

// describeChecks prints what each drill and audit of the daemon would do
// (LoadConfig has checked their schedules).
func describeChecks(cfg *backup.Config, stdout io.Writer) []agent.Check {
	checks := agent.ChecksFrom(cfg)
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
		fmt.Fprintf(stdout, "%s %s: %s, schedule %q\n", c.Kind, c.Name, what, c.Spec)
	}
	return checks
}
