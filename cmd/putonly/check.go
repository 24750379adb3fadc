package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/putonly/putonly/backup"
)

const checkUsage = `Usage:
  putonly check --config FILE [--job NAME]

Validates the config (strictly: unknown fields are errors) and the recipients,
and prints what each job would run and where it would write. It runs no dump
and makes no request to S3.

Flags:
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly check", flag.ContinueOnError)
	config := fs.String("config", "", "YAML config `file`")
	job := fs.String("job", "", "check only the job with this `name`")
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
	jobs, err := cfg.ResolveJobs(*job)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	for _, j := range jobs {
		comp := "zstd " + j.Compression
		if j.Compression == "none" {
			comp = "no compression"
		}
		fmt.Fprintf(stdout, "%s: %s | %s | age (%d recipients: %s) -> s3://%s/%s%s/…, SSE %s\n",
			j.Name, strings.Join(backup.RedactArgv(j.Argv), " "), comp, j.Recipient.Len(),
			strings.Join(j.Recipient.Types(), ","), j.Bucket, j.Prefix, j.Name, j.SSE)
	}
	fmt.Fprintf(stdout, "%s: %d job(s) valid\n", *config, len(jobs))
	return nil
}
