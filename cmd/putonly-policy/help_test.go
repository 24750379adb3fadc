package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// 'help --help' and 'help help' print the usage instead of recursing
// (issue #16: a stack overflow before); help is printed once, on stdout.
func TestHelpNoRecursion(t *testing.T) {
	for _, args := range [][]string{{"help", "--help"}, {"help", "help"}, {"--help", "-h"}, {"help", "selftest"}, {"selftest", "--help"}} {
		var out, errb bytes.Buffer
		code := exitCode(run(context.Background(), args, strings.NewReader(""), &out, &errb), &errb)
		if code != 0 || out.Len() == 0 || errb.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, code, out.Len(), errb.String())
		}
		if n := strings.Count(out.String(), "Usage:"); n > 1 {
			t.Errorf("%v: usage printed %d times", args, n)
		}
	}
	var out, errb bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"help", "nosuch"}, strings.NewReader(""), &out, &errb), &errb); code != 2 {
		t.Errorf("help nosuch: exit %d", code)
	}
}
