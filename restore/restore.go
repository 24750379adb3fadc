package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/putonly/putonly/internal/atomicfile"
	"github.com/putonly/putonly/internal/layout"
)

// Getter is the S3 call a restore needs (s3:GetObject).
type Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ErrNoManifest is returned when a backup has no manifest to verify against.
var ErrNoManifest = errors.New("no manifest next to the backup")

// Options say what to restore.
type Options struct {
	Bucket, Key string
	Identities  []age.Identity
	// NoVerify restores without the manifest: nothing checks that the
	// plaintext is the one the dump produced (age still authenticates
	// every chunk of what was uploaded).
	NoVerify bool
	// Manifest, when already fetched (FetchManifest), is verified against
	// instead of fetching it again.
	Manifest *Manifest
	// Compression overrides what the key's extension says.
	Compression Compression
}

// Result describes a restore.
type Result struct {
	Bucket, Key string
	Manifest    *Manifest // nil with NoVerify
	Stats
	Duration time.Duration
}

// Restore downloads s3://Bucket/Key, decrypts and decompresses it into dst
// as a stream, and verifies the plaintext's size and SHA-256 against the
// backup's manifest. The manifest is fetched and checked first (it must
// belong to this backup, and the object must have the size it records), so
// a truncated or replaced object fails before any byte reaches dst. It does
// not close dst.
//
// A nil error means the plaintext written to dst is exactly what the dump
// produced. Errors wrap ErrNoManifest, ErrWrongIdentity, ErrCorrupt or
// ErrMismatch where those apply.
func Restore(ctx context.Context, api Getter, o Options, dst io.Writer) (Result, error) {
	start := time.Now()
	res := Result{Bucket: o.Bucket, Key: o.Key}
	url := "s3://" + o.Bucket + "/" + o.Key
	if o.Manifest != nil && !o.NoVerify {
		res.Manifest = o.Manifest
	} else if !o.NoVerify {
		m, err := FetchManifest(ctx, api, o.Bucket, o.Key, o.Identities)
		if err != nil {
			return res, err
		}
		res.Manifest = m
	}
	obj, err := openObject(ctx, api, o.Bucket, o.Key)
	if err != nil {
		return res, err
	}
	defer obj.Close()
	if m := res.Manifest; m != nil && m.CiphertextSize != obj.size {
		return res, fmt.Errorf("%s: %w: the object is %d bytes, its manifest says %d", url, ErrCorrupt, obj.size, m.CiphertextSize)
	}
	c := o.Compression
	if c == "" {
		c = compressionOfKey(o.Key)
	}
	st, err := Decrypt(dst, obj, o.Identities, c)
	res.Stats = st
	res.Duration = time.Since(start)
	if errors.Is(err, ErrWrongIdentity) && res.Manifest != nil {
		// The same identities opened the manifest, written to the same
		// recipients: the backup's header is damaged, not the key wrong.
		err = fmt.Errorf("%w: its age header does not open with the identity that opened its manifest", ErrCorrupt)
	}
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", url, err)
	}
	if res.Manifest != nil {
		if err := st.Verify(res.Manifest); err != nil {
			return res, fmt.Errorf("restore %s: %w", url, err)
		}
	}
	return res, nil
}

// FetchManifest downloads and decrypts the manifest of the backup at key,
// and checks that it describes that backup.
func FetchManifest(ctx context.Context, api Getter, bucket, key string, ids []age.Identity) (*Manifest, error) {
	mkey := layout.ManifestKey(key)
	url := "s3://" + bucket + "/" + mkey
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(mkey)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("%s: %w\n\thint: restore the backup before it (putonly list), or this one unverified with --no-verify", url, ErrNoManifest)
		}
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer out.Body.Close()
	m, err := layout.ReadManifest(out.Body, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%s: %w", url, ErrWrongIdentity)
		}
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	// The manifest names the key it was written for; compare the file
	// names, so a backup copied to another bucket or prefix still verifies.
	if path.Base(m.Key) != path.Base(key) {
		return nil, fmt.Errorf("%s: %w: the manifest names another backup, %s", url, ErrMismatch, m.Key)
	}
	if m.DumpExitStatus != 0 {
		return nil, fmt.Errorf("%s: the dump exited with status %d", url, m.DumpExitStatus)
	}
	return m, nil
}

// objectReader reads an object from S3 and, when the connection is cut
// mid-body, resumes with a ranged GET pinned to the same ETag, so a long
// download does not start over (and cannot splice two versions).
type objectReader struct {
	ctx         context.Context
	api         Getter
	bucket, key string
	etag        string
	size, off   int64
	body        io.ReadCloser
	resumes     int
}

const maxResumes = 5

func openObject(ctx context.Context, api Getter, bucket, key string) (*objectReader, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("s3://%s/%s: no such backup", bucket, key)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return &objectReader{
		ctx: ctx, api: api, bucket: bucket, key: key,
		etag: aws.ToString(out.ETag), size: aws.ToInt64(out.ContentLength), body: out.Body,
	}, nil
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == io.EOF && r.off < r.size {
			err = io.ErrUnexpectedEOF
		}
		if err == nil || err == io.EOF {
			return n, err
		}
		if r.ctx.Err() != nil {
			err = context.Cause(r.ctx)
		}
		if r.ctx.Err() != nil || r.resumes >= maxResumes || r.etag == "" {
			return n, fmt.Errorf("download stopped at byte %d of %d: %w", r.off, r.size, err)
		}
		if rerr := r.resume(); rerr != nil {
			return n, fmt.Errorf("download stopped at byte %d of %d: %w (resuming: %v)", r.off, r.size, err, rerr)
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *objectReader) resume() error {
	r.body.Close()
	r.body = io.NopCloser(eofReader{})
	r.resumes++
	select {
	case <-r.ctx.Done():
		return r.ctx.Err()
	case <-time.After(time.Duration(r.resumes) * 500 * time.Millisecond):
	}
	out, err := r.api.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket: aws.String(r.bucket), Key: aws.String(r.key),
		Range:   aws.String(fmt.Sprintf("bytes=%d-", r.off)),
		IfMatch: aws.String(r.etag),
	})
	if err != nil {
		return err
	}
	r.body = out.Body
	return nil
}

func (r *objectReader) Close() error { return r.body.Close() }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Manifest describes one backup, as the agent wrote it next to the object;
// [layout.Manifest] owns its format.
type Manifest = layout.Manifest

// AtomicFile is an output file that appears complete or not at all (see
// [atomicfile.File]); [CreateAtomic] starts one.
type AtomicFile = atomicfile.File

// ErrExists is returned by CreateAtomic, and by Commit, when the output
// exists and overwriting was not asked for.
var ErrExists = atomicfile.ErrExists

// CreateAtomic starts writing the output file path, mode 0600; with
// overwrite false it never replaces an existing file.
func CreateAtomic(path string, overwrite bool) (*AtomicFile, error) {
	return atomicfile.Create(path, overwrite)
}
