// Package restore reads back what putonly wrote: it lists backups from the
// key layout, downloads, decrypts and decompresses them as a stream,
// verifies the plaintext against the backup's manifest, writes output files
// atomically, runs restore drills and audits a bucket for stale or
// suspicious backups.
//
// It runs on a trusted machine with read credentials and the age identity,
// never on the database host: the backup key can do none of this.
package restore

import (
	"regexp"
	"strings"
	"time"

	"github.com/putonly/putonly/backup"
)

// Backup is one backup object, as named by the key layout
//
//	<prefix><job>/<YYYY>/<MM>/<DD>/<job>-<YYYYMMDDTHHMMSSZ>-<8 hex>.<ext>
type Backup struct {
	Key    string
	Prefix string // everything before <job>/, e.g. "db1/"
	Job    string
	Time   time.Time // when the backup started, from the key
	Ext    string    // layers, outermost last: "dump.zst.age"

	Size         int64     // object size (ciphertext), from the listing
	LastModified time.Time // when S3 completed the object
	HasManifest  bool      // <key>.manifest.json.age was listed next to it
}

// Compression says what the key's extension says about the middle layer:
// CompressionZstd for ".zst.age", CompressionNone for another ".age".
func (b Backup) Compression() Compression { return compressionOfKey(b.Key) }

func compressionOfKey(key string) Compression {
	switch {
	case strings.HasSuffix(key, ".zst.age"):
		return CompressionZstd
	case strings.HasSuffix(key, ".age"):
		return CompressionNone
	}
	return CompressionAuto
}

// ParseKey reads a backup key. It reads the layout from the end (file,
// day, month, year, job), so it works without knowing the prefix, which may
// or may not end in "/". Manifests and keys of any other shape return ok
// false.
func ParseKey(key string) (b Backup, ok bool) {
	if strings.HasSuffix(key, backup.ManifestSuffix) {
		return Backup{}, false
	}
	seg := strings.Split(key, "/")
	n := len(seg)
	if n < 5 {
		return Backup{}, false
	}
	m := fileRE.FindStringSubmatch(seg[n-1])
	if m == nil {
		return Backup{}, false
	}
	job, stamp, ext := m[1], m[2], m[3]
	t, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		return Backup{}, false
	}
	if t.Format("2006") != seg[n-4] || t.Format("01") != seg[n-3] || t.Format("02") != seg[n-2] {
		return Backup{}, false
	}
	dir, found := strings.CutSuffix(seg[n-5], job)
	if !found {
		return Backup{}, false
	}
	prefix := strings.Join(append(seg[:n-5:n-5], dir), "/")
	return Backup{Key: key, Prefix: prefix, Job: job, Time: t, Ext: ext}, true
}

// fileRE matches <job>-<YYYYMMDDTHHMMSSZ>-<8 hex>.<ext>, ext ending in .age.
var fileRE = regexp.MustCompile(`^([a-z0-9][a-z0-9._-]*)-([0-9]{8}T[0-9]{6}Z)-[0-9a-f]{8}\.([a-z0-9.]+\.age)$`)
