package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the agent's configuration file: defaults shared by every job, and
// the jobs. Each job may override any default.
type Config struct {
	Defaults Settings    `yaml:"defaults"`
	Jobs     []JobConfig `yaml:"jobs"`
	// Selftest: how 'putonly run' checks its key before the first upload.
	Selftest SelftestConfig `yaml:"selftest"`

	// Notify names the notification destinations jobs refer to (notify.go).
	Notify map[string]NotifyConfig `yaml:"notify"`
	// Daemon holds the options of 'putonly daemon' (schedule.go).
	Daemon DaemonConfig `yaml:"daemon"`
	// Drills and Audits are what the daemon on the auditor's host runs
	// on their schedules (checks_config.go).
	Drills []DrillConfig `yaml:"drills"`
	Audits []AuditConfig `yaml:"audits"`
}

// Settings are the options a job can take from the defaults or override.
// A zero value means "not set here".
type Settings struct {
	Bucket    string `yaml:"bucket"`
	Prefix    string `yaml:"prefix"`
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	PathStyle *bool  `yaml:"path_style"`
	Profile   string `yaml:"profile"`

	Recipients     []string `yaml:"recipients"`
	RecipientsFile string   `yaml:"recipients_file"`

	Compression            string `yaml:"compression"`
	CompressionConcurrency int    `yaml:"compression_concurrency"`

	SSE      string `yaml:"sse"`
	KMSKeyID string `yaml:"kms_key_id"`
	Checksum string `yaml:"checksum"`

	PartSize          ByteSize `yaml:"part_size"`
	UploadConcurrency int      `yaml:"upload_concurrency"`
	MaxAttempts       int      `yaml:"max_attempts"`
	ConnectTimeout    Duration `yaml:"connect_timeout"`
	MaxRetryTime      Duration `yaml:"max_retry_time"`
	Timeout           Duration `yaml:"timeout"`

	// Nice and IONice: the dump's CPU and I/O priority (priority.go).
	Nice   *int   `yaml:"nice"`
	IONice string `yaml:"ionice"`

	// Schedule, TimeZone, Jitter: when 'putonly daemon' runs the job
	// (schedule.go); 'run' ignores them. Notify lists destinations by name.
	Schedule string    `yaml:"schedule"`
	TimeZone string    `yaml:"time_zone"`
	Jitter   *Duration `yaml:"jitter"` // nil: not set here; 0s: no jitter
	Notify   []string  `yaml:"notify"`
}

// SelftestConfig says how 'putonly run' checks, before its first upload,
// that its key can write and cannot read, list or delete (policy.Probe). Zero
// values mean the defaults.
type SelftestConfig struct {
	// Cache is how long a passing self-test is trusted (default 24h); 0s
	// probes before every run.
	Cache *Duration `yaml:"cache"`
	// StateDir holds the cache file (default $PUTONLY_STATE_DIR, else
	// /var/lib/putonly as root, else $XDG_STATE_HOME/putonly).
	StateDir string `yaml:"state_dir"`
	// AllowReadableKey uploads even with a key that can read or delete,
	// logging a warning on every run.
	AllowReadableKey bool `yaml:"allow_readable_key"`
}

// JobConfig is one job as written in the file.
type JobConfig struct {
	Name     string       `yaml:"name"`
	Source   SourceConfig `yaml:"source"`
	Settings `yaml:",inline"`

	// FromFlags: the job came from command-line flags, so errors name the
	// flags rather than config fields.
	FromFlags bool `yaml:"-"`
}

// SourceConfig says what produces the dump.
type SourceConfig struct {
	// Type is postgres, mysql, mongodb, sqlite or command.
	Type string `yaml:"type"`
	// Database: postgres, mysql, mongodb (optional for mongodb).
	Database string `yaml:"database"`
	// All dumps every database: pg_dumpall, mysqldump --all-databases.
	All bool `yaml:"all"`
	// Path of the SQLite database file.
	Path string `yaml:"path"`
	// URI: mongodb connection string.
	URI string `yaml:"uri"`
	// Binary overrides the dump program (path or name).
	Binary string `yaml:"binary"`
	// Args are appended to a preset's arguments.
	Args []string `yaml:"args"`
	// Command is the argv of a command source (no shell).
	Command []string `yaml:"command"`
	// Mode (postgres): dump (pg_dump, the default) or base (pg_basebackup
	// for point-in-time recovery with wal-push; see wal_base.go).
	Mode string `yaml:"mode"`
	// Ext is the object name's extension for the dump layer (default by type).
	Ext string `yaml:"ext"`
}

// Defaults for settings the file and the flags leave unset.
const (
	DefaultPartSize          = 16 << 20
	DefaultUploadConcurrency = 4
	DefaultMaxAttempts       = 20
	DefaultMaxRetryTime      = 2 * time.Minute
	DefaultTimeout           = 12 * time.Hour
	DefaultSSE               = "AES256"
	DefaultChecksum          = "CRC64NVME"
	DefaultCompression       = "default"

	minPartSize = 5 << 20 // S3's minimum for every part but the last
	maxPartSize = 5 << 30 // S3's maximum part size
)

// LoadConfig reads and validates a configuration file. Unknown fields are
// errors: a typo must not silently turn an option off.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML strictly, expands ${VAR} references in string
// values, and validates. It has no side effects: recipients files are read
// later, when a job is resolved.
func ParseConfig(data []byte) (*Config, error) {
	var cfg Config
	// First the document's shape, against the types: unknown fields and
	// values of the wrong form, each named by its path (yamlcheck.go).
	var doc, extra yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if line == 0 {
			line = 1
		}
		return nil, &FieldError{Field: "the file", Line: line, Err: errors.New("a second YAML document (after ---)"),
			Hint: "putonly reads one document: merge the jobs into one jobs: list and remove the --- line"}
	}
	if err := checkYAML(&doc, reflect.TypeFor[Config]()); err != nil {
		return nil, err
	}
	// Then the decoder itself, strict as well should the walk miss a case.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if err := expandEnv(reflect.ValueOf(&cfg).Elem(), ""); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// fieldError is a FieldError outside the settings table (notify, daemon,
// selftest sections, and checks that span settings).
func fieldError(field, value, msg, hint string) *FieldError {
	return &FieldError{Field: field, Value: value, Err: errors.New(msg), Hint: hint}
}

// Validate checks the whole file, including every job merged with the
// defaults, and returns all problems joined.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Jobs) == 0 && len(c.Drills) == 0 && len(c.Audits) == 0 {
		errs = append(errs, fieldError("jobs", "", "no jobs", "add at least one job with a name and a source (or drills: and audits: on the auditor's host)"))
	}
	if c.Selftest.Cache != nil && (*c.Selftest.Cache < 0 || *c.Selftest.Cache > Duration(MaxSelftestCache)) {
		errs = append(errs, &FieldError{Field: "selftest.cache", Value: c.Selftest.Cache.String(),
			Err: &rangeError{"0s to " + shortDuration(MaxSelftestCache)}, Hint: "use 24h, or 0s to probe before every run"})
	}
	seen := map[string]bool{}
	for i, j := range c.Jobs {
		field := fmt.Sprintf("jobs[%d]", i)
		if j.Name != "" {
			field = fmt.Sprintf("jobs[%d] (%s)", i, j.Name)
		}
		if seen[j.Name] {
			errs = append(errs, fieldError(field+".name", j.Name, "duplicate job name", "give every job its own name"))
		}
		seen[j.Name] = true
		job := c.merge(j)
		errs = append(errs, job.validate(field)...)
		errs = append(errs, c.validateNotifyRefs(field, job)...)
	}
	errs = append(errs, c.validateNotify()...)
	errs = append(errs, c.Daemon.validate()...)
	errs = append(errs, c.validateChecks()...)
	return errors.Join(errs...)
}

// MaxSelftestCache bounds selftest.cache: a verdict older than a month
// says nothing about today's key.
const MaxSelftestCache = 720 * time.Hour

// merge overlays a job's settings on the defaults and applies the defaults
// of what is still unset (the settings table).
func (c *Config) merge(j JobConfig) JobConfig {
	out := j
	mergeSettings(&out, c.Defaults)
	applyDefaults(&out)
	return out
}

func (s *Settings) applyDefaults() {
	j := JobConfig{Settings: *s}
	applyDefaults(&j)
	*s = j.Settings
}

// validate checks one merged job: every setting against its range (the
// table), then what spans settings. field names the job in the file
// ("jobs[0] (shop)"); for a job from flags (FromFlags) errors name the
// flags.
func (j JobConfig) validate(field string) []error {
	if j.FromFlags {
		field = ""
	}
	var errs []error
	for i := range settings {
		if err := settings[i].validate(field, &j); err != nil {
			errs = append(errs, err)
		}
	}
	add := func(yaml, value, msg, hint string) {
		errs = append(errs, setting(yaml).fieldErr(field, value, errors.New(msg), hint))
	}
	if len(j.Recipients) == 0 && j.RecipientsFile == "" {
		add("recipients", "", "no age recipient: putonly never uploads plaintext", "set recipients (age1..., age1pq1..., ssh-ed25519 ...) or recipients_file")
	}
	for k, r := range j.Recipients {
		if strings.HasPrefix(strings.ToUpper(r), "AGE-SECRET-KEY") {
			fe := setting("recipients").fieldErr(field, "AGE-SECRET-KEY-…", errors.New("this is a private key, not a recipient"),
				"put the public key (age-keygen -y KEYFILE) here and keep the identity off the database host")
			if fe.Field != "" {
				fe.Field += fmt.Sprintf("[%d]", k)
			}
			errs = append(errs, fe)
		}
	}
	if j.SSE == "AES256" && j.KMSKeyID != "" {
		add("kms_key_id", j.KMSKeyID, "set but sse is AES256", "set sse: aws:kms to use a KMS key")
	}
	errs = append(errs, j.validateSchedule(field)...)
	if _, err := j.Source.argv(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			switch {
			case j.FromFlags && fe.Field == ".command":
				fe.Field = "command"
			case field == "":
				fe.Field = "source" + fe.Field
			default:
				fe.Field = field + ".source" + fe.Field
			}
			errs = append(errs, fe)
		} else {
			errs = append(errs, fieldError(field+".source", "", err.Error(), ""))
		}
	}
	return errs
}

// ByteSize is a size in bytes written as 16MiB, 64MB, 1GiB or a plain number.
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*([0-9]+)\s*([KMGT]i?B?|B)?\s*$`)

// ParseByteSize parses 16MiB, 16M (= MiB), 64MB, 1073741824.
func ParseByteSize(s string) (ByteSize, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid size %q: write it as 16MiB, 64MB or a number of bytes", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	unit := strings.TrimSuffix(m[2], "B")
	mult := int64(1)
	decimal := strings.HasSuffix(m[2], "B") && !strings.Contains(m[2], "i") && len(m[2]) == 2
	base := int64(1024)
	if decimal {
		base = 1000
	}
	switch strings.TrimSuffix(unit, "i") {
	case "K":
		mult = base
	case "M":
		mult = base * base
	case "G":
		mult = base * base * base
	case "T":
		mult = base * base * base * base
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(n * mult), nil
}

func (b ByteSize) String() string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML accepts a number or a size string, with ${VAR} expansion.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s, err := expandString(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// Set and Type let a ByteSize be a flag.
func (b *ByteSize) Set(s string) error {
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Duration is a time.Duration written as 90m, 6h.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML accepts a Go duration string, with ${VAR} expansion.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, err := expandString(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q: write it as 90m or 6h", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

var envRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandString replaces ${NAME} with the environment variable NAME and $$
// with $. An unset variable is an error: an empty bucket or recipient from a
// missing variable must not pass silently.
func expandString(s string) (string, error) {
	var missing []string
	out := envRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// expandEnv expands ${VAR} in every string of v, naming the field on error.
func expandEnv(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		s, err := expandString(v.String())
		if err != nil {
			return fieldError(path, "", err.Error(), "export it, or write $$ for a literal $")
		}
		v.SetString(s)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			p := path
			if name != "" {
				if p != "" {
					p += "."
				}
				p += name
			}
			if err := expandEnv(v.Field(i), p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := expandEnv(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return expandEnv(v.Elem(), path)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			if err := expandEnv(e, fmt.Sprintf("%s.%v", path, k)); err != nil {
				return err
			}
			v.SetMapIndex(k, e)
		}
	}
	return nil
}
