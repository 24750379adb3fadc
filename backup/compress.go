package backup

import (
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// compressionLevel maps the config's level names to zstd encoder levels.
// "none" returns ok with level 0: the stage passes bytes through.
func compressionLevel(name string) (zstd.EncoderLevel, error) {
	switch name {
	case "none":
		return 0, nil
	case "fastest":
		return zstd.SpeedFastest, nil
	case "default", "", "auto":
		return zstd.SpeedDefault, nil
	case "better":
		return zstd.SpeedBetterCompression, nil
	case "best":
		return zstd.SpeedBestCompression, nil
	}
	return 0, fmt.Errorf("unknown compression level %q", name)
}

// NewCompressor is the compression stage on its own, for benchmarks and
// tools: see newCompressor.
func NewCompressor(dst io.Writer, level string, concurrency int) (io.WriteCloser, error) {
	return newCompressor(dst, level, concurrency)
}

// newCompressor returns a writer that zstd-compresses into dst, or passes
// bytes through for level "none". Close flushes the last frame into dst and
// does not close dst. concurrency 0 means one goroutine per CPU.
func newCompressor(dst io.Writer, level string, concurrency int) (io.WriteCloser, error) {
	lvl, err := compressionLevel(level)
	if err != nil {
		return nil, err
	}
	if level == "none" {
		return nopWriteCloser{dst}, nil
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if level == "auto" {
		// Per-frame levels need independent frames (compress_auto.go).
		return newAutoCompressor(dst, concurrency)
	}
	if concurrency > 1 {
		return newParallelCompressor(dst, lvl, concurrency)
	}
	// The output is a standard zstd stream: `zstd -d` restores it.
	enc, err := zstd.NewWriter(dst,
		zstd.WithEncoderLevel(lvl),
		zstd.WithEncoderConcurrency(concurrency),
		// The checksum lets `zstd -d` detect corruption of the
		// decrypted stream on its own.
		zstd.WithEncoderCRC(true),
	)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return enc, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
