// Package countio counts the bytes that pass through a reader or a writer
// into an atomic counter that another goroutine (a progress line, a
// metric) reads while they flow.
package countio

import (
	"io"
	"sync/atomic"
)

// Writer adds to N the bytes W accepted.
type Writer struct {
	W io.Writer
	N *atomic.Int64
}

func (c *Writer) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N.Add(int64(n))
	return n, err
}

// Reader adds to N the bytes read from R.
type Reader struct {
	R io.Reader
	N *atomic.Int64
}

func (c *Reader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N.Add(int64(n))
	return n, err
}
