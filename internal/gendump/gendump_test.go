package gendump

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := Write(&a, 1<<20, 7); err != nil {
		t.Fatal(err)
	}
	Write(&b, 1<<20, 7)
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	var c bytes.Buffer
	Write(&c, 1<<20, 8)
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same bytes")
	}
	if !strings.HasSuffix(a.String(), "-- PostgreSQL database dump complete\n") || a.Len() < 1<<20 {
		t.Fatalf("output of %d bytes is not a complete dump", a.Len())
	}
}

// TestRatioLikeApplicationData: about 3.6× with zstd at its default level
// (the C zstd -3 figure is printed by bench/compare; klauspost's
// SpeedDefault is close to it).
func TestRatioLikeApplicationData(t *testing.T) {
	var buf bytes.Buffer
	Write(&buf, 32<<20, 1)
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	out := enc.EncodeAll(buf.Bytes(), nil)
	ratio := float64(buf.Len()) / float64(len(out))
	t.Logf("zstd SpeedDefault ratio %.2f", ratio)
	if ratio < 3.2 || ratio > 4.0 {
		t.Fatalf("ratio %.2f, want about 3.6 (application-like data)", ratio)
	}
}
