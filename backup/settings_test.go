package backup

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

const boundsRecipient = "age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf"

// boundsConfig is a valid config with one job setting written in the job
// (or under its source, for source.KEY).
func boundsConfig(key, value string) string {
	src := "{type: command, command: [true]}"
	extra := ""
	switch {
	case key == "source.command":
		src = "{type: command, command: " + value + "}"
	case strings.HasPrefix(key, "source."):
		typ := "postgres, database: x"
		if key == "source.uri" {
			typ = "mongodb"
		}
		if key == "source.database" {
			typ = "postgres"
		}
		src = "{type: " + typ + ", " + strings.TrimPrefix(key, "source.") + ": " + value + "}"
	case key == "name":
		return "defaults: {bucket: bkt, recipients: [" + boundsRecipient + "]}\njobs:\n- name: " + value + "\n  source: " + src + "\n"
	default:
		extra = "  " + key + ": " + value + "\n"
	}
	return "defaults: {bucket: bkt, recipients: [" + boundsRecipient + "]}\njobs:\n- name: a\n  source: " + src + "\n" + extra
}

// TestSettingBounds: every setting that has a range, just inside it, just
// outside it and absurdly far (issue 14 item 7's list among them). Each
// rejected value is named with its field, and a range violation names the
// range.
func TestSettingBounds(t *testing.T) {
	type bound struct {
		inside, outside []string // YAML values
	}
	bounds := map[string]bound{
		"name":       {[]string{"a", strings.Repeat("a", 63), "db1.shop_x-y"}, []string{strings.Repeat("a", 64), "-a", "Shop", "'a/b'", "'../x'"}},
		"source.ext": {[]string{"sql", ".sql", "tar.gz", strings.Repeat("x", 16)}, []string{strings.Repeat("x", 17), "'../../x'", "a/b", "'*'", "\"\\u200b\""}},
		"source.database": {[]string{"shop", "'my db'", strings.Repeat("d", 255)},
			[]string{strings.Repeat("d", 256), "\"a\\x00b\"", "' '"}},
		"source.path":    {[]string{"/var/lib/app.db"}, []string{"\"/x\\x00y\"", "'" + strings.Repeat("p", 4097) + "'"}},
		"source.uri":     {[]string{"mongodb://h:27017", "'mongodb+srv://u:p@h/x'"}, []string{"http://h", "'mongodb://a b'"}},
		"source.binary":  {[]string{"/usr/bin/pg_dump", "pg_dump"}, []string{"' '", "\"pg\\tdump\""}},
		"source.args":    {[]string{"[--no-owner]", "[]"}, []string{"[\"a\\x00\"]"}},
		"source.command": {[]string{"[true]", "[sh, -c, 'echo x']"}, []string{"['']", "['  ', x]", "[\"a\\x00b\"]"}},
		"bucket": {[]string{"abc", strings.Repeat("b", 63), "acme.db-backups"},
			[]string{"ab", strings.Repeat("b", 64), "Bad_Bucket!", "a..b", "192.168.1.1", "xn--abc", "b-s3alias"}},
		"prefix": {[]string{"db1/", "prod/db1/", "'" + strings.Repeat("p", 511) + "/'"},
			[]string{"noslash", "/", "/db1/", "../", "db1/../", "a/./", "'db*/'", "a//", "\"a\\u200b/\"", "\"a\\u202e/\"", "\"a\\ufeff/\"", "\"a\\tb/\"", "'" + strings.Repeat("p", 512) + "/'"}},
		"region":                  {[]string{"eu-west-1", "us-east-1"}, []string{"'eu west 1'", "EU", strings.Repeat("r", 33)}},
		"endpoint":                {[]string{"https://s3.example.net", "http://127.0.0.1:9000", "https://h/path"}, []string{"http://", "https://", "minio:9000", "ftp://h", "'https://u:p@h'", "'https://h?x=1'", "https://h:0", "https://h:65536"}},
		"profile":                 {[]string{"prod", "a.b-c_d"}, []string{"'a b'", "' '", strings.Repeat("p", 129)}},
		"recipients_file":         {[]string{"/etc/putonly/recipients.txt"}, []string{"' '", "\"a\\x00\""}},
		"compression":             {[]string{"none", "fastest", "default", "better", "best"}, []string{"ultra", "Default", "'9'"}},
		"compression_concurrency": {[]string{"0", "1", "64"}, []string{"-1", "65", "2147483647", "9223372036854775807"}},
		"sse":                     {[]string{"AES256", "aws:kms"}, []string{"none", "aes256"}},
		"kms_key_id":              {[]string{}, []string{"'a b'", "' '"}}, // with sse: aws:kms: TestSettingBoundsKMS
		"checksum":                {[]string{"CRC64NVME", "SHA256"}, []string{"crc32", "MD5"}},
		"part_size":               {[]string{"5MiB", "5GiB", "16MiB"}, []string{"5242879", "5368709121", "1B", "8TiB"}},
		"upload_concurrency":      {[]string{"1", "64"}, []string{"65", "-1", "1000000"}},
		"max_attempts":            {[]string{"1", "100"}, []string{"101", "-1", "9223372036854775807"}},
		"timeout":                 {[]string{"1s", "720h", "6h"}, []string{"1ns", "999ms", "720h1s", "-1h", "2562047h"}},
		"connect_timeout":         {[]string{"100ms", "5m", "5s"}, []string{"99ms", "5m1s", "-1s"}},
		"max_retry_time":          {[]string{"1s", "1h", "2m"}, []string{"999ms", "1h1s", "-1s"}},
		"jitter":                  {[]string{"0s", "24h", "30m"}, []string{"-1ns", "24h1s", "2562047h"}},
		"nice":                    {[]string{"-20", "0", "19"}, []string{"-21", "20", "9223372036854775807"}},
		"ionice":                  {[]string{"idle", "best-effort", "best-effort:0", "best-effort:7", "realtime:0"}, []string{"best-effort:8", "best-effort:-1", "idle:3", "low", "'best-effort:'", "realtime:99999999999999999999"}},
	}
	for _, s := range SettingsTable() {
		b, ok := bounds[s.YAML]
		if s.check != nil && !ok {
			t.Errorf("setting %s has a check but no bounds case here", s.YAML)
		}
		for _, v := range b.inside {
			if _, err := ParseConfig([]byte(boundsConfig(s.YAML, v))); err != nil {
				t.Errorf("%s: %s rejected: %v", s.YAML, v, err)
			}
		}
		for _, v := range b.outside {
			_, err := ParseConfig([]byte(boundsConfig(s.YAML, v)))
			if err == nil {
				t.Errorf("%s: %s accepted", s.YAML, v)
				continue
			}
			field := "jobs[0] (a)." + s.YAML
			if s.YAML == "name" {
				field = "jobs[0] ("
			}
			if !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %s: error does not name %s:\n%v", s.YAML, v, field, err)
			}
			if errors.Is(err, ErrOutOfRange) && !strings.Contains(err.Error(), "out of range: ") {
				t.Errorf("%s: %s: range error does not name the range:\n%v", s.YAML, v, err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%s: %s: not a FieldError: %T %v", s.YAML, v, err, err)
			}
		}
	}
}

// TestOtherBounds: the settings outside the jobs have ranges too.
func TestOtherBounds(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"selftest: {cache: 721h}\n", `selftest.cache "721h0m0s": out of range: 0s to 720h`},
		{"selftest: {cache: -1s}\n", "out of range: 0s to 720h"},
		{"daemon: {shutdown_grace: 25h}\n", `daemon.shutdown_grace "25h0m0s": out of range: 0s to 24h`},
		{"daemon: {shutdown_grace: -1s}\n", "out of range: 0s to 24h"},
	} {
		_, err := ParseConfig([]byte(boundsConfig("timeout", "6h") + tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	for _, ok := range []string{"selftest: {cache: 0s}\n", "selftest: {cache: 720h}\n", "daemon: {shutdown_grace: 24h}\n"} {
		if _, err := ParseConfig([]byte(boundsConfig("timeout", "6h") + ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestSettingBoundsKMS: kms_key_id only with aws:kms, within its range.
func TestSettingBoundsKMS(t *testing.T) {
	for v, ok := range map[string]bool{
		"arn:aws:kms:eu-west-1:111122223333:key/1234abcd": true,
		"alias/backups":                       true,
		"'a b'":                               false,
		"'" + strings.Repeat("k", 2049) + "'": false,
	} {
		_, err := ParseConfig([]byte(boundsConfig("sse", "aws:kms") + "  kms_key_id: " + v + "\n"))
		if (err == nil) != ok {
			t.Errorf("kms_key_id %.40s: err = %v, want ok %v", v, err, ok)
		}
	}
}

// TestIssue14Absurd: the values the fault campaign found accepted, each
// rejected, naming the field and what is accepted.
func TestIssue14Absurd(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"compression_concurrency", "9223372036854775807", `compression_concurrency "9223372036854775807": out of range: 0 to 64`},
		{"compression_concurrency", "2147483647", "out of range: 0 to 64"},
		{"source.ext", "'../../x'", `source.ext "../../x": invalid extension`},
		{"source.command", "['']", "source.command: the program name (the first element) is empty"},
		{"endpoint", "'http://'", `endpoint "http://": no host`},
		{"upload_concurrency", "4.5", `upload_concurrency "4.5": expected a whole number`},
		{"timeout", "1ns", `timeout "1ns": out of range: 1s to 720h`},
		{"prefix", "'../'", "S3 keys do not begin with /"[:0] + "./ or ../"},
		{"prefix", "'db/*/'", "*, ?, $"},
		{"prefix", "\"db\\u200b/\"", "U+200B"},
		{"prefix", "\"db\\u202e/\"", "U+202E"},
	} {
		_, err := ParseConfig([]byte(boundsConfig(tc.key, tc.value)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %s: err = %v\nwant %q", tc.key, tc.value, err, tc.want)
		}
	}
	_, err := ParseConfig([]byte(boundsConfig("timeout", "6h") + "---\njobs: []\n"))
	if err == nil || !strings.Contains(err.Error(), "line 6: the file: a second YAML document") {
		t.Errorf("second document: %v", err)
	}
}

// TestConfigYAMLErrors: unknown fields name their path and the nearest
// known name; type errors name the field and the expected form; no Go type
// appears in any message.
func TestConfigYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"jobs:\n- name: a\n  source: {type: command, command: [true]}\n- name: b\n  recipents: [x]\n", "line 5: jobs[1].recipents: unknown field\n\thint: did you mean recipients?"},
		{"defaults:\n  part-size: 16MiB\njobs: []\n", "defaults.part-size: unknown field\n\thint: did you mean part_size?"},
		{"defualts: {}\n", "line 1: defualts: unknown field\n\thint: did you mean defaults?"},
		{"jobs:\n- name: a\n  source: {type: command, comand: [true]}\n", "jobs[0].source.comand: unknown field\n\thint: did you mean command?"},
		{"notify:\n  ops: {webhok: https://x}\njobs: []\n", "notify.ops.webhok: unknown field\n\thint: did you mean webhook?"},
		{"jobs:\n- name: a\n  zzzz: 1\n", "hint: known here: "},
		{"jobs: {name: a}\n", "jobs: expected a list of entries, each beginning with -"},
		{"defaults:\n  recipients: age1x\njobs: []\n", `defaults.recipients "age1x": expected a list such as [a, b]`},
		{"defaults:\n  upload_concurrency: four\njobs: []\n", `line 2: defaults.upload_concurrency "four": expected a whole number such as 4`},
		{"defaults:\n  path_style: 1\njobs: []\n", `defaults.path_style "1": expected true or false`},
		{"defaults:\n  bucket: [a]\njobs: []\n", "defaults.bucket: expected a single value"},
		{"defaults:\n  timeout: {h: 1}\njobs: []\n", "defaults.timeout: expected a duration such as 90m or 6h"},
		{"defaults:\n  upload_concurrency: 99999999999999999999\njobs: []\n", "too large"},
		{"selftest: {cache: soon}\njobs: []\n", `selftest.cache "soon": not a duration`},
		{"- a\n- b\n", "the file: expected a mapping of key: value"},
	} {
		_, err := ParseConfig([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\nerr = %v\nwant %q", tc.yaml, err, tc.want)
			continue
		}
		for _, goName := range []string{"backup.", "type ", "int64", "[]string", "!!", "unmarshal"} {
			if strings.Contains(err.Error(), goName) {
				t.Errorf("%q: message shows Go or YAML internals (%q): %v", tc.yaml, goName, err)
			}
		}
	}
}

// TestAdhocErrorsNameFlags: a job from flags is named by its flags, not by
// config fields (no text rewriting: the table knows both).
func TestAdhocErrorsNameFlags(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var jc JobConfig
	RegisterFlags(fs, &jc, true)
	if err := fs.Parse([]string{"--bucket", "Bad_Bucket!", "--prefix", "noslash", "--part-size", "1MiB", "--nice", "20",
		"--recipient", boundsRecipient, "--schedule", "@daily", "--jitter", "25h"}); err != nil {
		t.Fatal(err)
	}
	jc.Name, jc.FromFlags = "x", true
	jc.Source = SourceConfig{Type: SourceCommand, Command: []string{""}}
	_, err := ResolveJob(jc)
	for _, want := range []string{
		`--bucket "Bad_Bucket!": bucket names use only lowercase`,
		"--prefix \"noslash\": must end in /",
		"hint: write \"noslash/\"",
		`--part-size "1MiB": out of range: 5MiB to 5GiB`,
		`--nice "20": out of range: -20 to 19`,
		`--jitter "25h0m0s": out of range: 0s to 24h`,
		"command: the program name (the first element) is empty",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "job.") {
		t.Errorf("config field names in a flag error: %v", err)
	}
	for _, bad := range [][]string{{"--upload-concurrency", "4.5"}, {"--nice", "x"}, {"--path-style=maybe"}, {"--timeout", "soon"}} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var jc JobConfig
		RegisterFlags(fs, &jc, false)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestConfigFlagsError: only the table's WithConfig flags go with --config.
func TestConfigFlagsError(t *testing.T) {
	for _, s := range SettingsTable() {
		if s.Flag == "" {
			continue
		}
		err := ConfigFlagsError(map[string]bool{s.Flag: true, "config": true})
		if s.WithConfig != (err == nil) {
			t.Errorf("--%s with --config: %v (WithConfig %v)", s.Flag, err, s.WithConfig)
		}
	}
	err := ConfigFlagsError(map[string]bool{"nice": true})
	if err == nil || !strings.Contains(err.Error(), "--nice cannot be combined with --config") || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("err = %v", err)
	}
}

// TestOverride: a connection flag given next to --config wins over every
// job's value in the file.
func TestOverride(t *testing.T) {
	cfg, err := ParseConfig([]byte(boundsConfig("endpoint", "https://file.example.net") + "- name: b\n  source: {type: command, command: [true]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var flags JobConfig
	RegisterFlags(fs, &flags, false)
	if err := fs.Parse([]string{"--endpoint", "http://127.0.0.1:9000", "--path-style"}); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{"endpoint": true, "path-style": true}
	if err := ValidateFlags(&flags, set); err != nil {
		t.Fatal(err)
	}
	cfg.Override(&flags, set)
	jobs, err := cfg.ResolveJobs("")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Client.Endpoint != "http://127.0.0.1:9000" || !j.Client.PathStyle {
			t.Errorf("%s: %+v", j.Name, j.Client)
		}
	}
}
