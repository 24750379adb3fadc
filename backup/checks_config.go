package backup

import (
	"fmt"

	"github.com/robfig/cron/v3"
)

// DrillConfig is one scheduled restore drill of the daemon on the auditor's
// host (the drills: section): restore the newest backup of Job into a
// scratch database, inspect it, drop it, and report like a backup run.
// Bucket, prefix and the connection settings default to the file's
// defaults; the credentials are the host's read credentials (the standard
// AWS chain, or profile), never a backup key.
type DrillConfig struct {
	Name     string `yaml:"name"` // default: the job's name
	Schedule string `yaml:"schedule"`
	Job      string `yaml:"job"`
	// Identity is the age identity file that decrypts the backups.
	Identity string `yaml:"identity"`
	// IntoDatabase is the scratch database (a file for sqlite); Into a
	// command reading the dump on stdin instead.
	IntoDatabase string   `yaml:"into_database"`
	Into         string   `yaml:"into"`
	Type         string   `yaml:"type"`
	Timeout      Duration `yaml:"timeout"`
	Notify       []string `yaml:"notify"`
	Connection   `yaml:",inline"`
}

// AuditConfig is one scheduled audit (the audits: section): that every
// job's backups keep arriving, reported like a backup run.
type AuditConfig struct {
	Name       string   `yaml:"name"` // default: the prefix
	Schedule   string   `yaml:"schedule"`
	MaxAge     Duration `yaml:"max_age"` // default 26h
	Jobs       []string `yaml:"jobs"`
	Identity   string   `yaml:"identity"` // optional: also read the manifests
	Notify     []string `yaml:"notify"`
	Connection `yaml:",inline"`
}

// Connection is where a drill or audit reads; empty fields take the
// file's defaults.
type Connection struct {
	Bucket    string `yaml:"bucket"`
	Prefix    string `yaml:"prefix"`
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	PathStyle *bool  `yaml:"path_style"`
	Profile   string `yaml:"profile"`
}

// Resolve fills a connection from the defaults.
func (c *Config) Resolve(k Connection) (Connection, ClientOptions) {
	d := c.Defaults
	if k.Bucket == "" {
		k.Bucket = d.Bucket
	}
	if k.Prefix == "" {
		k.Prefix = d.Prefix
	}
	if k.Region == "" {
		k.Region = d.Region
	}
	if k.Endpoint == "" {
		k.Endpoint = d.Endpoint
	}
	if k.PathStyle == nil {
		k.PathStyle = d.PathStyle
	}
	if k.Profile == "" {
		k.Profile = d.Profile
	}
	return k, ClientOptions{Region: k.Region, Endpoint: k.Endpoint, PathStyle: k.PathStyle != nil && *k.PathStyle,
		Profile: k.Profile, MaxAttempts: DefaultMaxAttempts}
}

// DestinationsOf resolves notify names (the defaults' when names is empty).
func (c *Config) DestinationsOf(names []string) []Destination {
	if len(names) == 0 {
		names = c.Defaults.Notify
	}
	var out []Destination
	for _, n := range names {
		if nc, ok := c.Notify[n]; ok {
			out = append(out, Destination{Name: n, NotifyConfig: nc})
		}
	}
	return out
}

func (c *Config) validateChecks() []error {
	var errs []error
	sched := func(field, spec string) {
		if spec == "" {
			errs = append(errs, fieldError(field+".schedule", "", "no schedule", `set schedule: "30 6 * * 1" (cron) or "@weekly"`))
			return
		}
		if _, err := cron.ParseStandard(spec); err != nil {
			errs = append(errs, fieldError(field+".schedule", spec, err.Error(), `use five cron fields ("30 6 * * 1") or @daily, @weekly, @every 12h`))
		}
	}
	notify := func(field string, names []string) {
		for _, n := range names {
			if _, ok := c.Notify[n]; !ok {
				errs = append(errs, fieldError(field+".notify", n, "no such notify destination", "define it under notify:"))
			}
		}
	}
	bucket := func(field string, k Connection) {
		if k, _ := c.Resolve(k); k.Bucket == "" {
			errs = append(errs, fieldError(field+".bucket", "", "no bucket", "set bucket here or in defaults"))
		}
	}
	for i, d := range c.Drills {
		field := fmt.Sprintf("drills[%d]", i)
		sched(field, d.Schedule)
		notify(field, d.Notify)
		bucket(field, d.Connection)
		if d.Job == "" {
			errs = append(errs, fieldError(field+".job", "", "no job", "name the job whose newest backup to drill"))
		}
		if d.Identity == "" {
			errs = append(errs, fieldError(field+".identity", "", "no identity", "set identity: /secure/identity.txt (the age identity file)"))
		}
		if (d.IntoDatabase == "") == (d.Into == "") {
			errs = append(errs, fieldError(field+".into_database", d.IntoDatabase, "set exactly one of into_database and into", "into_database: shop_drill"))
		}
		if d.Timeout < 0 {
			errs = append(errs, fieldError(field+".timeout", d.Timeout.String(), "negative", "use 2h, or leave it out for 12h"))
		}
	}
	for i, a := range c.Audits {
		field := fmt.Sprintf("audits[%d]", i)
		sched(field, a.Schedule)
		notify(field, a.Notify)
		bucket(field, a.Connection)
		if a.MaxAge < 0 {
			errs = append(errs, fieldError(field+".max_age", a.MaxAge.String(), "negative", "use 26h"))
		}
	}
	return errs
}
