// Package s3write owns the shape of every S3 request that writes a backup:
// PutObject for a stream that fits one part, and CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload and AbortMultipartUpload for a larger
// one. The uploader (package backup) sends them, and the self-test's
// canaries (package policy) are built from the same functions, so a canary
// is written "as the agent writes backups" by construction: a policy that
// lets the canary through lets the backups through.
//
// Every object is written
//   - with server-side encryption ([Object.ServerSideEncryption]) on
//     PutObject and CreateMultipartUpload, and never on UploadPart or
//     CompleteMultipartUpload: their API references list
//     x-amz-server-side-encryption only as a response header (the SSE-C
//     headers are UploadPart's only encryption request headers,
//     https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html);
//     the multipart upload takes its encryption from CreateMultipartUpload.
//     The generated policy relies on this shape (see the table in
//     policy/generate.go);
//   - with If-None-Match: * on PutObject and CompleteMultipartUpload (the
//     two calls that accept it), so S3 answers 412 rather than overwrite an
//     existing key ("Conditional writes", Amazon S3 User Guide,
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html);
//   - with a checksum S3 verifies before it stores a byte: CRC64NVME per part
//     and over the whole object (FULL_OBJECT), or SHA-256 per part
//     (COMPOSITE for a multipart object, the only type S3 offers for
//     SHA-256 there) ("Checking object integrity", Amazon S3 User Guide,
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
package s3write

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/putonly/putonly/internal/crc64nvme"
)

// Object says where and how one object is written.
type Object struct {
	Bucket, Key string
	SSE         string // "AES256" (default) or "aws:kms"
	KMSKeyID    string // with aws:kms; empty: the bucket's or account's default key
	Checksum    string // "CRC64NVME" (default) or "SHA256"
	Metadata    map[string]string
}

func (o Object) sha256() bool { return o.Checksum == "SHA256" }

// contentType: a backup is opaque bytes (age ciphertext).
func (o Object) contentType() *string { return aws.String("application/octet-stream") }

// ServerSideEncryption is the SSE header pair of PutObject and
// CreateMultipartUpload.
func (o Object) ServerSideEncryption() (types.ServerSideEncryption, *string) {
	if o.SSE == "aws:kms" {
		var id *string
		if o.KMSKeyID != "" {
			id = aws.String(o.KMSKeyID)
		}
		return types.ServerSideEncryptionAwsKms, id
	}
	return types.ServerSideEncryptionAes256, nil
}

// PutObject writes body as the whole object. sum is the checksum sent (and
// that S3 verified when it answers 200), base64.
func (o Object) PutObject(body []byte) (in *s3.PutObjectInput, sum string) {
	in = &s3.PutObjectInput{
		Bucket:        aws.String(o.Bucket),
		Key:           aws.String(o.Key),
		Body:          bytes.NewReader(body), // seekable: the SDK rewinds it on retry
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   o.contentType(),
		Metadata:      o.Metadata,
		// Never overwrite: S3 answers 412 if the key exists.
		IfNoneMatch: aws.String("*"),
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = o.ServerSideEncryption()
	if o.sha256() {
		sum = SHA256(body)
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.ChecksumSHA256 = aws.String(sum)
	} else {
		sum = crc64nvme.Base64(crc64nvme.Checksum(body))
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
		in.ChecksumCRC64NVME = aws.String(sum)
	}
	return in, sum
}

// CreateMultipartUpload starts an upload; it carries the encryption, the
// metadata and the checksum type of the whole object.
func (o Object) CreateMultipartUpload() *s3.CreateMultipartUploadInput {
	in := &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(o.Bucket),
		Key:         aws.String(o.Key),
		ContentType: o.contentType(),
		Metadata:    o.Metadata,
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = o.ServerSideEncryption()
	if o.sha256() {
		// SHA-256 exists only as a composite (checksum of part checksums)
		// for multipart uploads; S3 still verifies each part's SHA-256.
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.ChecksumType = types.ChecksumTypeComposite
	} else {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	return in
}

// UploadPart sends part num (1-based) of the upload. part is what
// [Object.CompleteMultipartUpload] lists for it once S3 answered; set its
// ETag from the answer.
func (o Object) UploadPart(uploadID string, num int, body []byte) (in *s3.UploadPartInput, part types.CompletedPart) {
	in = &s3.UploadPartInput{
		Bucket:        aws.String(o.Bucket),
		Key:           aws.String(o.Key),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(num)),
		Body:          bytes.NewReader(body), // seekable: the SDK rewinds it on retry
		ContentLength: aws.Int64(int64(len(body))),
	}
	part = types.CompletedPart{PartNumber: aws.Int32(int32(num))}
	if o.sha256() {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.ChecksumSHA256 = aws.String(SHA256(body))
		part.ChecksumSHA256 = in.ChecksumSHA256
	} else {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
		in.ChecksumCRC64NVME = aws.String(crc64nvme.Base64(crc64nvme.Checksum(body)))
		part.ChecksumCRC64NVME = in.ChecksumCRC64NVME
	}
	return in, part
}

// CompleteMultipartUpload completes the upload from parts (in part-number
// order), size bytes in all, whose CRC-64/NVME over the whole stream is crc
// (ignored with SHA256). sum is the full-object checksum sent, base64, or
// "" for SHA256, whose composite checksum S3 computes and returns.
func (o Object) CompleteMultipartUpload(uploadID string, parts []types.CompletedPart, size int64, crc uint64) (in *s3.CompleteMultipartUploadInput, sum string) {
	in = &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(o.Bucket),
		Key:             aws.String(o.Key),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		MpuObjectSize:   aws.Int64(size),
		// Never overwrite: S3 answers 412 if the key exists.
		IfNoneMatch: aws.String("*"),
	}
	if o.sha256() {
		in.ChecksumType = types.ChecksumTypeComposite
		return in, ""
	}
	sum = crc64nvme.Base64(crc)
	in.ChecksumType = types.ChecksumTypeFullObject
	in.ChecksumCRC64NVME = aws.String(sum)
	return in, sum
}

// AbortMultipartUpload removes the parts of the upload.
func (o Object) AbortMultipartUpload(uploadID string) *s3.AbortMultipartUploadInput {
	return &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(o.Bucket),
		Key:      aws.String(o.Key),
		UploadId: aws.String(uploadID),
	}
}

// SHA256 is the base64 SHA-256 of p, as S3's x-amz-checksum-sha256.
func SHA256(p []byte) string {
	s := sha256.Sum256(p)
	return base64.StdEncoding.EncodeToString(s[:])
}
