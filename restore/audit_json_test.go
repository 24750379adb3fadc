package restore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The audit report in a notification has the drill report's style of
// names and no Go field names or nanoseconds.
func TestAuditReportJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)
	r := &AuditReport{Time: at, Bucket: "b", Prefix: "db1/", MaxAge: 26 * time.Hour, Jobs: []*JobAudit{
		{Prefix: "db1/", Job: "shop", Count: 3, Age: 90 * time.Minute, Baseline: 1000, Manifest: "ok", ManifestOK: true,
			Newest: &Backup{Key: "db1/shop/k", Time: at.Add(-90 * time.Minute), LastModified: at.Add(-89 * time.Minute), Size: 990, HasManifest: true}},
		{Prefix: "db1/", Job: "app", Stale: true, Manifest: "missing", Problems: []string{"no backup at all"}},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["max_age_seconds"] != 93600.0 || got["ok"] != false || got["bucket"] != "b" {
		t.Errorf("report: %s", data)
	}
	jobs := got["jobs"].([]any)
	shop, app := jobs[0].(map[string]any), jobs[1].(map[string]any)
	if shop["age_seconds"] != 5400.0 || shop["ok"] != true || shop["newest"].(map[string]any)["key"] != "db1/shop/k" || shop["newest"].(map[string]any)["size"] != 990.0 {
		t.Errorf("shop: %v", shop)
	}
	if app["newest"] != nil || app["stale"] != true || !reflect.DeepEqual(app["problems"], []any{"no backup at all"}) {
		t.Errorf("app: %v", app)
	}
	for _, goName := range []string{`"MaxAge"`, `"Jobs"`, `"Newest"`, `"LastModified"`} {
		if strings.Contains(string(data), goName) {
			t.Errorf("Go field name %s in %s", goName, data)
		}
	}
}
