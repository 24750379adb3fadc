package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the stdout/stderr sections of testdata/{generate,verify}/*.txt")

// cliScript is one CLI golden script of testdata/generate or
// testdata/verify: header lines, then sections.
//
//	# what it checks
//	args: --bucket acme-db-backups --principal arn:...
//	stdin: testdata/verify/policies/seed.json   (optional)
//	exit: 2
//	stdout-golden: bucket-policy.json            (a file of policy/testdata/generate)
//	stdout-contains: a line stdout must have     (repeatable)
//	-- stdout --
//	exact stdout
//	-- stderr --
//	exact stderr
//
// Arguments are split on spaces. A missing section is not checked; -update
// rewrites the sections present.
type cliScript struct {
	args     []string
	stdin    string
	exit     int
	golden   string
	contains []string
	header   []string          // the lines before the first section, as read
	sections map[string]string // "stdout", "stderr"
	order    []string
}

func parseCLIScript(t *testing.T, data string) *cliScript {
	t.Helper()
	s := &cliScript{sections: map[string]string{}}
	cur := ""
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			cur = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			s.order = append(s.order, cur)
			s.sections[cur] = ""
			continue
		}
		if cur != "" {
			s.sections[cur] += line
			continue
		}
		if trimmed == "" {
			continue
		}
		s.header = append(s.header, trimmed)
		key, val, _ := strings.Cut(trimmed, ":")
		val = strings.TrimSpace(val)
		switch key {
		case "args":
			s.args = strings.Fields(val)
		case "stdin":
			s.stdin = val
		case "exit":
			n, err := strconv.Atoi(val)
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
			s.exit = n
		case "stdout-golden":
			s.golden = val
		case "stdout-contains":
			s.contains = append(s.contains, val)
		default:
			if !strings.HasPrefix(trimmed, "#") {
				t.Fatalf("unknown line %q", trimmed)
			}
		}
	}
	return s
}

// runScripts runs every script of testdata/DIR through exec and checks its
// exit status and sections; with -update it rewrites the sections instead.
// check, if set, adds the checks of one kind of script.
func runScripts(t *testing.T, dir string, exec func(t *testing.T, s *cliScript) (code int, stdout, stderr string), check func(t *testing.T, s *cliScript, code int, stdout, stderr string)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := parseCLIScript(t, string(data))
			code, stdout, stderr := exec(t, s)
			got := map[string]string{"stdout": stdout, "stderr": stderr}
			if *update {
				var b strings.Builder
				for _, h := range s.header {
					b.WriteString(h + "\n")
				}
				for _, sec := range s.order {
					fmt.Fprintf(&b, "-- %s --\n%s", sec, got[sec])
				}
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if code != s.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, s.exit, stderr)
			}
			for _, sec := range s.order {
				if !*update && got[sec] != s.sections[sec] {
					t.Errorf("%s differs (go test ./cmd/putonly-policy -run Scripts -update rewrites it):\ngot:\n%s\nwant:\n%s", sec, got[sec], s.sections[sec])
				}
			}
			if check != nil {
				check(t, s, code, stdout, stderr)
			}
		})
	}
}
