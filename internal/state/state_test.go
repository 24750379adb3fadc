package state

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/atomicfile"
)

func TestStateFileSurvivesCorruption(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	sf := NewFile(p)
	if s, err := sf.Read(); err != nil || len(s.Jobs) != 0 {
		t.Fatalf("missing file: %v %v", s, err)
	}
	if err := atomicfile.WriteFile(p, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.Update(time.Now(), func(s *State) { s.Job("a").NextRun = time.Unix(1, 0) }); err != nil {
		t.Fatal(err)
	}
	s, err := Read(p)
	if err != nil || s.Jobs["a"] == nil {
		t.Fatalf("state %v, %v", s, err)
	}
}

// Events fold into a job's history: a start clears the last error, a
// success records the object, a failure counts its reason, and the counts
// survive the file.
func TestRecord(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	p := filepath.Join(t.TempDir(), "state.json")
	f := NewFile(p)
	for _, ev := range []Event{
		{Job: "shop", Status: StatusStart, Start: t0},
		{Job: "shop", Status: StatusFailure, Reason: "dump", Error: "exit 1", Start: t0, End: t0.Add(time.Second), DurationSeconds: 1},
		{Job: "shop", Status: StatusStart, Start: t0.Add(time.Hour)},
		{Job: "shop", Status: StatusSuccess, Bucket: "b", Key: "k", BytesIn: 10, BytesOut: 4, Start: t0.Add(time.Hour), End: t0.Add(time.Hour + 2*time.Second), DurationSeconds: 2},
		{Job: "wiki", Status: StatusStart, Start: t0.Add(2 * time.Hour)},
	} {
		if _, err := f.Update(ev.Start, func(s *State) { s.Record(ev) }); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	want := &JobState{
		LastAttempt: t0.Add(time.Hour), LastStatus: StatusSuccess, LastDuration: 2,
		LastSuccess: t0.Add(time.Hour + 2*time.Second), LastSuccessObject: "s3://b/k", LastBytesIn: 10, LastBytesOut: 4,
		Successes: 1, Failures: map[string]int64{"dump": 1},
	}
	if got := s.Jobs["shop"]; !reflect.DeepEqual(got, want) {
		t.Errorf("shop: %+v\nwant %+v", got, want)
	}
	if got := s.Jobs["wiki"]; got.LastStatus != StatusStart || got.Successes != 0 {
		t.Errorf("wiki: %+v", got)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"shop", "wiki"}) {
		t.Errorf("names %v", got)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
