package restore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// DrillReport is a drill's evidence as JSON (putonly drill --format json,
// and what the daemon sends to its notify destinations).
type DrillReport struct {
	Job       string            `json:"job"`
	OK        bool              `json:"ok"`
	Error     string            `json:"error,omitempty"`
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key,omitempty"`
	BackupAt  *time.Time        `json:"backup_time,omitempty"`
	Bytes     int64             `json:"plaintext_bytes"`
	SHA256    string            `json:"sha256,omitempty"`
	Verified  bool              `json:"verified_against_manifest"`
	Dump      DumpReport        `json:"dump"`
	Target    string            `json:"target"`
	Dropped   bool              `json:"dropped"`
	Restored  *Contents         `json:"restored,omitempty"`
	Problems  []string          `json:"problems,omitempty"`
	Timings   map[string]string `json:"timings"`
	TimingsMS map[string]int64  `json:"timings_ms"`
	Finished  time.Time         `json:"finished"`
}

// DumpReport is what the dump itself says.
type DumpReport struct {
	Format         string           `json:"format,omitempty"`
	SourceDatabase string           `json:"source_database,omitempty"`
	ServerVersion  string           `json:"server_version,omitempty"`
	Tables         []string         `json:"tables"`
	CopyRows       map[string]int64 `json:"copy_rows,omitempty"`
	Switches       []SwitchError    `json:"allowed_database_switches,omitempty"`
}

// Report turns a drill's result into its report.
func (r *DrillResult) Report(job, bucket string, err error) DrillReport {
	rep := DrillReport{
		Job: job, OK: err == nil, Bucket: bucket, Key: r.Restore.Key, Bytes: r.Restore.PlaintextBytes,
		SHA256: r.Restore.SHA256, Verified: r.Restore.Manifest != nil && (err == nil || errors.Is(err, ErrEvidence)),
		Target: r.Target, Dropped: r.Dropped, Restored: r.Contents, Problems: r.Problems,
		Finished: time.Now().UTC(),
		Dump: DumpReport{Format: r.Load.Dump.Format, SourceDatabase: r.Load.Source, ServerVersion: r.Load.Dump.ServerVersion,
			Tables: r.Load.DumpTables, Switches: r.Load.Switches},
	}
	if rep.Dump.Tables == nil {
		rep.Dump.Tables = []string{}
	}
	for t, n := range r.Load.DumpRows {
		if rep.Dump.CopyRows == nil {
			rep.Dump.CopyRows = map[string]int64{}
		}
		rep.Dump.CopyRows[t] = n
	}
	if m := r.Restore.Manifest; m != nil && rep.Dump.ServerVersion == "" {
		rep.Dump.ServerVersion = m.ServerVersion
	}
	if rep.Key == "" {
		rep.Key = r.Backup.Key
	}
	if !r.Backup.Time.IsZero() {
		t := r.Backup.Time.UTC()
		rep.BackupAt = &t
	}
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Timings, rep.TimingsMS = map[string]string{}, map[string]int64{}
	for _, t := range r.timings() {
		rep.Timings[t.name] = round(t.d).String()
		rep.TimingsMS[t.name] = t.d.Milliseconds()
	}
	return rep
}

type timing struct {
	name string
	d    time.Duration
}

func (r *DrillResult) timings() []timing {
	return []timing{{"find", r.Find}, {"download_restore", r.Stream}, {"finish", r.Finish}, {"check", r.Check}, {"drop", r.Drop}, {"total", r.Total}}
}

// Timings is the one-line summary of the timings.
func (r *DrillResult) Timings() string {
	var parts []string
	for _, t := range r.timings() {
		if t.d == 0 && (t.name == "check" || t.name == "drop") {
			continue
		}
		parts = append(parts, strings.ReplaceAll(t.name, "_", "+")+" "+round(t.d).String())
	}
	return strings.Join(parts, ", ")
}

func round(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// WriteJSON writes the report as one indented JSON document.
func (rep DrillReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the evidence part of a report for people: what the dump
// lists, what the scratch database held, per table.
func (rep DrillReport) WriteText(w io.Writer) {
	d := rep.Dump
	if d.Format != "" {
		fmt.Fprintf(w, "  dump:     %s", d.Format)
		if d.SourceDatabase != "" {
			fmt.Fprintf(w, " of %s", d.SourceDatabase)
		}
		if d.ServerVersion != "" {
			fmt.Fprintf(w, " (server %s)", d.ServerVersion)
		}
		fmt.Fprintf(w, ", %s listed\n", Count(len(d.Tables), "table"))
	}
	for _, s := range d.Switches {
		fmt.Fprintf(w, "  allowed:  line %d: %s\n", s.Line, s.Statement)
	}
	if rep.Target != "" {
		state := ""
		switch {
		case rep.Restored == nil:
		case rep.Dropped:
			state = " (dropped afterwards)"
		default:
			state = " (kept)"
		}
		fmt.Fprintf(w, "  target:   %s%s\n", rep.Target, state)
	}
	if c := rep.Restored; c != nil {
		fmt.Fprintf(w, "  restored: %s, %s, %s\n", Count(len(c.Tables), "table"), Count(c.Rows, "row"), humanBytes(c.Bytes))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, t := range c.Tables {
			size := ""
			if t.Bytes > 0 {
				size = humanBytes(t.Bytes)
			}
			fmt.Fprintf(tw, "    %s\t%12d rows\t%s\n", t.Name, t.Rows, size)
		}
		tw.Flush()
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  PROBLEM:  %s\n", p)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Count is "1 table", "3 tables", "0 rows": for the reports' counts.
func Count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
