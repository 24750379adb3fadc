package main

import (
	"strings"
	"testing"
)

// --help is an answer, not an unknown command; a bad command shows the usage.
func TestUsage(t *testing.T) {
	for _, a := range []string{"--help", "-h", "help"} {
		if err := run([]string{a}); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, args := range [][]string{nil, {"bogus"}} {
		if err := run(args); err == nil || !strings.Contains(err.Error(), "start [--tls]") {
			t.Errorf("%q: %v, want the usage", args, err)
		}
	}
}
