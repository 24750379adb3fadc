package restore

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteDrillPrometheus writes a drill's result in the Prometheus text
// exposition format, for node_exporter's textfile collector: the metrics
// behind the dashboard's drill panels and the "no successful drill" alert.
// err is the drill's verdict (nil: passed).
func WriteDrillPrometheus(w io.Writer, bucket, prefix, job string, res DrillResult, err error) error {
	var b strings.Builder
	labels := fmt.Sprintf(`{bucket="%s",prefix="%s",job="%s"}`, escapeLabel(bucket), escapeLabel(prefix), escapeLabel(job))
	ok := 1
	if err != nil {
		ok = 0
	}
	gauge := func(name, help string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %v\n", name, help, name, name, labels, v)
	}
	gauge("putonly_drill_ok", "1 when the last restore drill passed.", ok)
	gauge("putonly_drill_timestamp_seconds", "Time the last restore drill ended.", time.Now().Unix())
	gauge("putonly_drill_duration_seconds", "Duration of the last restore drill.", res.Total.Seconds())
	gauge("putonly_drill_restored_bytes", "Plaintext bytes the last drill fed its target.", res.Restore.PlaintextBytes)
	if res.Contents != nil {
		gauge("putonly_drill_restored_rows", "Rows the scratch database held after the last drill.", res.Contents.Rows)
		gauge("putonly_drill_restored_tables", "Tables the scratch database held after the last drill.", len(res.Contents.Tables))
	}
	if err == nil {
		gauge("putonly_drill_last_success_timestamp_seconds", "Time the last successful restore drill ended.", time.Now().Unix())
	}
	if !res.Backup.Time.IsZero() {
		gauge("putonly_drill_backup_timestamp_seconds", "Start time of the backup the last drill restored.", res.Backup.Time.Unix())
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}
