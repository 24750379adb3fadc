package restore

import (
	"encoding/json"
	"time"
)

// MarshalJSON is the audit report as the daemon's notifications carry it
// (the event's "report"): snake_case names like the drill report's, ages
// and durations in seconds, the newest backup by its key, time and size.
func (r *AuditReport) MarshalJSON() ([]byte, error) {
	type newest struct {
		Key       string    `json:"key"`
		Time      time.Time `json:"time"`
		Completed time.Time `json:"completed"`
		Size      int64     `json:"size"`
		Manifest  bool      `json:"manifest_listed"`
	}
	type job struct {
		Prefix        string   `json:"prefix"`
		Job           string   `json:"job"`
		OK            bool     `json:"ok"`
		Count         int      `json:"count"`
		Newest        *newest  `json:"newest"`
		AgeSeconds    float64  `json:"age_seconds"`
		BaselineBytes int64    `json:"baseline_bytes"`
		Stale         bool     `json:"stale"`
		Shrunk        bool     `json:"suspicious_size"`
		Manifest      string   `json:"manifest"`
		ManifestOK    bool     `json:"manifest_ok"`
		Problems      []string `json:"problems"`
	}
	out := struct {
		Time          time.Time `json:"time"`
		Bucket        string    `json:"bucket"`
		Prefix        string    `json:"prefix"`
		MaxAgeSeconds float64   `json:"max_age_seconds"`
		OK            bool      `json:"ok"`
		Jobs          []job     `json:"jobs"`
	}{Time: r.Time, Bucket: r.Bucket, Prefix: r.Prefix, MaxAgeSeconds: r.MaxAge.Seconds(), OK: r.OK(), Jobs: []job{}}
	for _, j := range r.Jobs {
		o := job{Prefix: j.Prefix, Job: j.Job, OK: j.OK(), Count: j.Count, AgeSeconds: j.Age.Seconds(),
			BaselineBytes: j.Baseline, Stale: j.Stale, Shrunk: j.Shrunk, Manifest: j.Manifest,
			ManifestOK: j.ManifestOK, Problems: j.Problems}
		if o.Problems == nil {
			o.Problems = []string{}
		}
		if b := j.Newest; b != nil {
			o.Newest = &newest{Key: b.Key, Time: b.Time, Completed: b.LastModified, Size: b.Size, Manifest: b.HasManifest}
		}
		out.Jobs = append(out.Jobs, o)
	}
	return json.Marshal(out)
}
