package main

import (
	"os"
	"testing"
)

// /dev/null is a character device, not a terminal: 'putonly decrypt ... >
// /dev/null' and 'restore -o - > /dev/null' must not be refused as if they
// wrote to a screen.
func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("isTerminal(/dev/null) = true")
	}
}
