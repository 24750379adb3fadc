package backup_test

import (
	"fmt"
	"time"

	"github.com/putonly/putonly/backup"
)

// The next run of a nightly job in Berlin, seen from a UTC clock.
func ExampleParseSchedule() {
	s, err := backup.ParseSchedule("15 2 * * *", "Europe/Berlin")
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	fmt.Println(s.Next(now).UTC())
	// Output: 2026-11-27 01:15:00 +0000 UTC
}

// A host's jitter delay is fixed: every night the same offset in the window.
func ExampleJitterDelay() {
	a := backup.JitterDelay("db1.example.net", "shop", 30*time.Minute)
	b := backup.JitterDelay("db1.example.net", "shop", 30*time.Minute)
	fmt.Println(a == b, a < 30*time.Minute)
	// Output: true true
}

// What a webhook receiver checks: X-Putonly-Signature against the body and
// X-Putonly-Timestamp, under the shared secret. The same as
// printf '1790000000.BODY' | openssl dgst -sha256 -hmac s3cret.
func ExampleSign() {
	body := []byte(`{"job":"shop","status":"success"}`)
	fmt.Println(backup.Sign("s3cret", "1790000000", body))
	// Output: sha256=a9d4a526d1c42e790fa24f232a03acd53f958becb311ca4eae4bc70618a7e80f
}
