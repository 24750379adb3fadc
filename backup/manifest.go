package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"filippo.io/age"
)

// ManifestSuffix is appended to a backup's key to name its manifest. The
// manifest is encrypted to the same recipients as the backup: it names the
// source command and sizes, which are nobody else's business.
const ManifestSuffix = ".manifest.json.age"

// Manifest describes one backup; putonly restore checks the restored
// plaintext against it. Format 1.
type Manifest struct {
	Format          int       `json:"format"`
	Tool            string    `json:"tool"`
	Version         string    `json:"version"`
	Job             string    `json:"job"`
	Host            string    `json:"host"`
	Bucket          string    `json:"bucket"`
	Key             string    `json:"key"`
	Source          []string  `json:"source"` // argv with secrets redacted
	DumpExitStatus  int       `json:"dump_exit_status"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	PlaintextSize   int64     `json:"plaintext_size"`
	PlaintextSHA256 string    `json:"plaintext_sha256"` // hex
	Compression     string    `json:"compression"`
	CompressedSize  int64     `json:"compressed_size"`
	Encryption      string    `json:"encryption"`
	RecipientTypes  []string  `json:"recipient_types"`
	CiphertextSize  int64     `json:"ciphertext_size"`
	Parts           int       `json:"parts"`
	// The checksum S3 verified when it accepted the object.
	ChecksumAlgorithm string `json:"checksum_algorithm"` // CRC64NVME or SHA256
	ChecksumType      string `json:"checksum_type"`      // FULL_OBJECT or COMPOSITE
	Checksum          string `json:"checksum"`           // base64, as S3 reports it
	SSE               string `json:"sse"`
}

// ReadManifest decrypts and decodes a manifest.
func ReadManifest(r io.Reader, ids ...age.Identity) (*Manifest, error) {
	dr, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(dr, 1<<20))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if m.Format != 1 || m.Tool != "putonly" {
		return nil, fmt.Errorf("not a putonly manifest (format %d, tool %q)", m.Format, m.Tool)
	}
	return &m, nil
}

// putManifest encrypts m to the job's recipients and writes it next to the
// backup, with the same guarantees (SSE, If-None-Match, checksum).
func putManifest(ctx context.Context, api s3Writer, job *Job, m *Manifest) error {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	var ct bytes.Buffer
	w, err := newEncryptor(&ct, job.Recipient)
	if err != nil {
		return err
	}
	w.Write(body)
	if err := w.Close(); err != nil {
		return err
	}
	var sent atomic.Int64
	u := &uploader{api: api, sent: &sent, o: uploadOptions{
		Bucket: job.Bucket, Key: m.Key + ManifestSuffix, SSE: job.SSE, KMSKeyID: job.KMSKeyID,
		Checksum: job.Checksum, Metadata: map[string]string{"putonly-version": Version, "putonly-job": job.Name, "putonly-manifest-for": m.Key[strings.LastIndex(m.Key, "/")+1:]},
	}}
	if _, err := u.putSingle(ctx, ct.Bytes()); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}
