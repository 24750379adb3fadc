package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestCompressorRoundTrip: every mode restores byte for byte, at sizes
// around the parallel chunk boundary, written in odd-sized pieces.
func TestCompressorRoundTrip(t *testing.T) {
	const c = parallelChunkSize
	data := compressible(3*c + 5)
	for _, conc := range []int{1, 2, 3} {
		for _, size := range []int{0, 1, c - 1, c, c + 1, 3*c + 5} {
			t.Run(fmt.Sprintf("conc%d/%d", conc, size), func(t *testing.T) {
				var out bytes.Buffer
				w, err := newCompressor(&out, "fastest", conc)
				if err != nil {
					t.Fatal(err)
				}
				in := data[:size]
				for off := 0; off < len(in); off += 777_777 {
					if _, err := w.Write(in[off:min(off+777_777, len(in))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				dec, _ := zstd.NewReader(&out)
				defer dec.Close()
				got, err := io.ReadAll(dec)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !bytes.Equal(got, in) {
					t.Fatalf("restored %d bytes, want %d identical", len(got), len(in))
				}
			})
		}
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

// TestParallelCompressorWriteError: an error from dst reaches the caller
// (from Write or Close) and nothing hangs.
func TestParallelCompressorWriteError(t *testing.T) {
	w, err := newCompressor(&failWriter{after: 1}, "fastest", 2)
	if err != nil {
		t.Fatal(err)
	}
	data := compressible(8 * parallelChunkSize)
	var werr error
	for off := 0; off < len(data) && werr == nil; off += 1 << 20 {
		_, werr = w.Write(data[off : off+1<<20])
	}
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("the write error was lost")
	}
}

// TestParallelCompressorAbort releases the workers without writing.
func TestParallelCompressorAbort(t *testing.T) {
	var out bytes.Buffer
	w, err := newCompressor(&out, "default", 2)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(compressible(parallelChunkSize + 10))
	w.(*parallelCompressor).abort()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after abort succeeded")
	}
}

// TestCompressorEmptyIsAFrame: an empty dump compresses to a valid zstd
// stream (one empty frame), which `zstd -d` accepts; zero bytes it rejects.
func TestCompressorEmptyIsAFrame(t *testing.T) {
	for _, conc := range []int{1, 2} {
		var out bytes.Buffer
		w, err := newCompressor(&out, "default", conc)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if out.Len() == 0 {
			t.Fatalf("concurrency %d: empty input gave zero bytes, not a zstd frame", conc)
		}
		if _, err := exec.LookPath("zstd"); err == nil {
			cmd := exec.Command("zstd", "-d", "-q", "-c")
			cmd.Stdin = bytes.NewReader(out.Bytes())
			if got, err := cmd.Output(); err != nil || len(got) != 0 {
				t.Fatalf("concurrency %d: zstd -d: %v, %d bytes", conc, err, len(got))
			}
		}
	}
}
