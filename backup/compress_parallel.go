package backup

import (
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// parallelChunkSize is the plaintext per independent zstd frame. 4 MiB
// keeps the ratio within about half a percent of one long stream on
// application data (each frame restarts its history) while giving every
// core a frame of its own.
const parallelChunkSize = 4 << 20

// parallelCompressor compresses independent chunks on every core with
// EncodeAll and writes the frames to dst in order. Concatenated zstd frames
// are one valid zstd stream: `zstd -d` and any decoder restore them as one.
// klauspost's streaming encoder keeps only about 1.3 cores busy on two
// (it is sequential between blocks of one frame); frames per chunk scale
// with the cores, like `zstd -T0`.
//
// Memory: at most 2×workers chunks in flight, each with its output.
// Close flushes the last chunk and waits for every frame; it does not close
// dst. After an error from dst, every Write and Close returns it.
type parallelCompressor struct {
	dst io.Writer
	enc *zstd.Encoder

	buf   []byte
	queue chan *frameJob // in submission order, for the writer
	work  chan *frameJob // for the workers
	pool  sync.Pool

	frames  int            // submitted so far
	wg      sync.WaitGroup // workers
	written chan struct{}  // closed when the writer is done
	mu      sync.Mutex
	err     error
	closed  bool
}

type frameJob struct {
	in   []byte
	out  []byte
	done chan struct{}
}

func newParallelCompressor(dst io.Writer, level zstd.EncoderLevel, workers int) (*parallelCompressor, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(workers),
		zstd.WithEncoderCRC(true),
		// Each chunk is one frame: its window need not exceed the chunk.
		zstd.WithWindowSize(parallelChunkSize),
		// An empty dump still becomes one (empty) frame: `zstd -d` rejects
		// a zero-byte input.
		zstd.WithZeroFrames(true),
	)
	if err != nil {
		return nil, err
	}
	c := &parallelCompressor{
		dst:     dst,
		enc:     enc,
		queue:   make(chan *frameJob, workers),
		work:    make(chan *frameJob, workers),
		written: make(chan struct{}),
	}
	c.pool.New = func() any { return make([]byte, 0, parallelChunkSize) }
	for i := 0; i < workers; i++ {
		c.wg.Add(1)
		go c.worker()
	}
	go c.writer()
	c.buf = c.pool.Get().([]byte)[:0]
	return c, nil
}

func (c *parallelCompressor) worker() {
	defer c.wg.Done()
	for j := range c.work {
		j.out = c.enc.EncodeAll(j.in, j.out[:0])
		close(j.done)
	}
}

func (c *parallelCompressor) writer() {
	defer close(c.written)
	for j := range c.queue {
		<-j.done
		if c.getErr() == nil {
			if _, err := c.dst.Write(j.out); err != nil {
				c.setErr(err)
			}
		}
		c.pool.Put(j.in[:0])
		c.pool.Put(j.out[:0])
	}
}

func (c *parallelCompressor) getErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *parallelCompressor) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

func (c *parallelCompressor) submit() {
	j := &frameJob{in: c.buf, out: c.pool.Get().([]byte), done: make(chan struct{})}
	// queue first: the writer then holds at most `workers` jobs ahead of
	// the workers, which bounds memory.
	c.queue <- j
	c.work <- j
	c.frames++
	c.buf = c.pool.Get().([]byte)[:0]
}

func (c *parallelCompressor) Write(p []byte) (int, error) {
	if c.closed {
		return 0, errors.New("zstd: write after close")
	}
	n := len(p)
	for len(p) > 0 {
		if err := c.getErr(); err != nil {
			return 0, err
		}
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf = c.buf[:len(c.buf)+k]
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			c.submit()
		}
	}
	return n, nil
}

// Close compresses what is buffered, waits for every frame to be written
// and releases the workers.
func (c *parallelCompressor) Close() error {
	if c.closed {
		return c.getErr()
	}
	c.closed = true
	if len(c.buf) > 0 || c.frames == 0 {
		c.submit()
	}
	c.stop()
	return c.getErr()
}

// abort releases the workers without flushing.
func (c *parallelCompressor) abort() {
	if c.closed {
		return
	}
	c.closed = true
	c.setErr(errors.New("zstd: aborted"))
	c.stop()
}

func (c *parallelCompressor) stop() {
	close(c.work)
	close(c.queue)
	c.wg.Wait()
	<-c.written
	c.enc.Close()
}
