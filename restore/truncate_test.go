package restore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	"github.com/putonly/putonly/backup"
)

// ageChunk is the plaintext of one age payload chunk; on the wire each
// chunk carries a 16-byte tag, after a header and a 16-byte nonce
// (age-encryption.org/v1, "Payload").
const (
	ageChunk    = 64 << 10
	ageTag      = 16
	ageNonce    = 16
	ageWireSize = ageChunk + ageTag
)

// framesOnChunkBoundaries returns a zstd stream of n frames, each exactly
// one age chunk long, so every chunk boundary of its encryption is also a
// frame boundary: a cut there leaves zstd with complete frames only, and
// only age can tell that the stream is short.
func framesOnChunkBoundaries(t *testing.T, n int) (plain, compressed []byte) {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for i := 0; i < n; i++ {
		// Random bytes are stored raw: the frame is the input plus a
		// fixed overhead, which the first try measures.
		size := ageChunk
		for try := 0; ; try++ {
			in := make([]byte, size)
			rand.Read(in)
			out := enc.EncodeAll(in, nil)
			if len(out) == ageChunk {
				plain = append(plain, in...)
				compressed = append(compressed, out...)
				break
			}
			if try > 3 {
				t.Fatalf("cannot make a %d-byte frame: %d bytes of input give %d", ageChunk, size, len(out))
			}
			size -= len(out) - ageChunk
		}
	}
	return plain, compressed
}

func encryptTo(t *testing.T, id *age.X25519Identity, p []byte) []byte {
	t.Helper()
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return ct.Bytes()
}

// cutPoints are the lengths to cut a ciphertext of total bytes to: inside
// and at the end of the header, after the nonce, and one byte before, at
// and after every chunk boundary, and one byte short of the whole.
func cutPoints(header, total int) []int {
	cuts := []int{0, 1, header - 1, header, header + 1, header + ageNonce - 1, header + ageNonce}
	for b := header + ageNonce + ageWireSize; b < total; b += ageWireSize {
		cuts = append(cuts, b-1, b, b+1)
	}
	cuts = append(cuts, total-ageTag, total-1)
	var out []int
	seen := map[int]bool{}
	for _, c := range cuts {
		if c >= 0 && c < total && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// TestDecryptFailsOnEveryTruncation: an object cut at any age chunk
// boundary, next to a zstd frame boundary, or inside its header fails
// Decrypt with ErrCorrupt, whatever the compression setting; it never
// returns a short plaintext as success. Then a flipped byte anywhere age
// authenticates fails too.
func TestDecryptFailsOnEveryTruncation(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	header := len(encryptTo(t, id, nil)) - ageNonce - ageTag
	ids := []age.Identity{id}

	framesPlain, frames := framesOnChunkBoundaries(t, 4)
	// The pipeline's own compressor: 4 MiB frames of mixed data, the
	// frame boundary inside an age chunk.
	mixed := append(bytes.Repeat([]byte("INSERT INTO t VALUES (1, 'abc');\n"), 200000), randomBytes(t, 3<<20)...)
	var pipe bytes.Buffer
	cw, err := backup.NewCompressor(&pipe, "default", 2)
	if err != nil {
		t.Fatal(err)
	}
	cw.Write(mixed)
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}

	streams := []struct {
		name  string
		plain []byte
		inner []byte // what age encrypts
		modes []Compression
	}{
		{"frames on chunk boundaries", framesPlain, frames, []Compression{CompressionZstd, CompressionAuto}},
		{"pipeline compressor", mixed, pipe.Bytes(), []Compression{CompressionZstd, CompressionAuto}},
		{"uncompressed", framesPlain, framesPlain, []Compression{CompressionNone}},
		{"one empty zstd frame", nil, zstdEmptyFrame(t), []Compression{CompressionZstd, CompressionAuto}},
	}
	for _, s := range streams {
		ct := encryptTo(t, id, s.inner)
		for _, mode := range s.modes {
			t.Run(fmt.Sprintf("%s/%s", s.name, mode), func(t *testing.T) {
				var out bytes.Buffer
				if _, err := Decrypt(&out, bytes.NewReader(ct), ids, mode); err != nil || !bytes.Equal(out.Bytes(), s.plain) {
					t.Fatalf("whole object: err %v, %d bytes of %d", err, out.Len(), len(s.plain))
				}
				cuts := cutPoints(header, len(ct))
				for _, n := range cuts {
					st, err := Decrypt(io.Discard, bytes.NewReader(ct[:n]), ids, mode)
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("cut to %d of %d bytes: err = %v (%d bytes out), want ErrCorrupt", n, len(ct), err, st.PlaintextBytes)
					}
				}
				for _, off := range []int{header + ageNonce, header + ageNonce + ageWireSize - 1, len(ct) - 1} {
					if off >= len(ct) {
						continue
					}
					bad := bytes.Clone(ct)
					bad[off] ^= 0x40
					if _, err := Decrypt(io.Discard, bytes.NewReader(bad), ids, mode); !errors.Is(err, ErrCorrupt) {
						t.Errorf("byte %d flipped: err = %v, want ErrCorrupt", off, err)
					}
				}
				t.Logf("%d cuts, header %d bytes, object %d bytes", len(cuts), header, len(ct))
			})
		}
	}
}

func zstdEmptyFrame(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := backup.NewCompressor(&b, "default", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
