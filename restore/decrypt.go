package restore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// Compression is the layer between age and the dump.
type Compression string

const (
	CompressionAuto Compression = "auto" // zstd when the plaintext starts with the zstd magic
	CompressionZstd Compression = "zstd"
	CompressionNone Compression = "none"
)

// ParseCompression reads a --compression flag value.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case CompressionAuto, CompressionZstd, CompressionNone:
		return c, nil
	}
	return "", fmt.Errorf("compression %q: use auto, zstd or none", s)
}

// zstdMaxWindow bounds the decoder's memory. It is the zstd CLI's default
// limit (--memory=128MB); putonly's levels use windows of 8 MiB at most.
const zstdMaxWindow = 128 << 20

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

var (
	// ErrWrongIdentity: none of the identities is a recipient of the file.
	ErrWrongIdentity = errors.New("wrong identity: none of the given identities can decrypt this backup")
	// ErrCorrupt: the ciphertext failed authentication, ended early, or the
	// compressed stream inside is damaged.
	ErrCorrupt = errors.New("backup is corrupted or truncated")
	// ErrMismatch: the backup is not what its manifest recorded.
	ErrMismatch = errors.New("backup does not match its manifest")
)

// Stats describe a decrypted stream.
type Stats struct {
	CiphertextBytes int64
	PlaintextBytes  int64
	SHA256          string      // of the plaintext, hex
	Compression     Compression // the layer that was undone: zstd or none
}

// Decrypt writes the plaintext of the age file src to dst: age, then zstd
// when c says so (CompressionAuto looks at the first bytes). It streams:
// memory stays bounded whatever the size. It does not close dst.
//
// The plaintext reaches dst before the end of src is authenticated; a
// caller that must not expose unverified data writes to a temporary file
// (see CreateAtomic) and keeps it only when Decrypt and Verify succeed.
//
// Errors wrap ErrWrongIdentity, ErrCorrupt, the error of src (a download
// cut) or the error of dst (a full disk, a target that stopped reading).
func Decrypt(dst io.Writer, src io.Reader, ids []age.Identity, c Compression) (Stats, error) {
	var st Stats
	in := &recordingReader{r: src}
	ar, err := age.Decrypt(in, ids...)
	if err != nil {
		st.CiphertextBytes = in.n
		var nm *age.NoIdentityMatchError
		switch {
		case in.err != nil:
			return st, fmt.Errorf("read: %w", in.err)
		case errors.As(err, &nm):
			return st, fmt.Errorf("%w (%v)", ErrWrongIdentity, err)
		}
		return st, fmt.Errorf("%w: age header: %v", ErrCorrupt, err)
	}
	plain := &recordingReader{r: ar}
	br := bufio.NewReaderSize(plain, 256<<10)
	if c == "" || c == CompressionAuto {
		c = CompressionNone
		if magic, _ := br.Peek(len(zstdMagic)); bytes.Equal(magic, zstdMagic) {
			c = CompressionZstd
		}
	}
	st.Compression = c
	var r io.Reader = br
	if c == CompressionZstd {
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderConcurrency(2))
		if err != nil {
			return st, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	h := sha256.New()
	out := &recordingWriter{w: io.MultiWriter(dst, h)}
	n, err := io.CopyBuffer(out, r, make([]byte, 256<<10))
	st.PlaintextBytes = n
	st.SHA256 = hex.EncodeToString(h.Sum(nil))
	st.CiphertextBytes = in.n
	if err == nil && (plain.err != nil || in.err != nil) {
		// zstd ends cleanly at a frame boundary whatever comes next: when
		// age failed there (a cut at a chunk that ends a frame, or right
		// after the header), zstd reports a clean end and the age error is
		// the only sign. It is checked here, never dropped.
		err = plain.err
		if err == nil {
			err = in.err
		}
	}
	if err != nil {
		switch {
		case out.err != nil:
			return st, fmt.Errorf("write: %w", out.err)
		case in.err != nil:
			return st, fmt.Errorf("read: %w", in.err)
		case plain.err != nil:
			return st, fmt.Errorf("%w: age: %v (after %d bytes of ciphertext)", ErrCorrupt, plain.err, in.n)
		}
		return st, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	return st, nil
}

// Verify compares the plaintext with the manifest.
func (s Stats) Verify(m *Manifest) error {
	if s.PlaintextBytes != m.PlaintextSize {
		return fmt.Errorf("%w: %d bytes restored, the manifest says %d", ErrMismatch, s.PlaintextBytes, m.PlaintextSize)
	}
	if s.SHA256 != m.PlaintextSHA256 {
		return fmt.Errorf("%w: SHA-256 %s restored, the manifest says %s", ErrMismatch, s.SHA256, m.PlaintextSHA256)
	}
	return nil
}

// recordingReader counts bytes and keeps the first error other than EOF,
// so Decrypt can tell a cut download from a corrupt file.
type recordingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

type recordingWriter struct {
	w   io.Writer
	err error
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}
