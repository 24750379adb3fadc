package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/atomicfile"
	"github.com/putonly/putonly/internal/wal"
)

// ErrWALNotFound means no object archives the WAL file asked for.
// PostgreSQL asks restore_command for files that do not exist as a matter
// of course (the segment after the last one, the next timeline's history),
// so wal-fetch answers it with exit status 1 and nothing else.
var ErrWALNotFound = errors.New("WAL file not in the archive")

// ErrWALAmbiguous means different contents were archived under one WAL file
// name (two servers archiving to one job, or a cluster restored and promoted
// without a new timeline). Restore will not pick one: the user does.
var ErrWALAmbiguous = errors.New("different contents archived under one WAL file name")

// WALObject is one archived WAL object, as listed.
type WALObject struct {
	wal.Object
	Size         int64     `json:"size"` // ciphertext
	LastModified time.Time `json:"last_modified"`
}

// WALIndex is one listing of a job's WAL objects, by WAL file name.
type WALIndex struct {
	Bucket string                 `json:"bucket"`
	Dir    string                 `json:"dir"` // <prefix><job>/wal/
	Listed time.Time              `json:"listed"`
	Files  map[string][]WALObject `json:"files"`
	// Other counts keys under Dir that are not WAL objects.
	Other int `json:"other"`
}

// ListWAL lists the WAL objects of job under prefix (s3:ListBucket): one
// request per thousand objects, none read.
func ListWAL(ctx context.Context, api Lister, bucket, prefix, job string) (*WALIndex, error) {
	ix := &WALIndex{Bucket: bucket, Dir: wal.Dir(prefix, job), Listed: time.Now().UTC(), Files: map[string][]WALObject{}}
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(ix.Dir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, ix.Dir, err)
		}
		for _, o := range page.Contents {
			obj, ok := wal.ParseKey(aws.ToString(o.Key))
			if !ok || obj.Dir != ix.Dir {
				ix.Other++
				continue
			}
			ix.Files[obj.Name.File] = append(ix.Files[obj.Name.File], WALObject{Object: obj, Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	for _, objs := range ix.Files {
		sort.Slice(objs, func(i, j int) bool { return objs[i].LastModified.Before(objs[j].LastModified) })
	}
	return ix, nil
}

// Lookup returns the object archiving file. pick maps a WAL file name to a
// digest prefix and chooses among different contents archived under that
// name; without it such a name is ErrWALAmbiguous.
func (ix *WALIndex) Lookup(file string, pick map[string]string) (WALObject, error) {
	objs := ix.Files[file]
	if len(objs) == 0 {
		return WALObject{}, fmt.Errorf("%s: %w (s3://%s/%s)", file, ErrWALNotFound, ix.Bucket, ix.Dir)
	}
	digests := map[string]WALObject{}
	for _, o := range objs {
		if _, seen := digests[o.SHA256]; !seen {
			digests[o.SHA256] = o
		}
	}
	if want, ok := pick[file]; ok {
		for d, o := range digests {
			if strings.HasPrefix(d, strings.ToLower(want)) {
				return o, nil
			}
		}
		return WALObject{}, fmt.Errorf("%s: no archived content has a SHA-256 starting %s", file, want)
	}
	if len(digests) > 1 {
		var list []string
		for _, o := range objs {
			list = append(list, fmt.Sprintf("%s (archived %s)", wal.ShortDigest(o.SHA256), o.LastModified.UTC().Format(time.RFC3339)))
		}
		return WALObject{}, fmt.Errorf("%s: %w: %s\n\thint: 'putonly audit' shows them; choose one with --pick %s=DIGEST", file, ErrWALAmbiguous, strings.Join(list, ", "), file)
	}
	return objs[0], nil
}

// FetchWAL downloads one WAL object, decrypts and decompresses it into
// path, and checks that the plaintext has the SHA-256 its key names. path
// appears complete or not at all (a temporary file renamed at the end).
func FetchWAL(ctx context.Context, api Getter, bucket string, o WALObject, ids []age.Identity, path string) (Stats, error) {
	obj, err := openObject(ctx, api, bucket, o.Key)
	if err != nil {
		return Stats{}, err
	}
	defer obj.Close()
	out, err := atomicfile.Create(path, true)
	if err != nil {
		return Stats{}, err
	}
	defer out.Abort()
	c := CompressionNone
	if o.Compressed() {
		c = CompressionZstd
	}
	st, err := Decrypt(out, obj, ids, c)
	if err != nil {
		return st, fmt.Errorf("s3://%s/%s: %w", bucket, o.Key, err)
	}
	if st.SHA256 != o.SHA256 {
		return st, fmt.Errorf("s3://%s/%s: %w: the plaintext's SHA-256 is %s", bucket, o.Key, ErrMismatch, wal.ShortDigest(st.SHA256))
	}
	if err := out.Commit(); err != nil {
		return st, err
	}
	return st, nil
}

// WALCache keeps one listing of the archive for a whole recovery, so
// restore_command costs one GetObject per segment rather than a listing
// each. A file missing from the listing relists when the listing is older
// than MaxAge: the archive may have grown since (recovery to latest, a
// standby).
type WALCache struct {
	Path   string // JSON file; "" keeps nothing between calls
	MaxAge time.Duration
}

// DefaultWALCacheAge is how old a listing may be before a miss relists.
const DefaultWALCacheAge = 15 * time.Second

// DefaultWALCachePath is where wal-fetch keeps the listing of bucket/dir:
// under the user's cache directory, one file per archive.
func DefaultWALCachePath(endpoint, bucket, dir string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	name := strings.NewReplacer("/", "_", ":", "_").Replace(endpoint + "_" + bucket + "_" + dir)
	if len(name) > 180 {
		name = name[len(name)-180:]
	}
	return filepath.Join(base, "putonly", "wal-index-"+name+".json")
}

// Index returns a listing of the archive that holds file if the archive
// does (listing again when the cached one lacks it and is older than
// MaxAge), and whether it was listed now.
func (c WALCache) Index(ctx context.Context, api Lister, bucket, prefix, job, file string) (*WALIndex, bool, error) {
	dir := wal.Dir(prefix, job)
	if c.Path != "" {
		if data, err := os.ReadFile(c.Path); err == nil {
			var ix WALIndex
			if json.Unmarshal(data, &ix) == nil && ix.Bucket == bucket && ix.Dir == dir && ix.Files != nil {
				age := time.Since(ix.Listed)
				if len(ix.Files[file]) > 0 || (age >= 0 && age < c.MaxAge) {
					return &ix, false, nil
				}
			}
		}
	}
	ix, err := ListWAL(ctx, api, bucket, prefix, job)
	if err != nil {
		return nil, true, err
	}
	if c.Path != "" {
		if data, err := json.Marshal(ix); err == nil {
			if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err == nil {
				_ = atomicfile.WriteFile(c.Path, data, 0o600) // a cache: losing it costs a listing
			}
		}
	}
	return ix, true, nil
}
