package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/countio"
	"github.com/putonly/putonly/internal/gendump"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

var (
	benchOnce sync.Once
	benchData []byte
)

// benchDump is 64 MiB of application-like SQL (zstd ratio about 3.6).
func benchDump(b *testing.B) []byte {
	b.Helper()
	benchOnce.Do(func() {
		var buf bytes.Buffer
		gendump.Write(&buf, 64<<20, 1)
		benchData = buf.Bytes()
	})
	return benchData
}

// BenchmarkProduce measures compression + encryption (the CPU-bound
// stages) per plaintext byte.
func BenchmarkProduce(b *testing.B) {
	data := benchDump(b)
	id, _ := age.GenerateX25519Identity()
	rec, _ := ParseRecipients([]string{id.Recipient().String()}, "")
	for _, level := range []string{"fastest", "default"} {
		b.Run(level, func(b *testing.B) {
			job := &Job{Recipient: rec, Compression: level}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var out int64
			for i := 0; i < b.N; i++ {
				cw := &countio.Writer{W: io.Discard, N: new(atomic.Int64)}
				if err := produce(bytes.NewReader(data), cw, job, new(atomic.Int64)); err != nil {
					b.Fatal(err)
				}
				out = cw.N.Load()
			}
			b.ReportMetric(float64(len(data))/float64(out), "ratio")
		})
	}
}

// BenchmarkRunLocalS3 measures the whole job, dump command to completed
// object, against the local S3 server on loopback.
func BenchmarkRunLocalS3(b *testing.B) {
	data := benchDump(b)
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https" // what AWS speaks: TLS and the SDK's signing costs included
		}
		b.Run(name, func(b *testing.B) {
			s := s3test.Start(b, s3local.Options{TLS: tls})
			api := backupClient(s, s.Endpoint, 3)
			id, _ := age.GenerateX25519Identity()
			rec, _ := ParseRecipients([]string{id.Recipient().String()}, "")
			f := filepath.Join(b.TempDir(), "dump.sql")
			if err := os.WriteFile(f, data, 0o600); err != nil {
				b.Fatal(err)
			}
			job := &Job{
				Name: "bench", Argv: []string{"cat", f}, Ext: "sql", Bucket: s.Bucket, Recipient: rec,
				Compression: "default", SSE: "AES256", Checksum: "CRC64NVME", PartSize: DefaultPartSize,
				UploadConcurrency: DefaultUploadConcurrency,
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), api, job, RunOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompress measures the zstd stage alone at each level.
func BenchmarkCompress(b *testing.B) {
	data := benchDump(b)
	for _, level := range []string{"fastest", "default", "better"} {
		b.Run(level, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var out int64
			for i := 0; i < b.N; i++ {
				cw := &countio.Writer{W: io.Discard, N: new(atomic.Int64)}
				w, err := newCompressor(cw, level, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := copyLarge(w, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				out = cw.N.Load()
			}
			b.ReportMetric(float64(len(data))/float64(out), "ratio")
		})
	}
}

// BenchmarkEncrypt measures the age stage alone.
func BenchmarkEncrypt(b *testing.B) {
	data := benchDump(b)
	id, _ := age.GenerateX25519Identity()
	rec, _ := ParseRecipients([]string{id.Recipient().String()}, "")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w, err := newEncryptor(io.Discard, rec)
		if err != nil {
			b.Fatal(err)
		}
		if err := copyLarge(w, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUploadLocalS3 measures the upload stage alone: bytes already
// compressed and encrypted, into the local S3 server on loopback.
func BenchmarkUploadLocalS3(b *testing.B) {
	data := benchDump(b)[:32<<20]
	s := s3test.Start(b, s3local.Options{})
	api := backupClient(s, s.Endpoint, 3)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sent atomic.Int64
		if _, err := upload(context.Background(), api, bytes.NewReader(data), uploadOptions{
			Bucket: s.Bucket, Key: fmt.Sprintf("bench/upload-%d", i), SSE: "AES256", Checksum: "CRC64NVME",
			PartSize: DefaultPartSize, Concurrency: DefaultUploadConcurrency,
		}, &sent); err != nil {
			b.Fatal(err)
		}
	}
}
