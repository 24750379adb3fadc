package agent

import (
	"strings"
	"testing"
)

// TestSelftestArgsTargets: the flags' one target (SSE defaulted, its
// connection), or one per distinct target of the config's jobs with the
// connection flags over the file's; what is missing is named.
func TestSelftestArgsTargets(t *testing.T) {
	a := SelftestArgs{Source: source(t, false, "", "--bucket", "acme-backups", "--prefix", "db1/", "--endpoint", "http://127.0.0.1:1")}
	cfg, ts, err := a.Targets()
	if err != nil || cfg != nil || len(ts) != 1 {
		t.Fatalf("Targets = %v, %v, %v", cfg, ts, err)
	}
	if p := ts[0].Probe; p.Bucket != "acme-backups" || p.Prefix != "db1/" || p.SSE != "AES256" || ts[0].Client.Endpoint != "http://127.0.0.1:1" || ts[0].Record != nil {
		t.Errorf("target %+v", ts[0])
	}
	path := writeTestConfig(t, testConfig)
	a = SelftestArgs{Source: source(t, false, path, "--endpoint", "http://127.0.0.1:2")}
	cfg, ts, err = a.Targets()
	if err != nil || cfg == nil || len(ts) != 1 || ts[0].Job != "shop" || ts[0].Client.Endpoint != "http://127.0.0.1:2" || ts[0].Record == nil {
		t.Fatalf("config: %+v, %v (shop and wiki share their target)", ts, err)
	}
	for _, tc := range []struct {
		config string
		args   []string
		want   string
	}{
		{"", nil, "selftest needs --config FILE or --bucket B"},
		{"", []string{"--job", "shop"}, "--job needs --config"},
		{"", []string{"--bucket", "BAD_"}, `--bucket "BAD_"`},
		{"", []string{"--bucket", "acme", "--connect-timeout", "1ms"}, `--connect-timeout "1ms": out of range`},
		{path, []string{"--bucket", "acme"}, "--bucket cannot be combined with --config"},
	} {
		a := SelftestArgs{Source: source(t, false, tc.config, tc.args...)}
		if _, _, err := a.Targets(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestWorseExit(t *testing.T) {
	for _, tc := range [][3]int{{0, 0, 0}, {0, 2, 2}, {2, 0, 2}, {2, 1, 1}, {1, 2, 1}, {1, 0, 1}} {
		if got := worseExit(tc[0], tc[1]); got != tc[2] {
			t.Errorf("worseExit(%d, %d) = %d, want %d", tc[0], tc[1], got, tc[2])
		}
	}
}
