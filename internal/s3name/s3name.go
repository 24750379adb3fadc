// Package s3name checks bucket names and key prefixes, for the agent
// (putonly) and the admin's companion (putonly-policy) alike: a prefix the
// policy tool would refuse to grant must not be one the agent writes under.
package s3name

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is what is wrong with a name, and how to fix it.
type Problem struct {
	What string // lowercase, no value: the caller names the field and value
	Fix  string // one line, or ""
}

func (p *Problem) Error() string { return p.What }

// MaxPrefixLen leaves room under S3's 1024-byte key limit for the job name,
// the date path and the object name putonly appends.
const MaxPrefixLen = 512

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// BucketRange is the accepted range, for documentation and hints.
const BucketRange = "3-63 characters of a-z, 0-9, '.' and '-', beginning and ending with a letter or digit"

// CheckBucket returns what is wrong with a general purpose bucket name, or
// nil. Rules: "General purpose bucket naming rules" in the S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func CheckBucket(b string) error {
	bad := func(what string) error { return &Problem{What: what, Fix: "use " + BucketRange} }
	switch {
	case b == "":
		return &Problem{What: "no bucket", Fix: "name the bucket the backup key may write to"}
	case len(b) < 3 || len(b) > 63:
		return bad("bucket names are 3 to 63 characters long")
	case !bucketRE.MatchString(b):
		return bad("bucket names use only lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit")
	case strings.Contains(b, ".."):
		return bad("bucket names must not contain two adjacent dots")
	case strings.Contains(b, ".-") || strings.Contains(b, "-."):
		return bad("bucket names must not have a dot next to a hyphen")
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return bad("bucket names must not look like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return bad("bucket names must not begin with " + p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(b, s) {
			return bad("names ending in " + s + " are access point aliases or directory or table buckets, not general purpose buckets")
		}
	}
	return nil
}

// PrefixRange is the accepted range, for documentation and hints.
const PrefixRange = "empty (the whole bucket) or up to 512 bytes ending in /, such as db1/ or prod/db1/"

// CheckPrefix returns what is wrong with a key prefix, or nil. The empty
// prefix is the whole bucket. A prefix ends in "/": a policy granting
// PutObject on db1* also covers db10/, and a name concatenated onto
// "noslash" is not under any folder 'putonly list' shows.
func CheckPrefix(p string) error {
	if p == "" {
		return nil
	}
	if !utf8.ValidString(p) {
		return &Problem{What: "not valid UTF-8", Fix: "use " + PrefixRange}
	}
	if i := strings.IndexFunc(p, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(p[i:])
		return &Problem{What: fmt.Sprintf("contains the invisible or control character %U at byte %d", r, i),
			Fix: "retype the prefix: zero-width, bidirectional and control characters make a key look like another"}
	}
	switch {
	case strings.HasPrefix(p, "/"):
		fix := "remove the leading /"
		if strings.Trim(p, "/") == "" {
			fix = "leave the prefix empty for the whole bucket, or name a folder such as db1/"
		}
		return &Problem{What: "S3 keys do not begin with /", Fix: fix}
	case !strings.HasSuffix(p, "/"):
		return &Problem{What: "must end in /, or the policy would also cover keys that merely begin with it (db1 also matches db10/)",
			Fix: fmt.Sprintf("write %q", p+"/")}
	case strings.ContainsAny(p, "*?$\"\\") || strings.Contains(p, "//"):
		return &Problem{What: "must not contain *, ?, $, quotes, backslashes or //: they are wildcards or policy variables in a policy",
			Fix: "use letters, digits and - _ . / only"}
	case len(p) > MaxPrefixLen:
		return &Problem{What: fmt.Sprintf("%d bytes long, over %d", len(p), MaxPrefixLen),
			Fix: "S3 keys are at most 1024 bytes; the job name, date and object name need the rest"}
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if seg == "." || seg == ".." {
			return &Problem{What: "must not contain ./ or ../ segments: S3 keeps them literally, while tools that map keys to paths resolve them",
				Fix: "name the folder itself, such as db1/"}
		}
	}
	return nil
}

// invisible reports the characters that do not show, or show as something
// else: controls, format characters (zero-width space and joiners,
// bidirectional overrides and isolates, the byte order mark) and the line
// and paragraph separators.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}
