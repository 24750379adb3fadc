package backup

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/internal/s3name"
)

// FieldError is a setting whose value is not accepted: where it was given
// (a config field or a flag), the value, what is wrong and the fix.
type FieldError struct {
	// Field is the path in the config file, such as "jobs[1] (shop).part_size";
	// empty when the value came from a flag.
	Field string
	// Flag is the flag of the same setting ("--part-size"), or "" if it
	// has none.
	Flag string
	// Value is the value as given ("" when there is none, or it is secret).
	Value string
	// Err says what is wrong; errors.Is and errors.As see it.
	Err error
	// Hint is how to fix it, printed on a line of its own.
	Hint string
	// Line is the line in the config file, 0 when unknown.
	Line int
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	name := e.Field
	if name == "" {
		name = e.Flag
	}
	b.WriteString(name)
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Hint != "" {
		b.WriteString("\n\thint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// ErrOutOfRange is the Err of a FieldError whose value lies outside the
// setting's documented range (errors.Is).
var ErrOutOfRange = errors.New("out of range")

// rangeError is ErrOutOfRange naming the range.
type rangeError struct{ rng string }

func (e *rangeError) Error() string { return "out of range: " + e.rng }
func (e *rangeError) Is(target error) bool {
	return target == ErrOutOfRange
}

// A Setting is one row of the table of job settings. Everything the agent
// knows about an option lives here: the config key, the flag, the default,
// the accepted range, the help, and whether the flag may be given next to
// --config. Merging defaults into jobs, applying defaults, validation,
// flag registration and the names in error messages all read the table, so
// adding a setting is one row plus its use.
type Setting struct {
	YAML    string // key under defaults: and in a job ("source.ext": under source:)
	Flag    string // flag of run and daemon, without "--"; "" for none
	Default string // as documented; "" none
	Range   string // what is accepted, as documented and named in errors
	Help    string // flag usage: what it does; `word` names the value
	// WithConfig: the flag may be combined with --config; it then
	// overrides every job of the file (where to connect, not what to write).
	WithConfig bool
	// Daemon: the flag exists on 'putonly daemon' only (run ignores it).
	Daemon bool
	// Job: set in a job only, never under defaults.
	Job bool
	// Secret: the value may hold a password; errors do not show it.
	Secret bool

	ptr   func(*JobConfig) any // the field: *string, *int, *ByteSize, ...
	def   any                  // applied when unset after merging, typed as the field; nil none
	check func(p any) error    // nil accepts anything; p is ptr's result
	hint  string               // the fix for a failed check
}

// Settings lists every job setting, in the order of the docs and --help.
func SettingsTable() []Setting { return append([]Setting(nil), settings...) }

var settings = []Setting{
	{YAML: "name", Flag: "name", Job: true, Default: "the command's name", Range: "1-63 characters of a-z, 0-9, '.', '_', '-', beginning with a letter or digit",
		Help: "job `name` for an ad-hoc command; part of the object key",
		ptr:  func(j *JobConfig) any { return &j.Name }, check: matches(jobNameRE, "invalid job name"),
		hint: "use 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit (it becomes part of the object key)"},
	{YAML: "source.ext", Flag: "ext", Job: true, Default: "by source type: dump, sql, archive", Range: "1-16 characters of a-z, 0-9, '.', '_', '-', beginning with a letter or digit (a leading '.' is dropped)",
		Help: "`extension` of the dump layer in the object name: dump, sql, archive, tar",
		ptr:  func(j *JobConfig) any { return &j.Source.Ext }, check: optional(matchesTrimmed(extRE, ".", "invalid extension")),
		hint: "name the format, such as dump, sql or tar: it becomes the object name's extension, .zst.age follows"},
	{YAML: "source.type", Job: true, Help: "what produces the dump (see the sources below)", Range: "postgres, mysql, mongodb, sqlite or command",
		ptr: func(j *JobConfig) any { return &j.Source.Type }},
	{YAML: "source.database", Job: true, Help: "the database to dump (postgres, mysql, mongodb)", Range: "a database name, up to 255 printable characters",
		ptr: func(j *JobConfig) any { return &j.Source.Database }, check: optional(printable(255, true)),
		hint: "name the database as the server knows it"},
	{YAML: "source.path", Job: true, Help: "the SQLite database file", Range: "the SQLite database file, up to 4096 printable characters",
		ptr: func(j *JobConfig) any { return &j.Source.Path }, check: optional(printable(4096, true)),
		hint: "give the path of the database file"},
	{YAML: "source.uri", Job: true, Help: "mongodump's --uri; never shown in errors", Secret: true, Range: "a mongodb:// or mongodb+srv:// connection string, up to 4096 printable characters",
		ptr: func(j *JobConfig) any { return &j.Source.URI }, check: optional(str(checkMongoURI)),
		hint: "write it as mongodb://host:27017 (the password belongs in the environment or a file the tool reads)"},
	{YAML: "source.binary", Job: true, Help: "the dump program instead of the preset's", Default: "the preset's tool, found in PATH", Range: "a program name or path, up to 4096 printable characters",
		ptr: func(j *JobConfig) any { return &j.Source.Binary }, check: optional(printable(4096, true)),
		hint: "give the dump program's name (found in PATH) or absolute path"},
	{YAML: "source.args", Job: true, Help: "arguments after the preset's", Secret: true, Range: "arguments appended to a preset's, without NUL bytes",
		ptr: func(j *JobConfig) any { return &j.Source.Args }, check: argvCheck(false),
		hint: "remove the NUL byte"},
	{YAML: "source.command", Job: true, Help: "the dump command of type: command (the ad-hoc form: the command after --)", Secret: true, Range: "the argv of the dump (no shell): a program name or path, then its arguments, without NUL bytes",
		ptr: func(j *JobConfig) any { return &j.Source.Command }, check: argvCheck(true),
		hint: "set command: [pg_dump, -Fc, shop] (argv, no shell; write [sh, -c, '...'] for one)"},
	{YAML: "bucket", Flag: "bucket", Range: s3name.BucketRange,
		Help: "S3 `bucket` to write to",
		ptr:  func(j *JobConfig) any { return &j.Bucket }, check: str(s3name.CheckBucket),
		hint: "set bucket under defaults or in the job"},
	{YAML: "prefix", Flag: "prefix", Default: "none (the whole bucket)", Range: s3name.PrefixRange + "; no leading /, ./ or ../, *, ?, $, quotes, backslashes, //, control, zero-width or bidirectional characters",
		Help: "key `prefix` ending in /, e.g. db1/ (the policy grants PutObject on BUCKET/PREFIX*)",
		ptr:  func(j *JobConfig) any { return &j.Prefix }, check: str(s3name.CheckPrefix)},
	{YAML: "region", Flag: "region", WithConfig: true, Default: "from the AWS config", Range: "an AWS region name such as eu-west-1: a-z, 0-9 and '-', up to 32",
		Help: "AWS `region`",
		ptr:  func(j *JobConfig) any { return &j.Region }, check: optional(matches(regionRE, "not a region name")),
		hint: "write it as eu-west-1 (an S3-compatible store often takes us-east-1)"},
	{YAML: "endpoint", Flag: "endpoint", WithConfig: true, Default: "AWS S3, or AWS_ENDPOINT_URL_S3", Range: "an http:// or https:// URL with a host, without user, query or fragment",
		Help: "S3-compatible endpoint `URL`",
		ptr:  func(j *JobConfig) any { return &j.Endpoint }, check: optional(str(checkEndpoint)),
		hint: "write it as https://host[:port]"},
	{YAML: "path_style", Flag: "path-style", WithConfig: true, Range: "true or false (default false)",
		Help: "path-style addressing (most S3-compatible stores)",
		ptr:  func(j *JobConfig) any { return &j.PathStyle }},
	{YAML: "profile", Flag: "profile", WithConfig: true, Default: "AWS_PROFILE, else default", Range: "a profile name of the shared AWS config: up to 128 printable characters, no spaces",
		Help: "shared AWS config `profile`",
		ptr:  func(j *JobConfig) any { return &j.Profile }, check: optional(printable(128, false)),
		hint: "name a [profile NAME] section of ~/.aws/config"},
	{YAML: "recipients", Flag: "recipient", Range: "age1..., age1pq1... or ssh-ed25519/ssh-rsa public keys; at least one, here or in recipients_file",
		Help: "age `recipient` (age1..., age1pq1..., \"ssh-ed25519 AAAA...\"); repeat for several",
		ptr:  func(j *JobConfig) any { return &j.Recipients }},
	{YAML: "recipients_file", Flag: "recipients-file", Range: "a file of recipients, one per line (# comments allowed)",
		Help: "`file` of recipients, one per line (# comments allowed)",
		ptr:  func(j *JobConfig) any { return &j.RecipientsFile }, check: optional(printable(4096, true)),
		hint: "give the path of a readable file"},
	{YAML: "compression", Flag: "compression", Default: DefaultCompression, Range: "none, fastest, default, better, best, auto",
		Help: "zstd `level`: fastest, default, better, best, auto (default, or fastest while other processes need the CPUs), or none for dumps already compressed",
		ptr:  func(j *JobConfig) any { return &j.Compression }, def: DefaultCompression, check: oneOf("none", "fastest", "default", "better", "best", "auto"),
		hint: "none for dumps already compressed (pg_dump -Fc with its own compression, mongodump --gzip)"},
	{YAML: "compression_concurrency", Flag: "compression-concurrency", Default: "0: one per CPU", Range: "0 to 64",
		Help: "zstd worker `count`",
		ptr:  func(j *JobConfig) any { return &j.CompressionConcurrency }, check: intIn(0, 64),
		hint: "0 uses one per CPU; each worker holds its own window"},
	{YAML: "sse", Flag: "sse", Default: DefaultSSE, Range: "AES256 (SSE-S3) or aws:kms (SSE-KMS, with kms_key_id)",
		Help: "server-side `encryption`: AES256 (SSE-S3) or aws:kms",
		ptr:  func(j *JobConfig) any { return &j.SSE }, def: DefaultSSE, check: oneOf("AES256", "aws:kms"),
		hint: "use AES256 (SSE-S3) or aws:kms (SSE-KMS, with kms_key_id)"},
	{YAML: "kms_key_id", Flag: "kms-key-id", Range: "with sse: aws:kms only: a key id, alias/NAME or key ARN, up to 2048 printable characters",
		Help: "KMS key `id` or ARN for --sse aws:kms",
		ptr:  func(j *JobConfig) any { return &j.KMSKeyID }, check: optional(printable(2048, false))},
	{YAML: "checksum", Flag: "checksum", Default: DefaultChecksum, Range: "CRC64NVME (full object) or SHA256",
		Help: "`checksum` S3 verifies on upload: CRC64NVME (full object) or SHA256",
		ptr:  func(j *JobConfig) any { return &j.Checksum }, def: DefaultChecksum, check: oneOf("CRC64NVME", "SHA256"),
		hint: "use CRC64NVME (full-object, the default) or SHA256"},
	{YAML: "part_size", Flag: "part-size", Default: "16MiB", Range: "5MiB to 5GiB",
		Help: "multipart part `size`; memory is about part-size × (upload-concurrency + 1)",
		ptr:  func(j *JobConfig) any { return &j.PartSize }, def: ByteSize(DefaultPartSize), check: sizeIn(minPartSize, maxPartSize),
		hint: "S3 parts are 5MiB to 5GiB; 16MiB is a good start"},
	{YAML: "upload_concurrency", Flag: "upload-concurrency", Default: "4", Range: "1 to 64",
		Help: "`n` parts uploaded at once",
		ptr:  func(j *JobConfig) any { return &j.UploadConcurrency }, def: DefaultUploadConcurrency, check: intIn(1, 64),
		hint: "memory is about part_size × (upload_concurrency + 1)"},
	{YAML: "max_attempts", Flag: "max-attempts", Default: "20", Range: "1 to 100",
		Help: "`n` attempts per request on throttling, 5xx and cut connections",
		ptr:  func(j *JobConfig) any { return &j.MaxAttempts }, def: DefaultMaxAttempts, check: intIn(1, 100),
		hint: "20 with max_retry_time 2m rides out an S3 outage of a minute or more"},
	{YAML: "connect_timeout", Flag: "connect-timeout", WithConfig: true, Default: "5s", Range: "100ms to 5m",
		Help: "give up on a connection (TCP connect, TLS handshake) after this `duration`, apart from the transfer's retries",
		ptr:  func(j *JobConfig) any { return &j.ConnectTimeout }, def: Duration(s3err.DefaultConnectTimeout), check: durationIn(100*time.Millisecond, 5*time.Minute),
		hint: "a wrong or dead endpoint is named within it; raise it only for a slow link"},
	{YAML: "max_retry_time", Flag: "max-retry-time", Default: "2m", Range: "1s to 1h, and never past timeout",
		Help: "keep retrying one request for at most this `duration` (capped exponential backoff with jitter)",
		ptr:  func(j *JobConfig) any { return &j.MaxRetryTime }, def: Duration(DefaultMaxRetryTime), check: durationIn(time.Second, time.Hour),
		hint: "use a duration such as 2m: long enough to ride out an S3 outage, short enough to fail before the job's timeout"},
	{YAML: "timeout", Flag: "timeout", Default: "12h", Range: "1s to 720h",
		Help: "bound the whole job (self-test, dump, upload) by this `duration`; the abort of a failed upload gets 15s more",
		ptr:  func(j *JobConfig) any { return &j.Timeout }, def: Duration(DefaultTimeout), check: durationIn(time.Second, 720*time.Hour),
		hint: "use a duration such as 6h: the whole job, dump and upload, must end within it"},
	{YAML: "nice", Flag: "nice", Default: "putonly's own", Range: "-20 to 19",
		Help: "run the dump at this CPU `niceness`: 19 yields most to the database",
		ptr:  func(j *JobConfig) any { return &j.Nice }, check: optIntIn(-20, 19),
		hint: "10 lets the database go first; below 0 needs root or CAP_SYS_NICE"},
	{YAML: "ionice", Flag: "ionice", Default: "putonly's own", Range: "idle, best-effort[:0-7] or realtime[:0-7]",
		Help: "run the dump in this I/O scheduling `class`: idle, best-effort[:0-7] or realtime[:0-7], as ionice(1)",
		ptr:  func(j *JobConfig) any { return &j.IONice }, check: optional(checkIONice),
		hint: "idle reads only when the disk is otherwise idle; best-effort:7 is the lowest that still progresses under load"},
	{YAML: "schedule", Flag: "schedule", Daemon: true, Range: `five cron fields such as "15 2 * * *", or @daily, @hourly, @every 6h (at least 1m)`,
		Help: "ad-hoc job: cron `spec` (\"15 2 * * *\", @daily, @every 6h)",
		ptr:  func(j *JobConfig) any { return &j.Schedule }},
	{YAML: "time_zone", Flag: "time-zone", Daemon: true, Default: "the host's", Range: "an IANA time zone name such as UTC or Europe/Berlin",
		Help: "ad-hoc job: time `zone` of the schedule, e.g. Europe/Berlin",
		ptr:  func(j *JobConfig) any { return &j.TimeZone }},
	{YAML: "jitter", Flag: "jitter", Daemon: true, Default: "0s: none", Range: "0s to 24h",
		Help: "ad-hoc job: delay each start by a fixed per-host amount below this `duration`",
		ptr:  func(j *JobConfig) any { return &j.Jitter }, check: optDurationIn(0, 24*time.Hour),
		hint: "use a duration such as 30m, or 0 for none"},
	{YAML: "notify", Help: "where the daemon reports each result", Range: "names of destinations defined under notify:",
		ptr: func(j *JobConfig) any { return &j.Notify }},
}

// Names accepted by settings that name things.
var (
	// Both name parts of the object key: internal/layout owns them, so
	// the config accepts exactly the names a restore can list.
	jobNameRE = layout.JobNameRE
	extRE     = layout.DumpExtRE
	regionRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// setting returns the row of a YAML key; it panics on a name not in the
// table (a programming error).
func setting(yaml string) *Setting {
	for i := range settings {
		if settings[i].YAML == yaml {
			return &settings[i]
		}
	}
	panic("backup: no setting " + yaml)
}

// fieldErr is the FieldError of a setting: named by its config path
// (field + key), or by its flag when field is "" (the value came from a
// flag).
func (s *Setting) fieldErr(field string, value string, err error, hint string) *FieldError {
	fe := &FieldError{Value: value, Err: err, Hint: hint}
	if s.Flag != "" {
		fe.Flag = "--" + s.Flag
	}
	if field != "" {
		fe.Field = field + "." + s.YAML
	} else if s.Flag == "" {
		// No flag to name: an ad-hoc job's command is its argv.
		fe.Field = strings.TrimPrefix(s.YAML, "source.")
	}
	if fe.Hint == "" {
		var p *s3name.Problem
		if errors.As(err, &p) {
			fe.Hint = p.Fix
		} else {
			fe.Hint = s.hint
		}
	}
	return fe
}

// validate runs the row's check on the field of j.
func (s *Setting) validate(field string, j *JobConfig) error {
	if s.check == nil {
		return nil
	}
	p := s.ptr(j)
	if err := s.check(p); err != nil {
		v := show(p)
		if s.Secret {
			v = ""
		}
		return s.fieldErr(field, v, err, "")
	}
	return nil
}

// show formats a field's value for an error message.
func show(p any) string {
	switch v := p.(type) {
	case *string:
		return *v
	case *int:
		return strconv.Itoa(*v)
	case **int:
		if *v == nil {
			return ""
		}
		return strconv.Itoa(**v)
	case *ByteSize:
		return v.String()
	case *Duration:
		return v.String()
	case **Duration:
		if *v == nil {
			return ""
		}
		return (*v).String()
	case *[]string:
		return strings.Join(*v, " ")
	}
	return ""
}

// mergeSettings fills the fields j leaves unset from d (the defaults).
func mergeSettings(j *JobConfig, d Settings) {
	dj := &JobConfig{Settings: d}
	for i := range settings {
		s := &settings[i]
		if s.Job || s.YAML == "recipients" || s.YAML == "recipients_file" {
			continue
		}
		dst := reflect.ValueOf(s.ptr(j)).Elem()
		if dst.IsZero() {
			dst.Set(reflect.ValueOf(s.ptr(dj)).Elem())
		}
	}
	// Recipients come as a whole: a job naming its own recipients (list or
	// file) takes none of the defaults'.
	if len(j.Recipients) == 0 && j.RecipientsFile == "" {
		j.Recipients, j.RecipientsFile = d.Recipients, d.RecipientsFile
	}
}

// applyDefaults sets the documented default of every field still unset.
func applyDefaults(j *JobConfig) {
	for i := range settings {
		s := &settings[i]
		if s.def == nil {
			continue
		}
		dst := reflect.ValueOf(s.ptr(j)).Elem()
		if dst.IsZero() {
			dst.Set(reflect.ValueOf(s.def))
		}
	}
}

// --- checks: each returns what is wrong with *p, naming the range.

func optional(c func(any) error) func(any) error {
	return func(p any) error {
		if reflect.ValueOf(p).Elem().IsZero() {
			return nil
		}
		return c(p)
	}
}

func str(f func(string) error) func(any) error {
	return func(p any) error { return f(*p.(*string)) }
}

func matches(re *regexp.Regexp, what string) func(any) error {
	return matchesTrimmed(re, "", what)
}

func matchesTrimmed(re *regexp.Regexp, cut, what string) func(any) error {
	return func(p any) error {
		if !re.MatchString(strings.TrimPrefix(*p.(*string), cut)) {
			return errors.New(what)
		}
		return nil
	}
}

func oneOf(vals ...string) func(any) error {
	return func(p any) error {
		for _, v := range vals {
			if *p.(*string) == v {
				return nil
			}
		}
		return fmt.Errorf("unknown: use %s", strings.Join(vals, ", "))
	}
}

func intIn(lo, hi int) func(any) error {
	return func(p any) error {
		if v := *p.(*int); v < lo || v > hi {
			return &rangeError{fmt.Sprintf("%d to %d", lo, hi)}
		}
		return nil
	}
}

func optIntIn(lo, hi int) func(any) error {
	return func(p any) error {
		if v := *p.(**int); v != nil && (*v < lo || *v > hi) {
			return &rangeError{fmt.Sprintf("%d to %d", lo, hi)}
		}
		return nil
	}
}

func sizeIn(lo, hi ByteSize) func(any) error {
	return func(p any) error {
		if v := *p.(*ByteSize); v < lo || v > hi {
			return &rangeError{lo.String() + " to " + hi.String()}
		}
		return nil
	}
}

func durationIn(lo, hi time.Duration) func(any) error {
	return func(p any) error {
		if v := time.Duration(*p.(*Duration)); v < lo || v > hi {
			return &rangeError{shortDuration(lo) + " to " + shortDuration(hi)}
		}
		return nil
	}
}

func optDurationIn(lo, hi time.Duration) func(any) error {
	return func(p any) error {
		if v := *p.(**Duration); v != nil && (time.Duration(*v) < lo || time.Duration(*v) > hi) {
			return &rangeError{shortDuration(lo) + " to " + shortDuration(hi)}
		}
		return nil
	}
}

// shortDuration writes 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// printable accepts up to max bytes of printable characters (spaces too if
// spaces).
func printable(max int, spaces bool) func(any) error {
	return func(p any) error {
		v := *p.(*string)
		if len(v) > max {
			return &rangeError{fmt.Sprintf("at most %d bytes", max)}
		}
		if strings.TrimSpace(v) == "" {
			return errors.New("blank")
		}
		for _, r := range v {
			if !unicode.IsPrint(r) && !(spaces && r == ' ') || (!spaces && unicode.IsSpace(r)) {
				return fmt.Errorf("contains the character %U", r)
			}
		}
		return nil
	}
}

// argvCheck accepts arguments without NUL bytes (exec cannot pass them);
// with program, the first must name a program.
func argvCheck(program bool) func(any) error {
	return func(p any) error {
		argv := *p.(*[]string)
		if program && len(argv) > 0 && strings.TrimSpace(argv[0]) == "" {
			return errors.New("the program name (the first element) is empty")
		}
		for i, a := range argv {
			if strings.ContainsRune(a, 0) {
				return fmt.Errorf("element %d contains a NUL byte", i)
			}
		}
		return nil
	}
}

// checkMongoURI accepts mongodb:// and mongodb+srv:// connection strings.
func checkMongoURI(s string) error {
	if !strings.HasPrefix(s, "mongodb://") && !strings.HasPrefix(s, "mongodb+srv://") {
		return errors.New("not a mongodb:// or mongodb+srv:// URI")
	}
	return printable(4096, false)(&s)
}

// checkEndpoint accepts http:// and https:// URLs with a host.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("not a URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("credentials in the URL: they come from the AWS chain")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("a query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("port out of range: 1 to 65535")
		}
	}
	return nil
}

// --- flags

// RegisterFlags registers on fs the flag of every job setting that has one,
// writing into j: run's (and, with daemon, the daemon-only ones too). Each
// usage line ends with the setting's range and default.
func RegisterFlags(fs *flag.FlagSet, j *JobConfig, daemon bool) {
	for i := range settings {
		s := &settings[i]
		if s.Flag == "" || (s.Daemon && !daemon) {
			continue
		}
		s.register(fs, j)
	}
}

// RegisterFlagsOf registers the flags of the named settings only (YAML
// names), for commands that take a few (selftest).
func RegisterFlagsOf(fs *flag.FlagSet, j *JobConfig, yaml ...string) {
	for _, y := range yaml {
		setting(y).register(fs, j)
	}
}

func (s *Setting) register(fs *flag.FlagSet, j *JobConfig) {
	p := s.ptr(j)
	var extra []string
	switch p.(type) {
	case *int, **int, *ByteSize, *Duration, **Duration:
		// Numbers name their range; strings list their values in Help.
		extra = append(extra, s.Range)
	}
	switch {
	case s.Default == "":
	case s.def != nil && reflect.TypeOf(s.def).Kind() == reflect.String:
		extra = append(extra, fmt.Sprintf("default %q", s.Default))
	default:
		extra = append(extra, "default "+s.Default)
	}
	usage := s.Help
	if len(extra) > 0 {
		usage += " (" + strings.Join(extra, "; ") + ")"
	}
	fs.Var(flagValue(p), s.Flag, usage)
}

// flagValue wraps a field as a flag.Value whose zero is "not given".
func flagValue(p any) flag.Value {
	switch v := p.(type) {
	case *string:
		return (*stringFlag)(v)
	case *int:
		return (*intFlag)(v)
	case **int:
		return &optIntFlag{v}
	case *ByteSize:
		return v
	case *Duration:
		return v
	case **Duration:
		return &optDurationFlag{v}
	case **bool:
		return &optBoolFlag{v}
	case *[]string:
		return (*listFlag)(v)
	}
	panic(fmt.Sprintf("backup: no flag for %T", p))
}

type stringFlag string

func (f *stringFlag) String() string     { return string(*f) }
func (f *stringFlag) Set(s string) error { *f = stringFlag(s); return nil }

type intFlag int

func (f *intFlag) String() string { return strconv.Itoa(int(*f)) }
func (f *intFlag) Set(s string) error {
	n, err := parseInt(s)
	*f = intFlag(n)
	return err
}

type optIntFlag struct{ p **int }

func (f *optIntFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.Itoa(**f.p)
}
func (f *optIntFlag) Set(s string) error {
	n, err := parseInt(s)
	if err != nil {
		return err
	}
	*f.p = &n
	return nil
}

// parseInt accepts a whole number, saying so when it is not one (4.5).
func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errors.New("too large")
		}
		return 0, errors.New("not a whole number")
	}
	return n, nil
}

type optDurationFlag struct{ p **Duration }

func (f *optDurationFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return (*f.p).String()
}
func (f *optDurationFlag) Set(s string) error {
	var d Duration
	if err := d.Set(s); err != nil {
		return err
	}
	*f.p = &d
	return nil
}

type optBoolFlag struct{ p **bool }

func (f *optBoolFlag) IsBoolFlag() bool { return true }
func (f *optBoolFlag) String() string {
	if f.p == nil || *f.p == nil {
		return ""
	}
	return strconv.FormatBool(**f.p)
}
func (f *optBoolFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not true or false")
	}
	*f.p = &b
	return nil
}

type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error { *f = append(*f, s); return nil }

// Set lets a Duration be a flag.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: write it as 90m or 6h", s)
	}
	*d = Duration(v)
	return nil
}

// ConfigFlagsError says that a flag given on the command line cannot be
// combined with --config (set: the names of the flags given), or returns
// nil. The flags a config accepts are the table's WithConfig ones.
func ConfigFlagsError(set map[string]bool) error {
	var ok []string
	for i := range settings {
		s := &settings[i]
		if s.Flag != "" && s.WithConfig {
			ok = append(ok, "--"+s.Flag)
		}
	}
	for i := range settings {
		s := &settings[i]
		if s.Flag != "" && !s.WithConfig && set[s.Flag] {
			// Not "only these flags apply": --job, --state, --textfile,
			// --log-format and the command's own flags do too; these are
			// the job settings a command line may override.
			return fmt.Errorf("--%s cannot be combined with --config\n\thint: set it in the config file; of the job settings, only %s and %s may be given next to --config (they override every job's)",
				s.Flag, strings.Join(ok[:len(ok)-1], ", "), ok[len(ok)-1])
		}
	}
	return nil
}

// ValidateFlags checks the settings of j whose flags were given (set), named
// by their flags: the overrides given next to --config, or a command's few.
func ValidateFlags(j *JobConfig, set map[string]bool) error {
	var errs []error
	for i := range settings {
		s := &settings[i]
		if s.Flag != "" && set[s.Flag] {
			if err := s.validate("", j); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Override copies into every job of c the settings of flags whose flags were
// given (set) and that apply to a config (WithConfig): the command line wins
// over the file.
func (c *Config) Override(flags *JobConfig, set map[string]bool) {
	for i := range settings {
		s := &settings[i]
		if s.Flag == "" || !s.WithConfig || !set[s.Flag] {
			continue
		}
		v := reflect.ValueOf(s.ptr(flags)).Elem()
		for k := range c.Jobs {
			reflect.ValueOf(s.ptr(&c.Jobs[k])).Elem().Set(v)
		}
	}
}
