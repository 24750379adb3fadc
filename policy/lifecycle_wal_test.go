package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/wal"
)

// expiryOf is the expiration S3 applies to key: when several rules match,
// the shortest wins ("Lifecycle configuration conflicts": "Permanent
// deletion versus permanent deletion ... the rule with the shorter
// expiration period", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-conflicts.html).
func expiryOf(l genLifecycle, key string) int {
	days := 0
	for _, r := range l.Rules {
		if r.Expiration == nil || r.Expiration.Days == 0 || !strings.HasPrefix(key, r.Filter.Prefix) {
			continue
		}
		if days == 0 || r.Expiration.Days < days {
			days = r.Expiration.Days
		}
	}
	return days
}

// TestLifecycleCoversWAL: wal-push writes under <prefix><job>/wal/, so the
// expiry of a job (or of the whole prefix) covers its WAL with the same
// days as its base backups, and no shorter rule (the self-test canaries')
// touches it. A WAL file is archived after the start of the base backup
// that needs it, so it lives as long; the one exception is the first
// segments of a base backup, archived while it runs, up to its duration
// before its object: the README says to add a day to the retention.
func TestLifecycleCoversWAL(t *testing.T) {
	seg, _ := wal.ParseName("000000010000000000000002")
	walKey := wal.Key("db1/", "shop", seg, strings.Repeat("ab", 32), true)
	k, _ := layout.NewKey("db1/", "shop", time.Now(), layout.Ext("tar", true))
	baseKey := k.String()
	for _, expire := range [][]ExpireRule{{{"", 35}}, {{"shop", 35}, {"wiki", 7}}} {
		o := GenerateOptions{Bucket: "acme-db-backups", Principal: "arn:aws:iam::123456789012:user/db1", Prefix: "db1/",
			Lifecycle: LifecycleOptions{Expire: expire}}
		doc, err := GenerateLifecycle(o)
		if err != nil {
			t.Fatal(err)
		}
		var l genLifecycle
		if err := json.Unmarshal(doc, &l); err != nil {
			t.Fatal(err)
		}
		if w, b := expiryOf(l, walKey), expiryOf(l, baseKey); w != 35 || b != 35 {
			t.Errorf("expire %v: WAL expires after %d days, base backups after %d; want 35 both\n%s", expire, w, b, doc)
		}
	}
}
