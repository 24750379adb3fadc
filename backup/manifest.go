package backup

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/putonly/putonly/internal/layout"
)

// putManifest encrypts m to the job's recipients and writes it next to the
// backup, with the same guarantees (SSE, If-None-Match, checksum). lost is
// set when the first attempt's answer was lost and its retry found the
// manifest stored (see attemptLog).
func putManifest(ctx context.Context, api s3Writer, job *Job, m *layout.Manifest) (lost string, err error) {
	body, err := layout.EncodeManifest(m)
	if err != nil {
		return "", err
	}
	var ct bytes.Buffer
	w, err := newEncryptor(&ct, job.Recipient)
	if err != nil {
		return "", err
	}
	w.Write(body)
	if err := w.Close(); err != nil {
		return "", err
	}
	var sent atomic.Int64
	u := &uploader{api: api, sent: &sent, o: uploadOptions{
		Bucket: job.Bucket, Key: layout.ManifestKey(m.Key), SSE: job.SSE, KMSKeyID: job.KMSKeyID,
		Checksum: job.Checksum, Metadata: map[string]string{"putonly-version": Version, "putonly-job": job.Name, "putonly-manifest-for": m.Key[strings.LastIndex(m.Key, "/")+1:]},
	}}
	res, err := u.putSingle(ctx, ct.Bytes())
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	return res.LostAnswer, nil
}
