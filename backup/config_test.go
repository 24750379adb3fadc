package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodConfig = `
defaults:
  bucket: acme-backups
  prefix: db1/
  recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]
  part_size: 32MiB
jobs:
  - name: shop
    source: {type: postgres, database: shop}
  - name: wiki
    source: {type: mysql, database: wiki}
    compression: better
    upload_concurrency: 2
  - name: app
    source: {type: sqlite, path: /var/lib/app/app.db}
    bucket: other
  - name: files
    source: {type: command, command: [tar, -C, /srv, -cf, -, .], ext: tar}
    compression: fastest
`

func TestParseConfigMergesDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveJobs("")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 4 {
		t.Fatalf("%d jobs, want 4", len(jobs))
	}
	shop, wiki, app, files := jobs[0], jobs[1], jobs[2], jobs[3]
	if shop.Bucket != "acme-backups" || shop.Prefix != "db1/" || shop.PartSize != 32<<20 || shop.Compression != "default" || shop.SSE != "AES256" {
		t.Errorf("shop = %+v", shop)
	}
	if got := strings.Join(shop.Argv, " "); got != "pg_dump --format=custom --compress=0 --dbname=shop" || shop.Ext != "dump" {
		t.Errorf("shop argv = %q ext %q", got, shop.Ext)
	}
	if wiki.Compression != "better" || wiki.UploadConcurrency != 2 || wiki.Ext != "sql" || !strings.Contains(strings.Join(wiki.Argv, " "), "--single-transaction") {
		t.Errorf("wiki = %+v", wiki)
	}
	if app.Bucket != "other" || strings.Join(app.Argv[1:], " ") != "-bail -readonly /var/lib/app/app.db .dump" {
		t.Errorf("app = %+v", app)
	}
	if files.Ext != "tar" || files.Argv[0] != "tar" {
		t.Errorf("files = %+v", files)
	}
	one, err := cfg.ResolveJobs("wiki")
	if err != nil || len(one) != 1 || one[0].Name != "wiki" {
		t.Fatalf("ResolveJobs(wiki) = %v, %v", one, err)
	}
	if _, err := cfg.ResolveJobs("nope"); err == nil || !strings.Contains(err.Error(), "shop, wiki, app, files") {
		t.Errorf("unknown job: err = %v, want the known names", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	const rec = "age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error: field, value, fix
	}{
		{"unknown field (typo)", "defaults:\n  bucket: bkt\n  recipent: [x]\njobs: []\n", []string{"defaults.recipent: unknown field", "did you mean recipients?"}},
		{"unknown source field", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: postgres, databse: x}\n", []string{"jobs[0].source.databse: unknown field", "did you mean database?"}},
		{"no jobs", "defaults: {bucket: bkt}\n", []string{"jobs: no jobs"}},
		{"no recipients", "jobs:\n- name: a\n  bucket: bkt\n  source: {type: postgres, database: x}\n", []string{"jobs[0] (a).recipients", "never uploads plaintext"}},
		{"private key as recipient", "defaults: {bucket: bkt, recipients: [AGE-SECRET-KEY-1QQQ]}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"recipients[0]", "private key"}},
		{"no bucket", "defaults: {recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"jobs[0] (a).bucket", "no bucket"}},
		{"bad name", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: Shop DB\n  source: {type: postgres, database: x}\n", []string{".name \"Shop DB\"", "a-z"}},
		{"duplicate name", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n- name: a\n  source: {type: postgres, database: y}\n", []string{"duplicate job name"}},
		{"unknown type", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: postgress}\n", []string{"source.type \"postgress\"", "use postgres, mysql"}},
		{"postgres without db", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: postgres}\n", []string{"source.database", "all: true"}},
		{"command without argv", "defaults: {bucket: bkt, recipients: [" + rec + "]}\njobs:\n- name: a\n  source: {type: command}\n", []string{"source.command", "sh, -c"}},
		{"bad compression", "defaults: {bucket: bkt, recipients: [" + rec + "], compression: ultra}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"compression \"ultra\"", "fastest, default, better, best"}},
		{"bad sse", "defaults: {bucket: bkt, recipients: [" + rec + "], sse: none}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"sse \"none\"", "AES256"}},
		{"small part", "defaults: {bucket: bkt, recipients: [" + rec + "], part_size: 1MiB}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"part_size \"1MiB\"", "5MiB to 5GiB"}},
		{"bad size", "defaults: {bucket: bkt, part_size: lots}\njobs: []\n", []string{"defaults.part_size \"lots\": not a size", "16MiB"}},
		{"bad duration", "defaults: {bucket: bkt, timeout: forever}\njobs: []\n", []string{"defaults.timeout \"forever\": not a duration", "6h"}},
		{"unset env", "defaults: {bucket: '${PUTONLY_TEST_UNSET_VAR}'}\njobs: []\n", []string{"defaults.bucket", "PUTONLY_TEST_UNSET_VAR is not set"}},
		{"endpoint not a url", "defaults: {bucket: bkt, recipients: [" + rec + "], endpoint: minio:9000}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"endpoint \"minio:9000\"", "https://"}},
		{"kms key with AES256", "defaults: {bucket: bkt, recipients: [" + rec + "], kms_key_id: abc}\njobs:\n- name: a\n  source: {type: postgres, database: x}\n", []string{"kms_key_id", "aws:kms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n  does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigEnvExpansion(t *testing.T) {
	t.Setenv("PUTONLY_TEST_BUCKET", "from-env")
	t.Setenv("PUTONLY_TEST_PART", "64MiB")
	cfg, err := ParseConfig([]byte(`
defaults:
  bucket: ${PUTONLY_TEST_BUCKET}
  part_size: ${PUTONLY_TEST_PART}
  recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]
jobs:
  - name: a
    source: {type: command, command: [sh, -c, 'echo $${HOME} $$PATH']}
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveJobs("")
	if err != nil {
		t.Fatal(err)
	}
	j := jobs[0]
	if j.Bucket != "from-env" || j.PartSize != 64<<20 {
		t.Errorf("bucket %q part %d", j.Bucket, j.PartSize)
	}
	if j.Argv[2] != "echo ${HOME} $PATH" {
		t.Errorf("$$ escape: argv[2] = %q", j.Argv[2])
	}
}

func TestParseByteSize(t *testing.T) {
	tests := map[string]int64{"16MiB": 16 << 20, "16M": 16 << 20, "64MB": 64e6, "1GiB": 1 << 30, "5242880": 5 << 20, "2KiB": 2048, "7B": 7}
	for in, want := range tests {
		got, err := ParseByteSize(in)
		if err != nil || int64(got) != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5GiB", "12XB", "99999999999T"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q): no error", bad)
		}
	}
}

func TestRecipientsFileRelativeErrors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "recipients.txt")
	if err := os.WriteFile(f, []byte("# ops team\n\nnot-a-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseRecipients(nil, f)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want one naming line 3", err)
	}
}
