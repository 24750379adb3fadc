package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Help is printed once: on stdout when asked for, on stderr (exit 2) after
// a bad flag; 'help --help' and 'help help' print the usage, they do not
// recurse (issue #16: a stack overflow before).
func TestHelpOnce(t *testing.T) {
	for _, c := range []struct {
		args         []string
		code         int
		stdout, none string // stdout holds stdout once; stderr holds none of it
	}{
		{[]string{"run", "--help"}, 0, "putonly run [flags] -- COMMAND", ""},
		{[]string{"list", "-h"}, 0, "Usage:", ""},
		{[]string{"status", "--help"}, 0, "Usage:", ""},
		{[]string{"help", "run"}, 0, "putonly run [flags] -- COMMAND", ""},
		{[]string{"help", "--help"}, 0, "putonly help [command]", ""},
		{[]string{"help", "help"}, 0, "putonly help [command]", ""},
		{[]string{"--help", "--help"}, 0, "putonly help [command]", ""},
	} {
		var out, errb bytes.Buffer
		code := exitCode(run(context.Background(), c.args, &out, &errb), &errb)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, c.code, errb.String())
		}
		if n := strings.Count(out.String(), c.stdout); n != 1 {
			t.Errorf("%v: %q %d times on stdout, want once:\n%s", c.args, c.stdout, n, out.String())
		}
		if errb.Len() != 0 {
			t.Errorf("%v: stderr not empty:\n%s", c.args, errb.String())
		}
	}
	for _, args := range [][]string{{"run", "--no-such-flag"}, {"status", "--no-such-flag"}, {"list", "--no-such-flag"}} {
		var out, errb bytes.Buffer
		code := exitCode(run(context.Background(), args, &out, &errb), &errb)
		if code != 2 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q; want 2 and nothing", args, code, out.String())
		}
		if n := strings.Count(errb.String(), "Usage:"); n != 1 || !strings.Contains(errb.String(), "no-such-flag") {
			t.Errorf("%v: want the bad flag and the usage once on stderr:\n%s", args, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"help", "nosuchcommand"}, &out, &errb), &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "nosuchcommand"`) {
		t.Errorf("help nosuchcommand: exit %d\n%s", code, errb.String())
	}
}
