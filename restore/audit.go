package restore

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
)

// AuditOptions say what an audit checks.
type AuditOptions struct {
	Bucket, Prefix string
	// Jobs that must have backups: a job listed here without any backup is
	// stale. Jobs found in the bucket are always audited.
	Jobs []string
	// MaxAge: a job whose newest backup started longer ago is stale.
	MaxAge time.Duration
	// Shrink: a newest backup smaller than (1 - Shrink) × the median of the
	// previous Window backups is suspicious. Defaults 0.9 and 7.
	Shrink float64
	Window int
	// Identities, when set, let the audit read the newest backup's manifest
	// and check the dump's recorded exit status and sizes.
	Identities []age.Identity
	Now        time.Time // default time.Now()
}

// manifestGrace is how long after a backup completes its manifest may still
// be missing: the pipeline writes it right after the backup.
const manifestGrace = 10 * time.Minute

// JobAudit is the finding for one job (one prefix and job name).
type JobAudit struct {
	Prefix, Job string
	Count       int
	Newest      *Backup // nil when the job has no backup
	Age         time.Duration
	// Baseline is the median size of up to Window backups before the
	// newest; 0 when there is none.
	Baseline int64
	Stale    bool
	Shrunk   bool
	// Manifest: "ok" (read and consistent), "present" (listed, not read:
	// no identity), "missing", "pending" (the backup is minutes old), or
	// the problem found in it.
	Manifest   string
	ManifestOK bool
	Problems   []string
}

// OK says the job has a fresh, plausible backup with a good manifest.
func (j *JobAudit) OK() bool { return len(j.Problems) == 0 }

// AuditReport is the result of Audit.
type AuditReport struct {
	Time           time.Time
	Bucket, Prefix string
	MaxAge         time.Duration
	Jobs           []*JobAudit // sorted by prefix and job
}

// OK says every job is OK.
func (r *AuditReport) OK() bool {
	for _, j := range r.Jobs {
		if !j.OK() {
			return false
		}
	}
	return true
}

// Audit lists the backups under the prefix and reports, for each job, the
// age of the newest backup, its size against the previous ones, and its
// manifest. It needs s3:ListBucket, and s3:GetObject on manifests when
// identities are given; it reads no backup.
func Audit(ctx context.Context, api API, o AuditOptions) (*AuditReport, error) {
	if o.Shrink <= 0 {
		o.Shrink = 0.9
	}
	if o.Window <= 0 {
		o.Window = 7
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	l, err := List(ctx, api, o.Bucket, o.Prefix, "")
	if err != nil {
		return nil, err
	}
	rep := &AuditReport{Time: o.Now, Bucket: o.Bucket, Prefix: o.Prefix, MaxAge: o.MaxAge}
	byJob := map[string][]Backup{} // newest first, as listed
	for _, b := range l.Backups {
		id := b.Prefix + "\x00" + b.Job
		byJob[id] = append(byJob[id], b)
	}
	for _, want := range o.Jobs {
		id := o.Prefix + "\x00" + want
		if _, ok := byJob[id]; !ok {
			byJob[id] = nil
		}
	}
	for id, bs := range byJob {
		prefix, job, _ := strings.Cut(id, "\x00")
		ja := &JobAudit{Prefix: prefix, Job: job, Count: len(bs)}
		rep.Jobs = append(rep.Jobs, ja)
		if len(bs) == 0 {
			ja.Stale = true
			ja.Manifest = "missing"
			ja.Problems = append(ja.Problems, "no backup at all")
			continue
		}
		newest := bs[0]
		ja.Newest = &newest
		ja.Age = max(o.Now.Sub(newest.Time), 0)
		if o.MaxAge > 0 && ja.Age > o.MaxAge {
			ja.Stale = true
			ja.Problems = append(ja.Problems, fmt.Sprintf("newest backup is %s old (max %s)", roundAge(ja.Age), o.MaxAge))
		}
		prev := bs[1:min(len(bs), o.Window+1)]
		if len(prev) > 0 {
			ja.Baseline = median(prev)
			if float64(newest.Size) < (1-o.Shrink)*float64(ja.Baseline) {
				ja.Shrunk = true
				ja.Problems = append(ja.Problems, fmt.Sprintf("newest backup is %d bytes, %.0f%% smaller than the median %d of the %d before it",
					newest.Size, 100*(1-float64(newest.Size)/float64(ja.Baseline)), ja.Baseline, len(prev)))
			}
		}
		auditManifest(ctx, api, o, ja)
	}
	sort.Slice(rep.Jobs, func(i, j int) bool {
		if rep.Jobs[i].Prefix != rep.Jobs[j].Prefix {
			return rep.Jobs[i].Prefix < rep.Jobs[j].Prefix
		}
		return rep.Jobs[i].Job < rep.Jobs[j].Job
	})
	return rep, nil
}

func auditManifest(ctx context.Context, api Getter, o AuditOptions, ja *JobAudit) {
	b := ja.Newest
	if !b.HasManifest {
		if o.Now.Sub(b.LastModified) < manifestGrace {
			ja.Manifest, ja.ManifestOK = "pending", true
			return
		}
		ja.Manifest = "missing"
		ja.Problems = append(ja.Problems, "newest backup has no manifest (the backup run reported a failure)")
		return
	}
	if len(o.Identities) == 0 {
		ja.Manifest, ja.ManifestOK = "present", true
		return
	}
	m, err := FetchManifest(ctx, api, o.Bucket, b.Key, o.Identities)
	switch {
	case err != nil:
		ja.Manifest = oneLine(err.Error())
	case m.CiphertextSize != b.Size:
		ja.Manifest = fmt.Sprintf("the object is %d bytes, its manifest says %d", b.Size, m.CiphertextSize)
	default:
		ja.Manifest, ja.ManifestOK = "ok", true
		return
	}
	ja.Problems = append(ja.Problems, "manifest: "+ja.Manifest)
}

func median(bs []Backup) int64 {
	s := make([]int64, len(bs))
	for i, b := range bs {
		s[i] = b.Size
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func roundAge(d time.Duration) time.Duration {
	if d > time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// WritePrometheus writes the report in the Prometheus text exposition
// format, for node_exporter's textfile collector. Jobs without a backup
// have no newest-backup samples; putonly_backup_ok says what to alert on.
func (r *AuditReport) WritePrometheus(w io.Writer) error {
	var b strings.Builder
	metric := func(name, help string, sample func(j *JobAudit) (float64, bool)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, j := range r.Jobs {
			if v, ok := sample(j); ok {
				fmt.Fprintf(&b, "%s{bucket=\"%s\",prefix=\"%s\",job=\"%s\"} %s\n", name,
					escapeLabel(r.Bucket), escapeLabel(j.Prefix), escapeLabel(j.Job), formatFloat(v))
			}
		}
	}
	newest := func(f func(*Backup) float64) func(*JobAudit) (float64, bool) {
		return func(j *JobAudit) (float64, bool) {
			if j.Newest == nil {
				return 0, false
			}
			return f(j.Newest), true
		}
	}
	flag := func(f func(*JobAudit) bool) func(*JobAudit) (float64, bool) {
		return func(j *JobAudit) (float64, bool) {
			if f(j) {
				return 1, true
			}
			return 0, true
		}
	}
	metric("putonly_backup_ok", "1 when the job's newest backup is fresh, plausibly sized and has a good manifest.", flag((*JobAudit).OK))
	metric("putonly_backup_stale", "1 when the job has no backup younger than the audit's max age.", flag(func(j *JobAudit) bool { return j.Stale }))
	metric("putonly_backup_suspicious_size", "1 when the newest backup shrank against the median of the previous ones.", flag(func(j *JobAudit) bool { return j.Shrunk }))
	metric("putonly_backup_manifest_ok", "1 when the newest backup's manifest is present (and, with an identity, read and consistent).", flag(func(j *JobAudit) bool { return j.ManifestOK }))
	metric("putonly_backup_count", "Backups of the job under the prefix.", func(j *JobAudit) (float64, bool) { return float64(j.Count), true })
	metric("putonly_backup_newest_timestamp_seconds", "Start time of the newest backup, from its key.", newest(func(b *Backup) float64 { return float64(b.Time.Unix()) }))
	metric("putonly_backup_newest_completed_timestamp_seconds", "Time S3 completed the newest backup.", newest(func(b *Backup) float64 { return float64(b.LastModified.Unix()) }))
	metric("putonly_backup_newest_age_seconds", "Age of the newest backup at the audit.", func(j *JobAudit) (float64, bool) { return j.Age.Seconds(), j.Newest != nil })
	metric("putonly_backup_newest_size_bytes", "Size of the newest backup object.", newest(func(b *Backup) float64 { return float64(b.Size) }))
	metric("putonly_backup_baseline_size_bytes", "Median size of the backups before the newest.", func(j *JobAudit) (float64, bool) { return float64(j.Baseline), j.Baseline > 0 })
	ok := 0.0
	if r.OK() {
		ok = 1
	}
	fmt.Fprintf(&b, "# HELP putonly_audit_ok 1 when every job passed the audit.\n# TYPE putonly_audit_ok gauge\nputonly_audit_ok{bucket=\"%s\",prefix=\"%s\"} %s\n", escapeLabel(r.Bucket), escapeLabel(r.Prefix), formatFloat(ok))
	fmt.Fprintf(&b, "# HELP putonly_audit_timestamp_seconds Time of the audit.\n# TYPE putonly_audit_timestamp_seconds gauge\nputonly_audit_timestamp_seconds{bucket=\"%s\",prefix=\"%s\"} %d\n", escapeLabel(r.Bucket), escapeLabel(r.Prefix), r.Time.Unix())
	_, err := io.WriteString(w, b.String())
	return err
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func formatFloat(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}
