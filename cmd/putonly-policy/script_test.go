package main

import (
	"strconv"
	"strings"
	"testing"
)

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
// Arguments are split on spaces. A missing section is not checked.
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
