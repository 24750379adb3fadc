// Package layout owns the format of what putonly leaves in a bucket: the
// name of each backup object ([Key], written with [NewKey] and read back
// with [ParseKey]) and the manifest stored next to it ([Manifest],
// [EncodeManifest] and [DecodeManifest]).
//
// The agent writes these formats and the restore side reads them; both
// import this package, so a change to one side is a change to the other.
// Every writer here has its parser next to it and a round-trip test.
package layout

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Key is the name of one backup object:
//
//	<prefix><job>/<YYYY>/<MM>/<DD>/<job>-<YYYYMMDDTHHMMSSZ>-<random>.<ext>
//
// Keys sort by time within a job, and the random suffix makes two runs in
// the same second (or two hosts sharing a job name) land on different keys,
// so If-None-Match never has to reject a legitimate backup. Ext shows the
// layers, outermost last: "dump.zst.age" is decrypted with age, then
// decompressed with zstd, then restored with pg_restore.
type Key struct {
	// Prefix is everything before <job>/: "db1/", "" or "a/b/backups-"
	// (a prefix need not end in "/").
	Prefix string
	Job    string
	Time   time.Time // when the backup started, UTC, to the second
	Random string    // 8 lowercase hex digits
	Ext    string    // layers, outermost last: "dump.zst.age"
}

// timeLayout is the key's timestamp.
const timeLayout = "20060102T150405Z"

// NewKey names a backup of job started at t, with a fresh random suffix. ext
// is the whole extension, as [Ext] builds it.
func NewKey(prefix, job string, t time.Time, ext string) (Key, error) {
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Key{}, err
	}
	return Key{Prefix: prefix, Job: job, Time: t.UTC().Truncate(time.Second), Random: hex.EncodeToString(rnd[:]), Ext: ext}, nil
}

// String is the object key.
func (k Key) String() string {
	t := k.Time.UTC()
	return fmt.Sprintf("%s%s/%04d/%02d/%02d/%s-%s-%s.%s",
		k.Prefix, k.Job, t.Year(), t.Month(), t.Day(),
		k.Job, t.Format(timeLayout), k.Random, k.Ext)
}

// Compressed tells whether the extension has a zstd layer under age.
func (k Key) Compressed() bool {
	z, _ := Layers(k.Ext)
	return z
}

// Layers reads the layers from the end of a name (a key, an extension or a
// file name): encrypted when it ends in ".age", and compressed under it when
// it ends in ".zst.age". It works on names [NewKey] did not make, such as a
// downloaded file renamed by hand.
func Layers(name string) (compressed, encrypted bool) {
	return strings.HasSuffix(name, zstdLayer+ageLayer), strings.HasSuffix(name, ageLayer)
}

// The layers an extension may name.
const (
	zstdLayer = ".zst"
	ageLayer  = ".age"
)

// Ext is the extension of a backup whose dump has the extension dump
// ("dump", "sql", "archive"), compressed with zstd or not, then encrypted
// with age: "dump.zst.age" or "dump.age".
func Ext(dump string, compressed bool) string {
	if compressed {
		return dump + zstdLayer + ageLayer
	}
	return dump + ageLayer
}

// ParseKey reads a backup key. It reads the layout from the end (file,
// day, month, year, job), so it works without knowing the prefix, which may
// or may not end in "/". Manifests and keys of any other shape return ok
// false. For every key k that [NewKey] makes with a valid job name,
// ParseKey(k.String()) returns k.
func ParseKey(s string) (k Key, ok bool) {
	if IsManifest(s) {
		return Key{}, false
	}
	seg := strings.Split(s, "/")
	n := len(seg)
	if n < 5 {
		return Key{}, false
	}
	m := fileRE.FindStringSubmatch(seg[n-1])
	if m == nil {
		return Key{}, false
	}
	job, stamp, rnd, ext := m[1], m[2], m[3], m[4]
	t, err := time.Parse(timeLayout, stamp)
	if err != nil {
		return Key{}, false
	}
	if t.Format("2006") != seg[n-4] || t.Format("01") != seg[n-3] || t.Format("02") != seg[n-2] {
		return Key{}, false
	}
	dir, found := strings.CutSuffix(seg[n-5], job)
	if !found {
		return Key{}, false
	}
	prefix := strings.Join(append(seg[:n-5:n-5], dir), "/")
	return Key{Prefix: prefix, Job: job, Time: t, Random: rnd, Ext: ext}, true
}

// fileRE matches <job>-<YYYYMMDDTHHMMSSZ>-<8 hex>.<ext>, ext a dump
// extension and its layers, ending in .age.
var fileRE = regexp.MustCompile(`^(` + jobPattern + `)-([0-9]{8}T[0-9]{6}Z)-([0-9a-f]{8})\.(` + extPattern + `(?:\.zst)?\.age)$`)

// jobPattern is what a job name may be: it names a directory and starts
// the file name, so it has no "/" and no upper case. extPattern is what the
// dump's own extension may be ("dump", "sql", "tar"), before the layers.
const (
	jobPattern = `[a-z0-9][a-z0-9._-]{0,62}`
	extPattern = `[a-z0-9][a-z0-9._-]{0,15}`
)

// JobNameRE and DumpExtRE are the names the config accepts for a job and a
// dump extension: exactly those whose keys ParseKey reads back.
var (
	JobNameRE = regexp.MustCompile(`^` + jobPattern + `$`)
	DumpExtRE = regexp.MustCompile(`^` + extPattern + `$`)
)

// ValidJob tells whether name can name a job: 1 to 63 characters of a-z,
// 0-9, ".", "_" and "-", starting with a letter or digit.
func ValidJob(name string) bool { return JobNameRE.MatchString(name) }

// ManifestSuffix is appended to a backup's key to name its manifest. The
// manifest is encrypted to the same recipients as the backup: it names the
// source command and sizes, which are nobody else's business.
const ManifestSuffix = ".manifest.json.age"

// ManifestKey names the manifest of the backup at key.
func ManifestKey(key string) string { return key + ManifestSuffix }

// IsManifest tells whether key names a manifest.
func IsManifest(key string) bool { return strings.HasSuffix(key, ManifestSuffix) }

// ManifestFor returns the key of the backup a manifest describes, and false
// if key names no manifest.
func ManifestFor(key string) (backupKey string, ok bool) {
	return strings.CutSuffix(key, ManifestSuffix)
}

// SelftestPrefix is the directory, right under the backup prefix, where the
// key self-test writes its canaries: <prefix>_putonly-selftest/<time>-<random>/...
// It lies under the prefix the policy grants, and a lifecycle rule expires
// it. No job name starts with "_", so no backup lives there.
const SelftestPrefix = "_putonly-selftest/"

// IsSelftest reports whether key, listed under prefix, is a self-test
// canary.
func IsSelftest(prefix, key string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	return ok && strings.HasPrefix(rest, SelftestPrefix)
}
