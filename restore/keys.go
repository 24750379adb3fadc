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
	"time"

	"github.com/putonly/putonly/internal/layout"
)

// Backup is one backup object, as named by the key layout ([layout.Key]):
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
	switch zst, age := layout.Layers(key); {
	case zst:
		return CompressionZstd
	case age:
		return CompressionNone
	}
	return CompressionAuto
}

// ParseKey reads a backup key (see [layout.ParseKey]); manifests and keys
// of any other shape return ok false.
func ParseKey(key string) (b Backup, ok bool) {
	k, ok := layout.ParseKey(key)
	if !ok {
		return Backup{}, false
	}
	return Backup{Key: key, Prefix: k.Prefix, Job: k.Job, Time: k.Time, Ext: k.Ext}, true
}
