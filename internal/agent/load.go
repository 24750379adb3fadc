package agent

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/putonly/putonly/backup"
)

// Source is what a command line says about the jobs to run: a config file
// (all its jobs or one), or one ad-hoc job from the job settings' flags
// and the dump command after --.
type Source struct {
	Config string           // --config; "" for the ad-hoc job
	Job    string           // --job: only this job of the config
	Flags  backup.JobConfig // the job settings' flags (backup.RegisterFlags)
	Set    map[string]bool  // the flags given on the command line
	Argv   []string         // the dump command of the ad-hoc job
	// Refuse names the flags, besides the table's job settings, that
	// cannot be combined with --config (the daemon's ad-hoc notify).
	Refuse []string
}

// Jobs reads the config once (nil for the ad-hoc form) and resolves the
// jobs to run, with the connection flags applied over the config's.
func (s *Source) Jobs() (*backup.Config, []*backup.Job, error) {
	if s.Config == "" {
		jc, err := s.Adhoc()
		if err != nil {
			return nil, nil, err
		}
		job, err := backup.ResolveJob(jc)
		if err != nil {
			return nil, nil, err
		}
		return nil, []*backup.Job{job}, nil
	}
	cfg, err := s.LoadConfig()
	if err != nil {
		return nil, nil, err
	}
	jobs, err := cfg.ResolveJobs(s.Job)
	if err != nil {
		return nil, nil, err
	}
	return cfg, jobs, nil
}

// LoadConfig reads the config file once, refusing job flags and a command
// next to it, and applies the connection flags (the table's WithConfig
// settings) over every job of it.
func (s *Source) LoadConfig() (*backup.Config, error) {
	if err := backup.ConfigFlagsError(s.Set); err != nil {
		return nil, err
	}
	if len(s.Argv) > 0 {
		return nil, fmt.Errorf("a command (%q) cannot be combined with --config\n\thint: put it in the config as a job with source type: command", s.Argv[0])
	}
	if err := backup.ValidateFlags(&s.Flags, s.Set); err != nil {
		return nil, err
	}
	for _, name := range s.Refuse {
		if s.Set[name] {
			return nil, fmt.Errorf("--%s cannot be combined with --config\n\thint: set it in the config file", name)
		}
	}
	cfg, err := backup.LoadConfig(s.Config)
	if err != nil {
		return nil, err
	}
	cfg.Override(&s.Flags, s.Set)
	return cfg, nil
}

// Adhoc is the job of the ad-hoc form, from the flags and the command; its
// name defaults to the command's.
func (s *Source) Adhoc() (backup.JobConfig, error) {
	if s.Job != "" {
		return backup.JobConfig{}, errors.New("--job needs --config\n\thint: name an ad-hoc job with --name")
	}
	if len(s.Argv) == 0 {
		return backup.JobConfig{}, errors.New("no dump command\n\thint: putonly run --bucket B --recipient age1... -- pg_dump -Fc -Z0 shop   (or --config FILE)")
	}
	jc := s.Flags
	jc.FromFlags = true
	if jc.Name == "" {
		jc.Name = JobNameFrom(s.Argv[0])
	}
	jc.Source.Type = backup.SourceCommand
	jc.Source.Command = s.Argv
	return jc, nil
}

var nonName = regexp.MustCompile(`[^a-z0-9._-]+`)

// JobNameFrom derives a job name from a command: "/usr/bin/pg_dump" →
// "pg_dump".
func JobNameFrom(argv0 string) string {
	n := nonName.ReplaceAllString(strings.ToLower(filepath.Base(argv0)), "-")
	n = strings.Trim(n, "-._")
	if n == "" {
		return "backup"
	}
	return n
}
