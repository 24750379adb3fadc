package policy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/putonly/putonly/internal/crc64nvme"
	"github.com/putonly/putonly/internal/s3write"
)

// The requests the probes send: canaries written as the agent writes
// backups, and the calls that read, copy or delete them.

// getObject reads at most a byte of the body, so a key that may read
// downloads nothing of size.
func getObject(ctx context.Context, api ProbeAPI, in *s3.GetObjectInput) error {
	out, err := api.GetObject(ctx, in, func(o *s3.Options) {
		// The canary has no checksum a ranged read could check; the SDK
		// would log that on every probe.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if err != nil {
		return err
	}
	var b [1]byte
	_, _ = out.Body.Read(b[:])
	return out.Body.Close()
}

// object is a canary written as the agent writes a backup: the requests
// come from internal/s3write, which the uploader uses too.
func (p *prober) object(key string) s3write.Object {
	return s3write.Object{Bucket: p.o.Bucket, Key: key, SSE: p.o.SSE, KMSKeyID: p.o.KMSKeyID, Checksum: p.o.Checksum}
}

func (p *prober) sse() (types.ServerSideEncryption, *string) {
	return p.object("").ServerSideEncryption()
}

// putInput is a PutObject as the agent sends it, or with its SSE or its
// If-None-Match taken away, to see S3 refuse that.
func (p *prober) putInput(key string, body []byte, sse, ifNoneMatch bool) *s3.PutObjectInput {
	in, _ := p.object(key).PutObject(body)
	if !sse {
		in.ServerSideEncryption, in.SSEKMSKeyId = "", nil
	}
	if !ifNoneMatch {
		in.IfNoneMatch = nil
	}
	return in
}

func (p *prober) createInput(key string) *s3.CreateMultipartUploadInput {
	return p.object(key).CreateMultipartUpload()
}

// multipartCanary writes a two-part object the way the agent does: SSE on
// CreateMultipartUpload only (UploadPart carries no SSE header, which is
// what a naive "deny if the SSE header is missing" policy breaks), a
// CRC64NVME per part and over the whole object, If-None-Match on Complete.
// A failure aborts the upload.
func (p *prober) multipartCanary(ctx context.Context, key string) (err error) {
	obj := p.object(key)
	out, err := p.api.CreateMultipartUpload(ctx, obj.CreateMultipartUpload())
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	id := aws.ToString(out.UploadId)
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _ = p.api.AbortMultipartUpload(actx, obj.AbortMultipartUpload(id))
		}
	}()
	first := bytes.Repeat([]byte("putonly self-test multipart canary\n"), int(p.o.PartSize)/35+1)[:p.o.PartSize]
	second := []byte(strings.Repeat("putonly self-test: last part\n", 36))[:1024]
	full := crc64nvme.New()
	var parts []types.CompletedPart
	for i, body := range [][]byte{first, second} {
		full.Write(body)
		in, part := obj.UploadPart(id, i+1, body)
		up, err := p.api.UploadPart(ctx, in)
		if err != nil {
			return fmt.Errorf("upload part %d: %w", i+1, err)
		}
		part.ETag = up.ETag
		parts = append(parts, part)
	}
	in, _ := obj.CompleteMultipartUpload(id, parts, int64(len(first)+len(second)), full.Sum64())
	if _, err = p.api.CompleteMultipartUpload(ctx, in); err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// uploadPartCopy starts an upload of its own (which the key may), tries to
// copy the canary into a part, and aborts the upload either way. If the
// upload cannot even be started the probe could not tell.
func (p *prober) uploadPartCopy(ctx context.Context) error {
	key := p.dir + "part-copy"
	out, err := p.api.CreateMultipartUpload(ctx, p.createInput(key))
	if err != nil {
		return errNotStarted{fmt.Errorf("create multipart upload for the part copy: %w", err)}
	}
	defer func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = p.api.AbortMultipartUpload(actx, p.object(key).AbortMultipartUpload(aws.ToString(out.UploadId)))
	}()
	_, err = p.api.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
		Bucket: aws.String(p.o.Bucket), Key: aws.String(key), UploadId: out.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String(p.o.Bucket + "/" + p.canary),
	})
	return err
}

// errNotStarted hides the HTTP status of a preparatory step, so that a
// refused preparation reads as "could not tell", not as a refused probe.
type errNotStarted struct{ err error }

func (e errNotStarted) Error() string { return e.err.Error() }

// deleteObjects reports a per-key AccessDenied as a 403: DeleteObjects
// answers 200 and lists each key's result.
func (p *prober) deleteObjects(ctx context.Context, key *string) error {
	out, err := p.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(p.o.Bucket),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: key}}}})
	if err != nil {
		return err
	}
	// One key was asked for, so at most one error: DeleteObjects answers
	// 200 and reports each key, and a per-key AccessDenied is the refusal.
	if len(out.Errors) > 0 {
		e := out.Errors[0]
		code := aws.ToString(e.Code)
		status := http.StatusBadRequest
		if code == "AccessDenied" {
			status = http.StatusForbidden
		}
		return &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: aws.ToString(e.Message)},
		}
	}
	if len(out.Deleted) == 0 {
		return errors.New("DeleteObjects answered with neither a deletion nor an error")
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
