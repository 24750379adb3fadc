package restore

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkDecrypt measures the age + zstd + SHA-256 stage of a restore
// (no network), per plaintext byte.
func BenchmarkDecrypt(b *testing.B) {
	id, _ := age.GenerateX25519Identity()
	plain := compressible(64 << 20)
	var ct bytes.Buffer
	aw, _ := age.Encrypt(&ct, id.Recipient())
	zw, _ := zstd.NewWriter(aw, zstd.WithEncoderLevel(zstd.SpeedDefault))
	zw.Write(plain)
	zw.Close()
	aw.Close()
	ids := []age.Identity{id}
	b.SetBytes(int64(len(plain)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decrypt(io.Discard, bytes.NewReader(ct.Bytes()), ids, CompressionAuto); err != nil {
			b.Fatal(err)
		}
	}
}
