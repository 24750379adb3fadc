package layout

import (
	"strings"
	"testing"
	"time"
)

func TestKeyRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		prefix, job string
		t           time.Time
		ext         string
	}{
		{"db1/", "shop", start, Ext("dump", true)},
		{"", "shop", start, Ext("sql", false)},
		{"db1", "shop", start, Ext("dump", true)}, // prefix without "/"
		{"a/b/backups-", "my-db.1", start, Ext("archive", true)},
		{"shop/", "shop", start, Ext("dump", true)}, // prefix ends in the job name
		{"x-", "shop-2", start, Ext("dump", true)},  // job name with a dash and digit
		{"p/", "a", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Ext("db", false)},
		{"p/", "leap", time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC), Ext("dump", true)},
		{"p/", strings.Repeat("j", 63), start, Ext("dump", true)},                                          // longest job name
		{"p/", "tz", time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("x", -3600)), Ext("dump", true)}, // next day in UTC
		{"p/", "ns", start.Add(999 * time.Millisecond), Ext("dump", true)},                                 // key keeps seconds
	} {
		k, err := NewKey(tc.prefix, tc.job, tc.t, tc.ext)
		if err != nil {
			t.Fatal(err)
		}
		s := k.String()
		got, ok := ParseKey(s)
		if !ok {
			t.Errorf("ParseKey(%q) refused a key NewKey made", s)
			continue
		}
		if got != k {
			t.Errorf("ParseKey(%q) = %+v, want %+v", s, got, k)
		}
		if !got.Time.Equal(tc.t.UTC().Truncate(time.Second)) {
			t.Errorf("%s: time %s, want %s", s, got.Time, tc.t.UTC())
		}
		if got.String() != s {
			t.Errorf("String after ParseKey: %q, want %q", got.String(), s)
		}
		if !strings.HasPrefix(s, tc.prefix+tc.job+"/") {
			t.Errorf("%s does not start with <prefix><job>/", s)
		}
		if IsManifest(s) {
			t.Errorf("%s reads as a manifest", s)
		}
		mk := ManifestKey(s)
		if _, ok := ParseKey(mk); ok {
			t.Errorf("ParseKey took the manifest key %s for a backup", mk)
		}
		if b, ok := ManifestFor(mk); !ok || b != s {
			t.Errorf("ManifestFor(%q) = %q, %v", mk, b, ok)
		}
	}
}

// Two keys of the same job and second differ, so If-None-Match never has
// to refuse a legitimate backup.
func TestNewKeyRandom(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 100 {
		k, err := NewKey("", "shop", at, "dump.zst.age")
		if err != nil {
			t.Fatal(err)
		}
		if len(k.Random) != 8 || strings.Trim(k.Random, "0123456789abcdef") != "" {
			t.Fatalf("random suffix %q is not 8 lowercase hex digits", k.Random)
		}
		if seen[k.String()] {
			t.Fatalf("key %s drawn twice", k)
		}
		seen[k.String()] = true
	}
}

func TestParseKeyRefuses(t *testing.T) {
	for _, key := range []string{
		"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age.manifest.json.age",
		"db1/shop/2026/11/27/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", // day disagrees
		"db1/shop/2025/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", // year disagrees
		"db1/wiki/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", // job disagrees
		"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1.dump.zst.age",  // 7 hex
		"db1/shop/2026/11/26/shop-20261126T021500Z-3F2A9C1E.dump.zst.age", // upper-case hex
		"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst",     // not encrypted
		"db1/shop/2026/11/26/shop-20261326T021500Z-3f2a9c1e.dump.zst.age", // month 13
		"db1/Shop/2026/11/26/Shop-20261126T021500Z-3f2a9c1e.dump.zst.age", // upper-case job
		"shop-20261126T021500Z-3f2a9c1e.dump.zst.age",
		"README",
		"",
	} {
		if k, ok := ParseKey(key); ok {
			t.Errorf("ParseKey(%q) = %+v, want refused", key, k)
		}
	}
}

// The config's names and the parser agree: a name the config refuses is
// one ParseKey could not read back.
func TestNamesMatchParser(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	for _, name := range []string{"shop", "a", "my_db-2.x", "Shop", "-x", "a/b", "", "x y", "é"} {
		k := Key{Prefix: "p/", Job: name, Time: at, Random: "00000000", Ext: Ext("dump", true)}
		_, ok := ParseKey(k.String())
		if ok != ValidJob(name) {
			t.Errorf("job %q: ValidJob %v, ParseKey %v", name, ValidJob(name), ok)
		}
		k = Key{Prefix: "p/", Job: "shop", Time: at, Random: "00000000", Ext: Ext(name, true)}
		_, ok = ParseKey(k.String())
		if ok != DumpExtRE.MatchString(name) {
			t.Errorf("ext %q: DumpExtRE %v, ParseKey %v", name, DumpExtRE.MatchString(name), ok)
		}
	}
}

func TestExt(t *testing.T) {
	for _, tc := range []struct {
		dump       string
		compressed bool
		want       string
	}{
		{"dump", true, "dump.zst.age"},
		{"sql", false, "sql.age"},
	} {
		got := Ext(tc.dump, tc.compressed)
		if got != tc.want {
			t.Errorf("Ext(%q, %v) = %q, want %q", tc.dump, tc.compressed, got, tc.want)
		}
		if (Key{Ext: got}).Compressed() != tc.compressed {
			t.Errorf("Key{Ext: %q}.Compressed() != %v", got, tc.compressed)
		}
	}
}

// FuzzKey: every key NewKey makes for a valid job parses back to itself,
// whatever the prefix and time.
func FuzzKey(f *testing.F) {
	f.Add("db1/", "shop", int64(1795659300), "dump")
	f.Add("", "a", int64(0), "sql")
	f.Add("a/b/backups-", "my-db.1", int64(4102444799), "archive")
	f.Fuzz(func(t *testing.T, prefix, job string, unix int64, dump string) {
		if !ValidJob(job) || !DumpExtRE.MatchString(dump) || unix < 0 || unix > 253402300799 {
			return
		}
		k, err := NewKey(prefix, job, time.Unix(unix, 0), Ext(dump, unix%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseKey(k.String())
		if !ok || got != k {
			t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, ok, k)
		}
	})
}

func TestLayers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		zst, encrypted bool
	}{
		{"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", true, true},
		{"shop.sql.age", false, true},
		{"shop.dump.zst", false, false},
		{"shop.dump", false, false},
		{"", false, false},
	} {
		z, e := Layers(tc.name)
		if z != tc.zst || e != tc.encrypted {
			t.Errorf("Layers(%q) = %v, %v; want %v, %v", tc.name, z, e, tc.zst, tc.encrypted)
		}
	}
}
