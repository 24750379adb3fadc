package backup

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
)

// The memory test runs each backup in a helper process (this test binary
// again, selected by PUTONLY_MEMTEST) so the peak RSS the kernel reports
// (VmHWM) is the backup's alone. The dump is this binary too
// (PUTONLY_MEMTEST_DUMP): random bytes from ChaCha8, which zstd cannot
// compress, faster than /dev/urandom.
//
// PUTONLY_MEMTEST_GIB=1,4,8 measures other sizes (a one-off: 8 GiB takes
// minutes); PUTONLY_MEMTEST_LEVELS and PUTONLY_MEMTEST_DATA=sql:FILE choose
// the levels and a dump file instead of random bytes.

func init() {
	if n := os.Getenv("PUTONLY_MEMTEST_DUMP"); n != "" {
		size, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			panic(err)
		}
		writeRandom(os.Stdout, size)
		os.Exit(0)
	}
}

func writeRandom(w io.Writer, size int64) {
	r := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)
	for size > 0 {
		n := min(int64(len(buf)), size)
		r.Read(buf[:n])
		if _, err := bw.Write(buf[:n]); err != nil {
			os.Exit(1)
		}
		size -= n
	}
	if bw.Flush() != nil {
		os.Exit(1)
	}
}

// TestMemoryBoundIncompressible: the peak RSS of a backup of a 2 GiB
// incompressible stream, at levels default and fastest with the default
// part size and upload concurrency, stays under MemoryEstimate, the
// README's formula.
func TestMemoryBoundIncompressible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: streams 2 GiB per level")
	}
	if os.Getenv("PUTONLY_MEMTEST") != "" {
		t.Skip("in the helper")
	}
	if raceEnabled {
		t.Skip("-race multiplies memory: the bound is checked in the run without it")
	}
	sizes := []string{"2"}
	if s := os.Getenv("PUTONLY_MEMTEST_GIB"); s != "" {
		sizes = strings.Split(s, ",")
	}
	levels := []string{"default", "fastest"}
	if s := os.Getenv("PUTONLY_MEMTEST_LEVELS"); s != "" {
		levels = strings.Split(s, ",")
	}
	data := os.Getenv("PUTONLY_MEMTEST_DATA") // "" random, or a file
	for _, gib := range sizes {
		for _, level := range levels {
			t.Run(fmt.Sprintf("%sGiB/%s", gib, level), func(t *testing.T) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryHelperProcess$", "-test.v", "-test.timeout=60m")
				cmd.Env = append(os.Environ(), "PUTONLY_MEMTEST="+level+":"+gib+":"+data)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("helper: %v\n%s", err, out)
				}
				var hwm, bound, limit int64
				var summary string
				for _, line := range strings.Split(string(out), "\n") {
					if f := strings.Fields(line); len(f) >= 4 && f[0] == "MEMTEST" {
						hwm, _ = strconv.ParseInt(f[1], 10, 64)
						bound, _ = strconv.ParseInt(f[2], 10, 64)
						limit, _ = strconv.ParseInt(f[3], 10, 64)
						summary = strings.Join(f[4:], " ")
					}
				}
				if hwm == 0 || bound == 0 {
					t.Fatalf("the helper reported no figures:\n%s", out)
				}
				t.Logf("peak RSS %.1f MiB, bound %.1f MiB (soft limit %.1f MiB); %s", mib(hwm), mib(bound), mib(limit), summary)
				if hwm > bound {
					t.Errorf("peak RSS %.1f MiB exceeds the bound %.1f MiB", mib(hwm), mib(bound))
				}
			})
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestMemoryHelperProcess is the backup of TestMemoryBoundIncompressible,
// run only in the helper process.
func TestMemoryHelperProcess(t *testing.T) {
	spec := os.Getenv("PUTONLY_MEMTEST")
	if spec == "" {
		t.Skip("only in the helper process of TestMemoryBoundIncompressible")
	}
	f := strings.SplitN(spec, ":", 3)
	level := f[0]
	gib, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(gib * (1 << 30))
	s := s3test.Start(t, s3local.Options{})
	id, _ := age.GenerateX25519Identity()
	job := testJob(t, s, id)
	// The defaults of a real job.
	job.PartSize = DefaultPartSize
	job.UploadConcurrency = DefaultUploadConcurrency
	job.Compression = level
	job.Timeout = 0
	argv := []string{os.Args[0]}
	env := append(os.Environ(), fmt.Sprintf("PUTONLY_MEMTEST_DUMP=%d", size))
	if f[2] != "" {
		argv = []string{"head", "-c", strconv.FormatInt(size, 10), f[2]}
	}
	job.Argv = argv
	limit := MemoryLimit([]*Job{job})
	debug.SetMemoryLimit(limit)
	res, err := Run(context.Background(), s.Client(s.Backup), job, RunOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("MEMTEST %d %d %d %d MiB in, ratio %.3f, %d parts, %s, %d GCs, heap sys %.0f MiB\n",
		vmHWM(t), MemoryEstimate(job), limit, res.BytesIn>>20, res.Ratio(), res.Parts, res.Duration.Round(1e7), ms.NumGC, mib(int64(ms.HeapSys)))
}

// vmHWM is this process's peak resident set size, from /proc/self/status.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
