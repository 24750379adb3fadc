package backup

import (
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/putonly/putonly/internal/gendump"
	"github.com/putonly/putonly/internal/s3test"
)

// scriptedSampler answers with the shares it is given, in turn (a fake:
// the host's real load cannot be scripted in a test).
type scriptedSampler struct {
	shares []cpuShares
	calls  int
}

func (s *scriptedSampler) sample() (cpuShares, bool) {
	if s.calls >= len(s.shares) {
		return cpuShares{}, false
	}
	s.calls++
	return s.shares[s.calls-1], true
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestAutoLevelHysteresis: fastest only while the host is saturated by
// others, back to default once it has room; samples at most every
// autoInterval; no signal means default.
func TestAutoLevelHysteresis(t *testing.T) {
	steps := []struct {
		s    cpuShares
		fast bool
	}{
		{cpuShares{others: 0.05, idle: 0.00}, false}, // putonly alone saturates the host: keep the ratio
		{cpuShares{others: 0.50, idle: 0.30}, false}, // others busy, but room left
		{cpuShares{others: 0.50, idle: 0.05}, true},  // a dump beside us and no idle CPU
		{cpuShares{others: 0.25, idle: 0.15}, true},  // between the thresholds: stays
		{cpuShares{others: 0.15, idle: 0.05}, false}, // others went quiet
		{cpuShares{others: 0.40, idle: 0.08}, true},
		{cpuShares{others: 0.40, idle: 0.30}, false}, // idle came back
	}
	sm := &scriptedSampler{}
	for _, st := range steps {
		sm.shares = append(sm.shares, st.s)
	}
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a := &autoLevel{sampler: sm, now: clk.now}
	for i, st := range steps {
		if got := a.fast(); got != st.fast {
			t.Errorf("step %d (%+v): fast=%v, want %v", i, st.s, got, st.fast)
		}
		// Frames inside the interval keep the level and take no sample.
		if got := a.fast(); got != st.fast {
			t.Errorf("step %d, second frame: fast=%v, want %v", i, got, st.fast)
		}
		clk.t = clk.t.Add(autoInterval)
	}
	if sm.calls != len(steps) {
		t.Errorf("sampled %d times for %d intervals", sm.calls, len(steps))
	}
	def, fast := a.Frames()
	if def+fast != int64(2*len(steps)) || fast != 6 {
		t.Errorf("frames: %d default, %d fastest", def, fast)
	}
	// Without a signal (no /proc), default.
	b := &autoLevel{sampler: &scriptedSampler{}, now: clk.now}
	if b.fast() {
		t.Error("fastest without any CPU signal")
	}
}

// TestAutoStreamMixesLevels: frames of both levels form one standard zstd
// stream that klauspost and the stock zstd CLI decode to the input, and
// the default frames compress better than the fastest ones.
func TestAutoStreamMixesLevels(t *testing.T) {
	var in bytes.Buffer
	gendump.Write(&in, 6*parallelChunkSize+12345, 7) // application-like SQL, where the levels differ
	data := in.Bytes()
	var out bytes.Buffer
	c, err := newAutoCompressor(&out, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Alternate: default, fastest, default, ... one sample per frame.
	clk := &fakeClock{t: time.Unix(1000, 0)}
	sm := &scriptedSampler{}
	for i := 0; i < 8; i++ {
		if i%2 == 0 {
			sm.shares = append(sm.shares, cpuShares{others: 0.1, idle: 0.5})
		} else {
			sm.shares = append(sm.shares, cpuShares{others: 0.6, idle: 0.0})
		}
	}
	c.auto.sampler, c.auto.now = sm, func() time.Time { clk.t = clk.t.Add(autoInterval); return clk.t }
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	def, fast := c.auto.Frames()
	if def == 0 || fast == 0 {
		t.Fatalf("frames: %d default, %d fastest: the test did not mix levels", def, fast)
	}
	dec, _ := zstd.NewReader(nil)
	got, err := dec.DecodeAll(out.Bytes(), nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("klauspost decode: %v, equal=%v", err, bytes.Equal(got, data))
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		s3test.Require(t, "zstd CLI")
	}
	cmd := exec.Command("zstd", "-d", "-q", "-c")
	cmd.Stdin = bytes.NewReader(out.Bytes())
	if got, err := cmd.Output(); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("zstd -d: %v, equal=%v", err, bytes.Equal(got, data))
	}
	// The fastest frames are what cost ratio: the mixed stream is between
	// the two levels.
	size := func(level string) int {
		var b bytes.Buffer
		w, _ := newCompressor(&b, level, 2)
		w.Write(data)
		w.Close()
		return b.Len()
	}
	if d, f := size("default"), size("fastest"); !(d < out.Len() && out.Len() < f) {
		t.Errorf("mixed stream %d bytes, not between default %d and fastest %d", out.Len(), d, f)
	}
}

// TestProcSampler: on Linux the real sampler reads /proc and gives shares
// in range after its first call.
func TestProcSampler(t *testing.T) {
	p := newProcSampler()
	if _, ok := p.sample(); ok {
		t.Error("the first sample has nothing to compare with, yet was ok")
	}
	if _, _, ok := readProcStat(); !ok {
		t.Skip("no /proc/stat")
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) { // burn a little CPU so putonly's share is not zero
		_ = compressible(1 << 16)
	}
	s, ok := p.sample()
	if !ok {
		t.Fatal("second sample not ok")
	}
	if s.others < 0 || s.others > 1 || s.idle < 0 || s.idle > 1 || s.others+s.idle > 1.0001 {
		t.Errorf("shares out of range: %+v", s)
	}
}
