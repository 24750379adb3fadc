package restore

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/layout"
)

// Lister is the one S3 call List needs (s3:ListBucket).
type Lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// ErrNoBackup is returned by Latest when a job has no backup.
var ErrNoBackup = errors.New("no backup found")

// Listing is what List found.
type Listing struct {
	Backups []Backup // newest first
	Other   int      // objects that are neither backups, manifests nor canaries
	// Canaries counts the key self-test's objects (PREFIX_putonly-selftest/),
	// which are not backups and expire by a lifecycle rule.
	Canaries int
	// Orphans are manifests whose backup was not listed.
	Orphans []string
}

// List lists the backups under prefix (of one job when job is not empty),
// newest first, from the key layout alone: it reads no object. Manifests
// are folded into their backup (HasManifest).
func List(ctx context.Context, api Lister, bucket, prefix, job string) (*Listing, error) {
	lp := prefix
	if job != "" {
		lp = prefix + job + "/"
	}
	byKey := map[string]int{}
	manifests := map[string]bool{}
	l := &Listing{}
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(lp)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, lp, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if base, ok := layout.ManifestFor(key); ok {
				manifests[base] = true
				continue
			}
			if layout.IsSelftest(prefix, key) {
				l.Canaries++
				continue
			}
			b, ok := ParseKey(key)
			if !ok || (job != "" && b.Job != job) {
				l.Other++
				continue
			}
			b.Size = aws.ToInt64(o.Size)
			b.LastModified = aws.ToTime(o.LastModified)
			byKey[key] = len(l.Backups)
			l.Backups = append(l.Backups, b)
		}
	}
	for base := range manifests {
		if i, ok := byKey[base]; ok {
			l.Backups[i].HasManifest = true
		} else {
			l.Orphans = append(l.Orphans, layout.ManifestKey(base))
		}
	}
	sort.Strings(l.Orphans)
	sortNewestFirst(l.Backups)
	return l, nil
}

func sortNewestFirst(bs []Backup) {
	sort.SliceStable(bs, func(i, j int) bool {
		if !bs[i].Time.Equal(bs[j].Time) {
			return bs[i].Time.After(bs[j].Time)
		}
		if !bs[i].LastModified.Equal(bs[j].LastModified) {
			return bs[i].LastModified.After(bs[j].LastModified)
		}
		return bs[i].Key > bs[j].Key
	})
}

// Latest returns the newest backup of job under prefix.
func Latest(ctx context.Context, api Lister, bucket, prefix, job string) (Backup, error) {
	l, err := List(ctx, api, bucket, prefix, job)
	if err != nil {
		return Backup{}, err
	}
	for _, b := range l.Backups {
		if b.Prefix == prefix {
			return b, nil
		}
	}
	return Backup{}, fmt.Errorf("job %s under s3://%s/%s: %w", job, bucket, prefix, ErrNoBackup)
}
