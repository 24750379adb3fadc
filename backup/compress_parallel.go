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
// Memory is fixed whatever the data: workers+2 input buffers of exactly
// parallelChunkSize and workers+1 output buffers of the largest frame a
// chunk can become (zstd's bound: incompressible data grows a little), each
// allocated on first need and reused, never grown or dropped for the
// collector (see compressorMemory). Close flushes the last chunk and waits
// for every frame; it does not close dst. After an error from dst, every
// Write and Close returns it.
type parallelCompressor struct {
	dst io.Writer
	enc *zstd.Encoder
	// With compression "auto": the fastest encoder, and what picks it for
	// a frame (compress_auto.go); nil otherwise.
	fastEnc *zstd.Encoder
	auto    *autoLevel

	buf   []byte
	queue chan *frameJob // in submission order, for the writer
	work  chan *frameJob // for the workers

	// Free buffers. An output buffer has room for the largest frame, so
	// EncodeAll never reallocates it: a buffer that grew would come back
	// as a bigger input chunk, whose frame grows it again (that is how
	// incompressible data once took memory without bound).
	ins, outs       chan []byte
	madeIn, madeOut int // allocated so far, by Write's goroutine
	maxIn, maxOut   int
	outCap          int

	frames  int            // submitted so far
	wg      sync.WaitGroup // workers
	written chan struct{}  // closed when the writer is done
	mu      sync.Mutex
	err     error
	closed  bool
}

type frameJob struct {
	enc  *zstd.Encoder
	in   []byte
	out  []byte
	done chan struct{}
}

func newParallelCompressor(dst io.Writer, level zstd.EncoderLevel, workers int) (*parallelCompressor, error) {
	enc, err := newFrameEncoder(level, workers)
	if err != nil {
		return nil, err
	}
	return startParallel(dst, enc, nil, nil, workers), nil
}

// newAutoCompressor is the parallel compressor of compression "auto".
func newAutoCompressor(dst io.Writer, workers int) (*parallelCompressor, error) {
	def, fastest, err := newAutoEncoders(workers)
	if err != nil {
		return nil, err
	}
	return startParallel(dst, def, fastest, newAutoLevel(), workers), nil
}

// newFrameEncoder is an encoder for EncodeAll of one chunk per frame.
func newFrameEncoder(level zstd.EncoderLevel, workers int) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(workers),
		zstd.WithEncoderCRC(true),
		// Each chunk is one frame: its window need not exceed the chunk.
		zstd.WithWindowSize(parallelChunkSize),
		// An empty dump still becomes one (empty) frame: `zstd -d` rejects
		// a zero-byte input.
		zstd.WithZeroFrames(true),
	)
}

func startParallel(dst io.Writer, enc, fastEnc *zstd.Encoder, auto *autoLevel, workers int) *parallelCompressor {
	ins, outs := parallelBuffers(workers)
	c := &parallelCompressor{
		dst:     dst,
		enc:     enc,
		fastEnc: fastEnc,
		auto:    auto,
		queue:   make(chan *frameJob, workers),
		work:    make(chan *frameJob, workers),
		written: make(chan struct{}),
		ins:     make(chan []byte, ins),
		outs:    make(chan []byte, outs),
		maxIn:   ins,
		maxOut:  outs,
		outCap:  enc.MaxEncodedSize(parallelChunkSize),
	}
	for i := 0; i < workers; i++ {
		c.wg.Add(1)
		go c.worker()
	}
	go c.writer()
	c.buf = c.getIn()
	return c
}

// parallelBuffers is how many input and output buffers the compressor may
// hold with workers workers: one input per queued job (workers), plus the
// one the writer waits on and the one being filled; one output per queued
// job plus the writer's. A job waiting to enter the full queue holds its
// input and an output too, but the buffer being filled is then that job's.
func parallelBuffers(workers int) (ins, outs int) {
	return workers + 2, workers + 2
}

// getIn returns an empty input buffer of parallelChunkSize, waiting for
// one to be released once maxIn exist.
func (c *parallelCompressor) getIn() []byte {
	select {
	case b := <-c.ins:
		return b
	default:
	}
	if c.madeIn < c.maxIn {
		c.madeIn++
		return make([]byte, 0, parallelChunkSize)
	}
	return <-c.ins
}

func (c *parallelCompressor) getOut() []byte {
	select {
	case b := <-c.outs:
		return b
	default:
	}
	if c.madeOut < c.maxOut {
		c.madeOut++
		return make([]byte, 0, c.outCap)
	}
	return <-c.outs
}

func (c *parallelCompressor) worker() {
	defer c.wg.Done()
	for j := range c.work {
		j.out = j.enc.EncodeAll(j.in, j.out[:0])
		c.ins <- j.in[:0] // the input is free once encoded
		j.in = nil
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
		if cap(j.out) != c.outCap {
			// Cannot happen (the bound is zstd's own); if it did, a
			// grown buffer must not circulate.
			j.out = make([]byte, 0, c.outCap)
		}
		c.outs <- j.out[:0]
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
	enc := c.enc
	if c.auto != nil && c.auto.fast() {
		enc = c.fastEnc
	}
	j := &frameJob{enc: enc, in: c.buf, out: c.getOut(), done: make(chan struct{})}
	// queue first: the writer then holds at most `workers` jobs ahead of
	// the workers, which bounds memory.
	c.queue <- j
	c.work <- j
	c.frames++
	c.buf = c.getIn()
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
	if c.fastEnc != nil {
		c.fastEnc.Close()
	}
}
