package s3write

import (
	"bytes"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/putonly/putonly/internal/crc64nvme"
)

// The shape every backup request has, for each SSE and checksum setting:
// SSE on the two calls that start an object and never on a part,
// If-None-Match on the two calls that finish one, a checksum S3 can verify
// on every call that carries bytes.
func TestRequestShape(t *testing.T) {
	body := []byte("putonly backup bytes")
	for _, o := range []Object{
		{Bucket: "b", Key: "k", SSE: "AES256", Checksum: "CRC64NVME"},
		{Bucket: "b", Key: "k"}, // defaults: AES256, CRC64NVME
		{Bucket: "b", Key: "k", SSE: "aws:kms", KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/x", Checksum: "SHA256"},
		{Bucket: "b", Key: "k", SSE: "aws:kms", Metadata: map[string]string{"putonly-job": "shop"}},
	} {
		wantSSE := types.ServerSideEncryptionAes256
		if o.SSE == "aws:kms" {
			wantSSE = types.ServerSideEncryptionAwsKms
		}
		wantKMS := o.KMSKeyID
		sha := o.Checksum == "SHA256"

		put, sum := o.PutObject(body)
		if aws.ToString(put.Bucket) != "b" || aws.ToString(put.Key) != "k" {
			t.Errorf("%+v: put names s3://%s/%s", o, aws.ToString(put.Bucket), aws.ToString(put.Key))
		}
		if put.ServerSideEncryption != wantSSE || aws.ToString(put.SSEKMSKeyId) != wantKMS {
			t.Errorf("%+v: put SSE %q %q", o, put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId))
		}
		if aws.ToString(put.IfNoneMatch) != "*" {
			t.Errorf("%+v: put without If-None-Match: *", o)
		}
		if aws.ToInt64(put.ContentLength) != int64(len(body)) {
			t.Errorf("%+v: content length %d", o, aws.ToInt64(put.ContentLength))
		}
		if got, _ := io.ReadAll(put.Body); !bytes.Equal(got, body) {
			t.Errorf("%+v: put body %q", o, got)
		}
		if sha {
			if put.ChecksumAlgorithm != types.ChecksumAlgorithmSha256 || aws.ToString(put.ChecksumSHA256) != SHA256(body) || sum != SHA256(body) || put.ChecksumCRC64NVME != nil {
				t.Errorf("%+v: put checksum %q %q %q", o, put.ChecksumAlgorithm, aws.ToString(put.ChecksumSHA256), sum)
			}
		} else {
			crc := crc64nvme.Base64(crc64nvme.Checksum(body))
			if put.ChecksumAlgorithm != types.ChecksumAlgorithmCrc64nvme || aws.ToString(put.ChecksumCRC64NVME) != crc || sum != crc || put.ChecksumSHA256 != nil {
				t.Errorf("%+v: put checksum %q %q %q", o, put.ChecksumAlgorithm, aws.ToString(put.ChecksumCRC64NVME), sum)
			}
		}
		if len(put.Metadata) != len(o.Metadata) {
			t.Errorf("%+v: put metadata %v", o, put.Metadata)
		}

		create := o.CreateMultipartUpload()
		if create.ServerSideEncryption != wantSSE || aws.ToString(create.SSEKMSKeyId) != wantKMS {
			t.Errorf("%+v: create SSE %q %q", o, create.ServerSideEncryption, aws.ToString(create.SSEKMSKeyId))
		}
		wantType := types.ChecksumTypeFullObject
		if sha {
			wantType = types.ChecksumTypeComposite
		}
		if create.ChecksumType != wantType {
			t.Errorf("%+v: create checksum type %q", o, create.ChecksumType)
		}
		if len(create.Metadata) != len(o.Metadata) {
			t.Errorf("%+v: create metadata %v", o, create.Metadata)
		}

		part, done := o.UploadPart("upload-1", 3, body)
		// UploadPart has no SSE-S3/SSE-KMS request header: only SSE-C ones,
		// which putonly never sets.
		if part.SSECustomerAlgorithm != nil || part.SSECustomerKey != nil {
			t.Errorf("%+v: part carries SSE-C headers", o)
		}
		if aws.ToInt32(part.PartNumber) != 3 || aws.ToInt32(done.PartNumber) != 3 || aws.ToString(part.UploadId) != "upload-1" {
			t.Errorf("%+v: part %d/%d of %q", o, aws.ToInt32(part.PartNumber), aws.ToInt32(done.PartNumber), aws.ToString(part.UploadId))
		}
		if sha {
			if aws.ToString(part.ChecksumSHA256) != SHA256(body) || aws.ToString(done.ChecksumSHA256) != SHA256(body) {
				t.Errorf("%+v: part checksum %q, completed %q", o, aws.ToString(part.ChecksumSHA256), aws.ToString(done.ChecksumSHA256))
			}
		} else {
			crc := crc64nvme.Base64(crc64nvme.Checksum(body))
			if aws.ToString(part.ChecksumCRC64NVME) != crc || aws.ToString(done.ChecksumCRC64NVME) != crc {
				t.Errorf("%+v: part checksum %q, completed %q", o, aws.ToString(part.ChecksumCRC64NVME), aws.ToString(done.ChecksumCRC64NVME))
			}
		}

		whole := crc64nvme.Checksum(append(append([]byte{}, body...), body...))
		complete, csum := o.CompleteMultipartUpload("upload-1", []types.CompletedPart{done, done}, int64(2*len(body)), whole)
		if aws.ToString(complete.IfNoneMatch) != "*" {
			t.Errorf("%+v: complete without If-None-Match: *", o)
		}
		if aws.ToInt64(complete.MpuObjectSize) != int64(2*len(body)) || len(complete.MultipartUpload.Parts) != 2 {
			t.Errorf("%+v: complete size %d, %d parts", o, aws.ToInt64(complete.MpuObjectSize), len(complete.MultipartUpload.Parts))
		}
		if complete.ChecksumType != wantType {
			t.Errorf("%+v: complete checksum type %q", o, complete.ChecksumType)
		}
		if sha {
			if csum != "" || complete.ChecksumCRC64NVME != nil {
				t.Errorf("%+v: composite complete sends a checksum %q", o, csum)
			}
		} else if csum != crc64nvme.Base64(whole) || aws.ToString(complete.ChecksumCRC64NVME) != csum {
			t.Errorf("%+v: complete checksum %q", o, csum)
		}

		abort := o.AbortMultipartUpload("upload-1")
		if aws.ToString(abort.Bucket) != "b" || aws.ToString(abort.Key) != "k" || aws.ToString(abort.UploadId) != "upload-1" {
			t.Errorf("%+v: abort %+v", o, abort)
		}
	}
}
