package agent

import (
	"bytes"
	"testing"
	"time"

	"github.com/putonly/putonly/backup"
)

func TestStatusOutput(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st := &backup.State{}
	st.Record(backup.Event{Job: "shop", Status: backup.StatusSuccess, Bucket: "b", Key: "k", BytesOut: 2500000,
		DurationSeconds: 72, Start: now.Add(-10 * time.Hour), End: now.Add(-10*time.Hour + 72*time.Second)})
	st.Job("shop").Schedule = "15 2 * * *"
	st.Job("shop").NextRun = now.Add(14*time.Hour + 15*time.Minute)
	st.Record(backup.Event{Job: "wiki", Status: backup.StatusFailure, Reason: "dump", Error: "job wiki: dump failed: exit status 2",
		DurationSeconds: 1, Start: now.Add(-time.Hour), End: now.Add(-time.Hour + time.Second)})
	st.Record(backup.Event{Job: "cron-job", Status: backup.StatusStart, Start: now.Add(-30 * time.Second)})
	var b bytes.Buffer
	if n := PrintStatus(&b, st, now, true); n != 1 {
		t.Errorf("%d failed, want 1", n)
	}
	want := `JOB       LAST RUN                        RESULT         DURATION  LAST SUCCESS                          NEXT RUN                             SCHEDULE
cron-job  2026-11-26 11:59Z (30s ago)     running        -         -                                     -                                    -
shop      2026-11-26 02:00Z (10h00m ago)  success        1m12s     2026-11-26 02:01Z (9h58m ago) 2.5 MB  2026-11-27 02:15Z (14h15m from now)  15 2 * * *
wiki      2026-11-26 11:00Z (1h00m ago)   failed (dump)  1s        -                                     -                                    -

wiki: job wiki: dump failed: exit status 2
`
	if b.String() != want {
		t.Errorf("status:\n%s\nwant:\n%s", b.String(), want)
	}
}
