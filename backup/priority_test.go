package backup

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDumpPriority: the dump, and the processes it starts, run at the job's
// nice and ionice, read back by the tools themselves (nice(1) and ionice(1)
// with no command print the caller's); putonly's own threads keep theirs.
func TestDumpPriority(t *testing.T) {
	for _, tool := range []string{"nice", "ionice", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	before := threadNices(t)
	base, err := exec.Command("sh", "-c", "nice; ionice").Output()
	if err != nil {
		t.Fatal(err)
	}
	seven := 7
	tests := []struct {
		name string
		job  string // nice, ionice as in a config
		prio Priority
		want string
	}{
		{"unchanged", "no nice or ionice", Priority{}, string(base)},
		{"nice", "nice 7", Priority{Nice: &seven}, "7\nnone: prio 0\n"},
		{"idle", "ionice idle", mustPriority(t, nil, "idle"), "0\nidle\n"},
		{"both", "nice 7, ionice best-effort:6", mustPriority(t, &seven, "best-effort:6"), "7\nbest-effort: prio 6\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// sh forks nice and ionice: children of the dump inherit.
			r, err := startDump(context.Background(), []string{"sh", "-c", "nice; ionice"}, nil, tt.prio, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(r)
			if cerr := r.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("%s: the dump reports %q, want %q", tt.job, out, tt.want)
			}
		})
	}
	// The thread that forked at nice 7 ends with its goroutine; once the
	// runtime has let it go, no thread of ours is niced.
	after := threadNices(t)
	for deadline := time.Now().Add(10 * time.Second); after != before && time.Now().Before(deadline); after = threadNices(t) {
		time.Sleep(50 * time.Millisecond)
	}
	if after != before {
		t.Errorf("putonly's own threads changed priority: niced threads before %q, after %q", before, after)
	}
}

// TestResolvePriority: nice and ionice reach the job from the config.
func TestResolvePriority(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
defaults: {bucket: bkt, recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf], nice: 10, ionice: best-effort:7}
jobs:
  - {name: a, source: {type: command, command: [true]}}
  - {name: b, source: {type: command, command: [true]}, nice: 19, ionice: idle}
`))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveJobs("")
	if err != nil {
		t.Fatal(err)
	}
	a, b := jobs[0].Priority, jobs[1].Priority
	if a.Nice == nil || *a.Nice != 10 || a.IOClass != ioprioClassBE || a.IOLevel != 7 {
		t.Errorf("a: %+v", a)
	}
	if b.Nice == nil || *b.Nice != 19 || b.IOClass != ioprioClassIdle {
		t.Errorf("b: %+v", b)
	}
}

func mustPriority(t *testing.T, nice *int, ionice string) Priority {
	t.Helper()
	p := Settings{Nice: nice, IONice: ionice}.priority()
	if p.IOClass == 0 {
		t.Fatalf("ionice %q not parsed", ionice)
	}
	return p
}

// threadNices lists the nice value of each thread of this process
// (field 19 of /proc/self/task/TID/stat).
func threadNices(t *testing.T) string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue // the thread ended meanwhile
		}
		// The command name (field 2) may hold spaces; fields after ")" are plain.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) > 16 && f[16] != "0" {
			b.WriteString(" " + f[16])
		}
	}
	return b.String()
}
