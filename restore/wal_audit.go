package restore

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/wal"
)

// WALAuditOptions say which archive to check.
type WALAuditOptions struct {
	Bucket, Prefix, Job string
	// MaxAge: the newest archived WAL file older than this means archiving
	// stalled (or the server is idle: archive_timeout switches segments
	// only when something was written).
	MaxAge time.Duration
	// Identities let the audit read the base backups' manifests, to start
	// the continuity check at the newest base backup's first segment;
	// without them it starts at the oldest archived segment.
	Identities  []age.Identity
	SegmentSize int64 // default 16 MiB
	Now         time.Time
}

// WALGap is a run of missing segments on one timeline.
type WALGap struct {
	Timeline    uint32
	First, Last string // missing segment file names
	Count       uint64
}

// WALAudit is what AuditWAL found for one job.
type WALAudit struct {
	Prefix, Job string
	Objects     int // WAL objects listed
	Segments    int // distinct segment names
	// Base is the newest base backup (nil without identities or without
	// any); the check runs from its start segment.
	Base *BaseBackup
	From string // the first segment the check covers
	// Newest is the most recently archived WAL object; Age is its age at
	// the audit (the recovery point: writes after it are not archived).
	Newest    *WALObject
	Age       time.Duration
	Timelines []uint32
	Gaps      []WALGap
	// Duplicates are WAL file names archived with different contents.
	Duplicates map[string][]string
	// MissingHistory lists timelines (above the first) with segments but no
	// TTTTTTTT.history file: recovery cannot follow the switch to them.
	MissingHistory []uint32
	Stale          bool
	Problems       []string
}

// OK says the archive is continuous, unambiguous and fresh.
func (a *WALAudit) OK() bool { return len(a.Problems) == 0 }

// AuditWAL lists a job's WAL archive (s3:ListBucket; with identities also
// s3:GetObject on base backup manifests) and checks, per timeline, that the
// segments from the newest base backup's start to the newest segment are
// all there, that no WAL name carries two contents, that every timeline
// after the first has its .history file, and how old the newest file is.
func AuditWAL(ctx context.Context, api API, o WALAuditOptions) (*WALAudit, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	seg := o.SegmentSize
	if seg <= 0 {
		seg = wal.DefaultSegmentSize
	}
	ix, err := ListWAL(ctx, api, o.Bucket, o.Prefix, o.Job)
	if err != nil {
		return nil, err
	}
	a := &WALAudit{Prefix: o.Prefix, Job: o.Job, Duplicates: map[string][]string{}}
	if len(o.Identities) > 0 {
		b, err := PickBaseBackup(ctx, api, o.Bucket, o.Prefix, o.Job, o.Identities, PITRTarget{})
		if err == nil {
			a.Base = &b
		}
	}
	segs, history := a.fold(ix, seg)
	for tli := range segs {
		a.Timelines = append(a.Timelines, tli)
	}
	sort.Slice(a.Timelines, func(i, j int) bool { return a.Timelines[i] < a.Timelines[j] })

	var baseTLI uint32
	var baseSeg uint64
	if a.Base != nil {
		if n, err := wal.ParseName(a.Base.Manifest.Postgres.StartWALFile); err == nil {
			baseTLI, baseSeg = n.Timeline, n.SegNo(seg)
			a.From = n.File
		}
	}
	for _, tli := range a.Timelines {
		if baseTLI != 0 && tli < baseTLI {
			continue // before the newest base backup's timeline
		}
		nums := make([]uint64, 0, len(segs[tli]))
		for s := range segs[tli] {
			nums = append(nums, s)
		}
		sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
		first := nums[0]
		if tli == baseTLI {
			first = baseSeg
		}
		if a.From == "" {
			a.From = wal.SegmentName(tli, first, seg)
		}
		last := nums[len(nums)-1]
		var gap *WALGap
		for s := first; s <= last; s++ {
			if segs[tli][s] {
				gap = nil
				continue
			}
			if gap == nil {
				a.Gaps = append(a.Gaps, WALGap{Timeline: tli, First: wal.SegmentName(tli, s, seg)})
				gap = &a.Gaps[len(a.Gaps)-1]
			}
			gap.Last, gap.Count = wal.SegmentName(tli, s, seg), gap.Count+1
		}
		if tli > 1 && !history[tli] {
			a.MissingHistory = append(a.MissingHistory, tli)
		}
	}
	if a.Newest != nil {
		a.Age = now.Sub(a.Newest.LastModified)
	}
	a.Stale = a.Newest == nil || (o.MaxAge > 0 && a.Age > o.MaxAge)

	a.findProblems(o, ix.Dir, baseTLI, len(segs[baseTLI]))
	return a, nil
}

// fold reads the index: the segment numbers by timeline, the timelines
// with a history file, the newest object and the files archived with
// different contents.
func (a *WALAudit) fold(ix *WALIndex, seg int64) (map[uint32]map[uint64]bool, map[uint32]bool) {
	segs := map[uint32]map[uint64]bool{}
	history := map[uint32]bool{}
	for file, objs := range ix.Files {
		a.Objects += len(objs)
		digests := map[string]bool{}
		for i := range objs {
			o := objs[i]
			digests[o.SHA256] = true
			if a.Newest == nil || o.LastModified.After(a.Newest.LastModified) {
				a.Newest = &o
			}
		}
		if len(digests) > 1 {
			for d := range digests {
				a.Duplicates[file] = append(a.Duplicates[file], wal.ShortDigest(d))
			}
			sort.Strings(a.Duplicates[file])
		}
		n := objs[0].Name
		switch n.Kind {
		case wal.Segment:
			if segs[n.Timeline] == nil {
				segs[n.Timeline] = map[uint64]bool{}
			}
			segs[n.Timeline][n.SegNo(seg)] = true
			a.Segments++
		case wal.History:
			history[n.Timeline] = true
		}
	}
	return segs, history
}

// findProblems turns what the audit found into its problems.
func (a *WALAudit) findProblems(o WALAuditOptions, dir string, baseTLI uint32, baseSegments int) {
	switch {
	case a.Newest == nil:
		a.Problems = append(a.Problems, fmt.Sprintf("no WAL archived under s3://%s/%s (is archive_command 'putonly wal-push ... --job %s %%p'?)", o.Bucket, dir, o.Job))
	case a.Stale:
		a.Problems = append(a.Problems, fmt.Sprintf("WAL archiving stalled: the newest file (%s) was archived %s ago, more than %s (an idle server archives nothing: archive_timeout switches only after writes)", a.Newest.Name.File, a.Age.Round(time.Second), o.MaxAge))
	}
	if a.Base != nil && baseTLI != 0 && baseSegments == 0 {
		a.Problems = append(a.Problems, fmt.Sprintf("the newest base backup (%s) starts at %s, and no segment of timeline %d is archived", a.Base.Key, a.From, baseTLI))
	}
	for _, g := range a.Gaps {
		a.Problems = append(a.Problems, fmt.Sprintf("gap on timeline %d: %d segment(s) missing, %s to %s: recovery stops before them", g.Timeline, g.Count, g.First, g.Last))
	}
	for _, file := range sortedKeys(a.Duplicates) {
		a.Problems = append(a.Problems, fmt.Sprintf("%s archived with %d different contents (%s): two servers archive to this job, or a copy promoted without a new timeline; wal-fetch refuses it without --pick", file, len(a.Duplicates[file]), strings.Join(a.Duplicates[file], ", ")))
	}
	for _, tli := range a.MissingHistory {
		a.Problems = append(a.Problems, fmt.Sprintf("timeline %d has segments but no %08X.history: recovery cannot follow the switch to it", tli, tli))
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteWALPrometheus writes the WAL audits as Prometheus text, for
// node_exporter's textfile collector (next to AuditReport.WritePrometheus).
func WriteWALPrometheus(w io.Writer, bucket string, audits []*WALAudit) error {
	var b strings.Builder
	metric := func(name, help string, v func(a *WALAudit) (float64, bool)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, a := range audits {
			if x, ok := v(a); ok {
				fmt.Fprintf(&b, "%s{bucket=\"%s\",prefix=\"%s\",job=\"%s\"} %s\n", name, escapeLabel(bucket), escapeLabel(a.Prefix), escapeLabel(a.Job), formatFloat(x))
			}
		}
	}
	b01 := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	metric("putonly_wal_ok", "1 when the job's WAL archive is continuous from the newest base backup, unambiguous and fresh.", func(a *WALAudit) (float64, bool) { return b01(a.OK()), true })
	metric("putonly_wal_newest_timestamp_seconds", "When S3 completed the newest archived WAL file.", func(a *WALAudit) (float64, bool) {
		if a.Newest == nil {
			return 0, false
		}
		return float64(a.Newest.LastModified.Unix()), true
	})
	metric("putonly_wal_newest_age_seconds", "Age of the newest archived WAL file at the audit: the recovery point.", func(a *WALAudit) (float64, bool) { return a.Age.Seconds(), a.Newest != nil })
	metric("putonly_wal_segments", "Distinct WAL segments archived.", func(a *WALAudit) (float64, bool) { return float64(a.Segments), true })
	metric("putonly_wal_missing_segments", "Segments missing between the newest base backup's start and the newest segment, all timelines.", func(a *WALAudit) (float64, bool) {
		n := uint64(0)
		for _, g := range a.Gaps {
			n += g.Count
		}
		return float64(n), true
	})
	metric("putonly_wal_conflicting_names", "WAL file names archived with different contents.", func(a *WALAudit) (float64, bool) { return float64(len(a.Duplicates)), true })
	metric("putonly_wal_missing_history", "Timelines with segments and no .history file.", func(a *WALAudit) (float64, bool) { return float64(len(a.MissingHistory)), true })
	_, err := io.WriteString(w, b.String())
	return err
}
