package countio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// TestCounts: both count what actually passed, short writes and reads
// split by the source included, and an error does not count bytes that
// did not pass.
func TestCounts(t *testing.T) {
	var n atomic.Int64
	var buf bytes.Buffer
	if _, err := io.Copy(&Writer{W: &buf, N: &n}, iotest.OneByteReader(strings.NewReader("hello, world"))); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 12 || buf.String() != "hello, world" {
		t.Fatalf("writer counted %d, wrote %q", n.Load(), buf.String())
	}

	n.Store(0)
	r := &Reader{R: iotest.DataErrReader(iotest.HalfReader(strings.NewReader("abcdefgh"))), N: &n}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "abcdefgh" || n.Load() != 8 {
		t.Fatalf("reader: %q, %v, counted %d", got, err, n.Load())
	}

	n.Store(0)
	w := &Writer{W: failAfter{3}, N: &n}
	if _, err := w.Write([]byte("abcdef")); err == nil || n.Load() != 3 {
		t.Fatalf("short write: %v, counted %d, want 3", err, n.Load())
	}
}

type failAfter struct{ n int }

func (f failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return f.n, errors.New("disk full")
	}
	return len(p), nil
}
