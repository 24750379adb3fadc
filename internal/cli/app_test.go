package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
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
	if IsTerminal(f) {
		t.Fatal("IsTerminal(/dev/null) = true")
	}
}

func testApp(ran *[]string) *App {
	a := &App{Name: "prog", Title: "prog: does things", Footer: "\nfooter\n"}
	for _, c := range []struct {
		name  string
		order int
	}{{"zeta", 1}, {"alpha", 2}, {"version", 1000}} {
		a.Register(&Command{Name: c.name, Order: c.order, Summary: c.name + " [flags]", Run: func(_ context.Context, args []string, _, _ io.Writer) error {
			*ran = append(*ran, c.name+" "+strings.Join(args, " "))
			return nil
		}})
	}
	return a
}

func TestAppUsageOrder(t *testing.T) {
	var ran []string
	want := "prog: does things\n\nUsage:\n  prog zeta [flags]\n  prog alpha [flags]\n  prog version [flags]\n  prog help [command]\n\nfooter\n"
	if got := testApp(&ran).Usage(); got != want {
		t.Fatalf("usage:\n%s\nwant:\n%s", got, want)
	}
}

func TestAppRun(t *testing.T) {
	for _, c := range []struct {
		args          []string
		code          int // -1: nil error
		ran           string
		stdout, stder bool // the usage on stdout, on stderr
	}{
		{nil, 2, "", false, true},
		{[]string{"alpha", "-x"}, -1, "alpha -x", false, false},
		{[]string{"help", "alpha"}, -1, "alpha --help", false, false},
		{[]string{"help", "help"}, -1, "", true, false},
		{[]string{"--help", "-help"}, -1, "", true, false},
		{[]string{"-h"}, -1, "", true, false},
		{[]string{"-help"}, -1, "", true, false}, // 'prog alpha -help' works, so 'prog -help' does
		{[]string{"-help", "alpha"}, -1, "alpha --help", false, false},
		{[]string{"help", "nope"}, 2, "", false, true},
		{[]string{"nope"}, 2, "", false, true},
		{[]string{"--version"}, -1, "version ", false, false},
	} {
		var ran []string
		var out, errb bytes.Buffer
		err := testApp(&ran).Run(context.Background(), c.args, &out, &errb)
		switch {
		case c.code < 0 && err != nil, c.code >= 0 && ExitCode("prog", err, io.Discard) != c.code:
			t.Errorf("%q: err %v, want code %d", c.args, err, c.code)
		}
		if got := strings.Join(ran, ";"); got != c.ran {
			t.Errorf("%q: ran %q, want %q", c.args, got, c.ran)
		}
		if strings.Contains(out.String(), "Usage:") != c.stdout || strings.Contains(errb.String(), "Usage:") != c.stder {
			t.Errorf("%q: stdout %q stderr %q", c.args, out.String(), errb.String())
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		max  int
		pos  string
		code int // 0: no error
	}{
		{[]string{"-v", "a"}, 1, "a", 0},
		{[]string{"a", "-v", "b"}, 2, "a b", 0},
		{[]string{"a", "b"}, 1, "", 2},
		{[]string{"-nope"}, 1, "", 2},
		{nil, 1, "", 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		v := fs.Bool("v", false, "")
		pos, done, err := ParseArgs(fs, "Usage:\n", c.args, c.max, io.Discard, io.Discard)
		var ee *ExitError
		if c.code != 0 {
			if !done || !errors.As(err, &ee) || ee.Code != c.code {
				t.Errorf("%q: done %v err %v, want code %d", c.args, done, err, c.code)
			}
			continue
		}
		if done || err != nil || strings.Join(pos, " ") != c.pos {
			t.Errorf("%q: pos %q done %v err %v, want %q", c.args, pos, done, err, c.pos)
		}
		if set := FlagsSet(fs); set["v"] != *v {
			t.Errorf("%q: FlagsSet %v, -v %v", c.args, set, *v)
		}
	}
}

func TestHint(t *testing.T) {
	cause := errors.New("no --bucket")
	if err := Hint(cause, "pass one"); !errors.Is(err, cause) || err.Error() != "no --bucket\n\thint: pass one" {
		t.Fatalf("%#v", err)
	}
	if err := Hint(cause, ""); err != cause {
		t.Fatalf("no hint: %#v", err)
	}
}

func TestText(t *testing.T) {
	for got, want := range map[string]string{
		OneLine(errors.New("a\n\thint:  b\n")): "a hint: b",
		Plural(1, "job"):                       "1 job",
		Plural(0, "job"):                       "0 jobs",
		Human(999):                             "999 B",
		Human(1500):                            "1.5 kB",
		Human(2_500_000_000):                   "2.5 GB",
		Rate(3_000_000, 2*time.Second):         "1.5 MB/s",
		Rate(1, 0):                             "-",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	for format, want := range map[string]string{"auto": `"msg":"hi"`, "json": `"msg":"hi"`, "text": "msg=hi"} {
		b.Reset()
		log, err := NewLogger(format, &b)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("hi")
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: %q", format, b.String())
		}
	}
	if _, err := NewLogger("xml", &b); err == nil || err.Error() != `--log-format "xml": use auto, text or json` {
		t.Errorf("xml: %v", err)
	}
}

// A progress line is drawn only where asked, and stop clears it once.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	ProgressLine("auto", &b, func(time.Duration) string { return "x" })()
	ProgressLine("never", &b, func(time.Duration) string { return "x" })()
	if b.Len() != 0 {
		t.Fatalf("auto on a buffer drew %q", b.String())
	}
	stop := ProgressLine("always", &b, func(time.Duration) string { return "x" })
	stop()
	stop()
	if b.String() != "\r\033[K" {
		t.Fatalf("always, stopped at once: %q", b.String())
	}
}
