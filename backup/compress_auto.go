package backup

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Compression "auto": each 4 MiB frame of the parallel compressor is
// encoded at level default, or at fastest while other processes on the host
// need the CPUs. The typical case is a dump on the database host itself:
// pg_dump and its server backend compete with the compressor, and every
// CPU second the backup takes lengthens the dump (and its snapshot). A
// source that delivers fast on an otherwise idle host (a dump streamed
// from another machine, a file) keeps the default ratio. It is the idea of
// zstd --adapt, with the host's CPU, not the output's speed, as the signal:
// the agent's output is S3, whose speed says nothing about the database.
//
// The signal, sampled at most every autoInterval from /proc (Linux; other
// systems always get default): the share of all CPU time used by other
// processes (busy time of the host minus putonly's own), and the idle
// share. The host is contended when it is nearly saturated (idle under
// 10 %) and others use at least a third of it; it stops being contended
// when idle rises over 25 % or others fall under a fifth (hysteresis, so a
// level does not flap frame by frame). Frames of both levels form one
// standard zstd stream: `zstd -d` restores it as ever.

const autoInterval = 500 * time.Millisecond

// cpuShares is one sample of the host's CPU use since the previous one.
type cpuShares struct {
	others, idle float64 // fractions of all CPU time, 0..1
}

// cpuSampler reports how busy the host was since its previous call; ok is
// false when it cannot tell (no /proc, the first call).
type cpuSampler interface {
	sample() (s cpuShares, ok bool)
}

// autoLevel picks the level of each frame.
type autoLevel struct {
	sampler   cpuSampler
	now       func() time.Time
	mu        sync.Mutex
	last      time.Time
	contended bool
	frames    [2]int64 // encoded at default, at fastest
}

func newAutoLevel() *autoLevel {
	return &autoLevel{sampler: newProcSampler(), now: time.Now}
}

// fast says whether the next frame should be encoded at fastest.
func (a *autoLevel) fast() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.now(); a.last.IsZero() || t.Sub(a.last) >= autoInterval {
		a.last = t
		if s, ok := a.sampler.sample(); ok {
			switch {
			case !a.contended && s.idle < 0.10 && s.others >= 1.0/3:
				a.contended = true
			case a.contended && (s.idle > 0.25 || s.others < 0.20):
				a.contended = false
			}
		}
	}
	if a.contended {
		a.frames[1]++
	} else {
		a.frames[0]++
	}
	return a.contended
}

// Frames says how many frames were encoded at default and at fastest.
func (a *autoLevel) Frames() (def, fastest int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.frames[0], a.frames[1]
}

// procSampler reads /proc/stat (the host) and /proc/self/stat (putonly).
type procSampler struct {
	prevTotal, prevIdle, prevSelf float64
	primed                        bool
}

func newProcSampler() *procSampler { return &procSampler{} }

func (p *procSampler) sample() (cpuShares, bool) {
	total, idle, ok := readProcStat()
	if !ok {
		return cpuShares{}, false
	}
	self, ok := readSelfCPU()
	if !ok {
		return cpuShares{}, false
	}
	// /proc/stat and /proc/self/stat both count in USER_HZ clock ticks.
	dTotal, dIdle, dSelf := total-p.prevTotal, idle-p.prevIdle, self-p.prevSelf
	primed := p.primed
	p.prevTotal, p.prevIdle, p.prevSelf, p.primed = total, idle, self, true
	if !primed || dTotal <= 0 {
		return cpuShares{}, false
	}
	others := (dTotal - dIdle - dSelf) / dTotal
	if others < 0 {
		others = 0
	}
	return cpuShares{others: others, idle: dIdle / dTotal}, true
}

// readProcStat is the host's total and idle (idle + iowait) CPU time from
// the "cpu" line of /proc/stat.
func readProcStat() (total, idle float64, ok bool) {
	if runtime.GOOS != "linux" {
		return 0, 0, false
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return total, idle, true
}

// readSelfCPU is putonly's own user + system time from /proc/self/stat.
func readSelfCPU() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + s, true
}

// autoEncoders are the two encoders of "auto".
func newAutoEncoders(workers int) (def, fastest *zstd.Encoder, err error) {
	if def, err = newFrameEncoder(zstd.SpeedDefault, workers); err != nil {
		return nil, nil, err
	}
	if fastest, err = newFrameEncoder(zstd.SpeedFastest, workers); err != nil {
		def.Close()
		return nil, nil, err
	}
	return def, fastest, nil
}
