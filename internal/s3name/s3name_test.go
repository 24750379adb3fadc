package s3name

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPrefix(t *testing.T) {
	for p, want := range map[string]string{
		"":                             "",
		"db1/":                         "",
		"prod/db1/":                    "",
		"noslash":                      `write "noslash/"`,
		"/":                            "leave the prefix empty",
		"/db1/":                        "remove the leading /",
		"../":                          "./ or ../",
		"a/../b/":                      "./ or ../",
		"./":                           "./ or ../",
		"a..b/":                        "", // dots inside a name are a name
		"db*/":                         "wildcards",
		"a//b/":                        "//",
		"db\u200b1/":                   "U+200B",
		"db\u202e1/":                   "U+202E",
		"db\u2066x/":                   "U+2066",
		"db\ufeff/":                    "U+FEFF",
		"db\x7f/":                      "U+007F",
		"\xff/":                        "UTF-8",
		strings.Repeat("p", 512):       "must end in /",
		strings.Repeat("p", 512) + "/": "513 bytes",
	} {
		err := CheckPrefix(p)
		got := ""
		if err != nil {
			var pr *Problem
			if !errors.As(err, &pr) {
				t.Fatalf("%q: %T", p, err)
			}
			got = pr.What + " | " + pr.Fix
		}
		if (want == "") != (err == nil) || !strings.Contains(got, want) {
			t.Errorf("CheckPrefix(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestCheckBucket(t *testing.T) {
	for b, ok := range map[string]bool{
		"acme-db-backups": true, "abc": true, "a.b.c": true, strings.Repeat("b", 63): true,
		"": false, "ab": false, strings.Repeat("b", 64): false, "Bad_Bucket!": false, "a..b": false,
		"a.-b": false, "192.168.0.1": false, "xn--x": false, "x-s3alias": false, "-ab": false, "ab-": false,
	} {
		if err := CheckBucket(b); (err == nil) != ok {
			t.Errorf("CheckBucket(%q) = %v, want ok %v", b, err, ok)
		}
	}
}
