package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// settingsFromSetupCalls plays S3 for the aws calls a set-up script made:
// it keeps what each put-* call configured and answers with what the
// matching get-* command would print, keyed as SettingsFiles.
func settingsFromSetupCalls(t *testing.T, dir string, calls []string) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	arg := func(fields []string, flag string) string {
		for i, f := range fields {
			if f == flag && i+1 < len(fields) {
				return fields[i+1]
			}
		}
		t.Fatalf("no %s in %v", flag, fields)
		return ""
	}
	wrap := func(key, raw string) []byte {
		return []byte(`{"` + key + `":` + raw + `}`)
	}
	for _, c := range calls {
		f := strings.Fields(c)
		if len(f) < 2 || f[0] != "s3api" {
			continue
		}
		switch f[1] {
		case "create-bucket":
			// "When you create a bucket with object lock enabled, versioning
			// is enabled automatically" (S3 User Guide, "Locking objects
			// with Object Lock").
			if strings.Contains(c, "--object-lock-enabled-for-bucket") {
				docs["versioning.json"] = []byte(`{"Status":"Enabled","MFADelete":"Disabled"}`)
			}
		case "put-bucket-versioning":
			docs["versioning.json"] = []byte(arg(f, "--versioning-configuration"))
		case "put-object-lock-configuration":
			docs["object-lock-configuration.json"] = wrap("ObjectLockConfiguration", arg(f, "--object-lock-configuration"))
		case "put-bucket-encryption":
			docs["encryption.json"] = wrap("ServerSideEncryptionConfiguration", arg(f, "--server-side-encryption-configuration"))
		case "put-bucket-lifecycle-configuration":
			data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(arg(f, "--lifecycle-configuration"), "file://")))
			if err != nil {
				t.Fatal(err)
			}
			docs["lifecycle-configuration.json"] = data
		case "put-public-access-block":
			// Shorthand: K=true,K=true,...
			m := map[string]bool{}
			for _, kv := range strings.Split(arg(f, "--public-access-block-configuration"), ",") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v == "true"
			}
			b, _ := json.Marshal(map[string]any{"PublicAccessBlockConfiguration": m})
			docs["public-access-block.json"] = b
		case "put-bucket-ownership-controls":
			v := arg(f, "--ownership-controls")
			own := strings.TrimSuffix(strings.TrimPrefix(v, "Rules=[{ObjectOwnership="), "}]")
			docs["ownership-controls.json"] = []byte(`{"OwnershipControls":{"Rules":[{"ObjectOwnership":"` + own + `"}]}}`)
		}
	}
	return docs
}

// settingsFromCloudFormation reads the bucket's properties of a generated
// template as the get-* commands would print them for the stack's bucket.
func settingsFromCloudFormation(t *testing.T, tmpl []byte) map[string][]byte {
	t.Helper()
	var doc struct {
		Resources map[string]struct {
			Properties map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Resources["BackupBucket"].Properties
	docs := map[string][]byte{}
	if v, ok := p["VersioningConfiguration"]; ok {
		docs["versioning.json"] = v
	}
	if v, ok := p["ObjectLockConfiguration"]; ok {
		docs["object-lock-configuration.json"] = []byte(`{"ObjectLockConfiguration":` + string(v) + `}`)
	}
	if v, ok := p["PublicAccessBlockConfiguration"]; ok {
		docs["public-access-block.json"] = []byte(`{"PublicAccessBlockConfiguration":` + string(v) + `}`)
	}
	if v, ok := p["OwnershipControls"]; ok {
		docs["ownership-controls.json"] = []byte(`{"OwnershipControls":` + string(v) + `}`)
	}
	// CloudFormation's names differ from the API's: ServerSideEncryptionByDefault,
	// ExpirationInDays, TransitionInDays.
	var enc struct {
		ServerSideEncryptionConfiguration []map[string]json.RawMessage
	}
	if err := json.Unmarshal(p["BucketEncryption"], &enc); err != nil {
		t.Fatal(err)
	}
	var rules []map[string]json.RawMessage
	for _, r := range enc.ServerSideEncryptionConfiguration {
		r["ApplyServerSideEncryptionByDefault"] = r["ServerSideEncryptionByDefault"]
		delete(r, "ServerSideEncryptionByDefault")
		rules = append(rules, r)
	}
	b, _ := json.Marshal(map[string]any{"ServerSideEncryptionConfiguration": map[string]any{"Rules": rules}})
	docs["encryption.json"] = b
	var lc struct {
		Rules []map[string]any
	}
	if err := json.Unmarshal(p["LifecycleConfiguration"], &lc); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range lc.Rules {
		api := map[string]any{"ID": r["Id"], "Status": r["Status"], "Filter": map[string]any{"Prefix": r["Prefix"]}}
		if r["Prefix"] == nil {
			api["Filter"] = map[string]any{"Prefix": ""}
		}
		exp := map[string]any{}
		if d, ok := r["ExpirationInDays"]; ok {
			exp["Days"] = d
		}
		if d, ok := r["ExpiredObjectDeleteMarker"]; ok {
			exp["ExpiredObjectDeleteMarker"] = d
		}
		if len(exp) > 0 {
			api["Expiration"] = exp
		}
		for _, k := range []string{"NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"} {
			if v, ok := r[k]; ok {
				api[k] = v
			}
		}
		out = append(out, api)
	}
	b, _ = json.Marshal(map[string]any{"Rules": out})
	docs["lifecycle-configuration.json"] = b
	return docs
}

// TestGeneratedSetupVerifiesWithSettings: the bucket the set-up script and
// the CloudFormation template make passes every bucket-settings check,
// with the generated policies, for each kind of set-up.
func TestGeneratedSetupVerifiesWithSettings(t *testing.T) {
	const host = "arn:aws:iam::123456789012:user/putonly/db7"
	var opts []GenerateOptions
	for _, lock := range []int{0, 35} {
		for _, key := range []string{"", goldKMS} {
			for _, fleet := range []bool{false, true} {
				o := goldBase()
				o.KMSKeyARN, o.ObjectLockDays, o.Fleet = key, lock, fleet
				if lock > 0 {
					o.ObjectLockMode = "governance"
				}
				if fleet {
					o.Principal = "arn:aws:iam::123456789012:user/putonly/*"
				}
				o.Lifecycle.Expire = []ExpireRule{{"", 35}}
				opts = append(opts, o)
			}
		}
	}
	for _, o := range opts {
		name := fmt.Sprintf("lock=%d kms=%v fleet=%v", o.ObjectLockDays, o.KMSKeyARN != "", o.Fleet)
		t.Run(name, func(t *testing.T) {
			script, err := GenerateSetup(o, "putonly-policy generate --output setup")
			if err != nil {
				t.Fatal(err)
			}
			dir, calls := runSetup(t, script)
			tmpl, err := GenerateCloudFormation(o)
			if err != nil {
				t.Fatal(err)
			}
			bp, _ := GenerateBucketPolicy(o)
			up, _ := GenerateUserPolicy(o)
			principal, prefix := o.Principal, o.Prefix
			if o.Fleet {
				principal, prefix = host, o.Prefix+"db7/"
			}
			for kind, docs := range map[string]map[string][]byte{"setup": settingsFromSetupCalls(t, dir, calls), "cloudformation": settingsFromCloudFormation(t, tmpl)} {
				st, err := ParseBucketSettings(docs)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				res, err := Verify(VerifyInput{
					BucketPolicy: verParse(t, bp, iam.ResourceBased, "bucket"), IdentityPolicies: []*iam.Policy{verParse(t, up, iam.IdentityBased, "user-policy")},
					Principal: principal, Bucket: o.Bucket, Prefix: prefix, KMSKey: o.KMSKeyARN, Settings: st, RetentionDays: 35,
				})
				if err != nil {
					t.Fatal(err)
				}
				verCheckClean(t, kind, res, o.AllowList)
			}
		})
	}
}

// verSettings builds settings from CLI outputs given inline.
func verSettings(t *testing.T, docs map[string]string) *BucketSettings {
	t.Helper()
	m := map[string][]byte{}
	for k, v := range docs {
		m[k] = []byte(v)
	}
	st, err := ParseBucketSettings(m)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// verGoodSettings are the settings of a bucket that passes every check.
func verGoodSettings() map[string]string {
	return map[string]string{
		"versioning.json":              `{"Status":"Enabled","MFADelete":"Disabled"}`,
		"encryption.json":              `{"ServerSideEncryptionConfiguration":{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BucketKeyEnabled":false,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}}`,
		"lifecycle-configuration.json": `{"TransitionDefaultMinimumObjectSize":"all_storage_classes_128K","Rules":[{"ID":"expire","Filter":{"Prefix":"db/"},"Status":"Enabled","Expiration":{"Days":35}},{"ID":"abort","Filter":{"Prefix":""},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}},{"ID":"canaries","Filter":{"Prefix":"db/_putonly-selftest/"},"Status":"Enabled","Expiration":{"Days":1}}]}`,
		"public-access-block.json":     `{"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}`,
		"ownership-controls.json":      `{"OwnershipControls":{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}}`,
	}
}

func TestVerifyBucketSettings(t *testing.T) {
	user := `{"AWS":"` + verUser + `"}`
	seed := verDoc(
		`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::bk"}`,
		`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*"}`,
	)
	with := func(changes map[string]string) map[string]string {
		m := verGoodSettings()
		for k, v := range changes {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name     string
		bucket   string
		settings map[string]string
		verdict  string
		has      []string // "severity ~reason substring"
	}{
		{"hardened, good bucket", verHardenedWith(), verGoodSettings(), VerdictPass, nil},
		{"seed on a versioned bucket warns", seed, verGoodSettings(), VerdictWarn, []string{"warning ~versioning keeps the replaced backup"}},
		{"seed on an unversioned bucket fails", seed, with(map[string]string{"versioning.json": ""}), VerdictFail, []string{"violation ~neither versioning nor object lock (versioning never enabled)"}},
		{"seed on a suspended bucket fails", seed, with(map[string]string{"versioning.json": `{"Status":"Suspended"}`}), VerdictFail, []string{"violation ~versioning suspended"}},
		{"seed on an object lock bucket warns", seed, with(map[string]string{"versioning.json": "", "object-lock-configuration.json": `{"ObjectLockConfiguration":{"ObjectLockEnabled":"Enabled"}}`}), VerdictWarn, nil},
		{"If-None-Match forced, unversioned bucket passes", verHardenedWith(), with(map[string]string{"versioning.json": "{}"}), VerdictPass, nil},
		{"SSE-C not blocked", verHardenedWith(), with(map[string]string{"encryption.json": `{"ServerSideEncryptionConfiguration":{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}}`}), VerdictFail, []string{"violation ~SSE-C uploads are not blocked"}},
		{"SSE-C unblocked with NONE", verHardenedWith(), with(map[string]string{"encryption.json": `{"ServerSideEncryptionConfiguration":{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}}]}}`}), VerdictFail, []string{"violation ~SSE-C uploads are not blocked"}},
		{"no default encryption", verHardenedWith(), with(map[string]string{"encryption.json": ""}), VerdictFail, []string{"violation ~no default encryption"}},
		{"ACLs enabled", verHardenedWith(), with(map[string]string{"ownership-controls.json": `{"OwnershipControls":{"Rules":[{"ObjectOwnership":"ObjectWriter"}]}}`}), VerdictFail, []string{"violation ~ACLs are enabled (object ownership ObjectWriter)"}},
		{"no ownership controls", verHardenedWith(), with(map[string]string{"ownership-controls.json": ""}), VerdictFail, []string{"violation ~ACLs are enabled (object ownership not set)"}},
		{"public access partly blocked", verHardenedWith(), with(map[string]string{"public-access-block.json": `{"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":false,"RestrictPublicBuckets":true}}`}), VerdictFail, []string{"violation ~BlockPublicPolicy false"}},
		{"no public access block", verHardenedWith(), with(map[string]string{"public-access-block.json": ""}), VerdictFail, []string{"violation ~no public access block configured"}},
		{"lifecycle expires sooner than asked", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"short","Filter":{"Prefix":""},"Status":"Enabled","Expiration":{"Days":7},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictFail, []string{`violation ~rule "short" expires backups under "" after 7 days, sooner than the 35 days asked`}},
		{"lifecycle with the deprecated Prefix", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"old","Prefix":"db/2024","Status":"Enabled","Expiration":{"Days":1}},{"ID":"abort","Filter":{},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictFail, []string{`violation ~rule "old" expires`}},
		{"lifecycle on a tag filter", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"tagged","Filter":{"Tag":{"Key":"tmp","Value":"1"}},"Status":"Enabled","Expiration":{"Days":1}},{"ID":"abort","Filter":{"Prefix":""},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictFail, []string{`violation ~rule "tagged" expires`}},
		{"lifecycle on a date", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"d","Filter":{"Prefix":"db/"},"Status":"Enabled","Expiration":{"Date":"2027-01-01T00:00:00+00:00"}},{"ID":"abort","Filter":{"Prefix":""},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictFail, []string{"violation ~on 2027-01-01"}},
		{"lifecycle elsewhere", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"web","Filter":{"Prefix":"web/"},"Status":"Enabled","Expiration":{"Days":1}},{"ID":"abort","Filter":{"Prefix":""},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictPass, nil},
		{"lifecycle disabled rule", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"off","Filter":{"Prefix":""},"Status":"Disabled","Expiration":{"Days":1}},{"ID":"abort","Filter":{"Prefix":""},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictPass, nil},
		{"no abort of incomplete uploads", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"expire","Filter":{"Prefix":"db/"},"Status":"Enabled","Expiration":{"Days":35}}]}`}), VerdictWarn, []string{"warning ~aborts incomplete multipart uploads"}},
		{"no lifecycle at all", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": ""}), VerdictWarn, []string{"warning ~aborts incomplete multipart uploads"}},
		{"abort only for another prefix", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"abort","Filter":{"Prefix":"db/x/"},"Status":"Enabled","AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictWarn, []string{"warning ~aborts incomplete"}},
		{"noncurrent expiry sooner than asked, overwrite allowed", seed, with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"nc","Filter":{"Prefix":""},"Status":"Enabled","NoncurrentVersionExpiration":{"NoncurrentDays":1},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictFail, []string{`violation ~rule "nc" deletes the replaced`}},
		{"noncurrent expiry, overwrite prevented", verHardenedWith(), with(map[string]string{"lifecycle-configuration.json": `{"Rules":[{"ID":"nc","Filter":{"Prefix":""},"Status":"Enabled","NoncurrentVersionExpiration":{"NoncurrentDays":1},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3}}]}`}), VerdictPass, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bp, err := iam.Parse([]byte(tc.bucket), iam.ResourceBased)
			if err != nil {
				t.Fatal(err)
			}
			bp.Name = "bucket"
			res, err := Verify(VerifyInput{BucketPolicy: bp, Principal: verUser, Bucket: "bk", Prefix: "db/", Settings: verSettings(t, tc.settings), RetentionDays: 35})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", res.Verdict, tc.verdict)
			}
			for _, h := range tc.has {
				sev, sub, _ := strings.Cut(h, " ~")
				found := false
				for _, f := range res.Findings {
					found = found || (f.Severity == sev && strings.Contains(f.Reason, sub))
				}
				if !found {
					t.Errorf("no %s with %q", sev, sub)
				}
			}
			if t.Failed() {
				t.Logf("findings:\n%s", strings.Join(verLines(res), "\n"))
			}
		})
	}
}

// TestVerifyRetentionNotGiven: without --retention-days the lifecycle's
// expiry is reported, not judged.
func TestVerifyRetentionNotGiven(t *testing.T) {
	bp, err := iam.Parse([]byte(verHardenedWith()), iam.ResourceBased)
	if err != nil {
		t.Fatal(err)
	}
	bp.Name = "bucket"
	res, err := Verify(VerifyInput{BucketPolicy: bp, Principal: verUser, Bucket: "bk", Prefix: "db/", Settings: verSettings(t, verGoodSettings())})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		found = found || (f.Severity == SeverityInfo && strings.Contains(f.Reason, `"expire", expires them after 35 days`))
	}
	if res.Verdict != VerdictPass || !found {
		t.Errorf("verdict %s, findings:\n%s", res.Verdict, strings.Join(verLines(res), "\n"))
	}
}

func TestReadBucketSettings(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range verGoodSettings() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The CLI prints nothing for a configuration never set.
	if err := os.WriteFile(filepath.Join(dir, "object-lock-configuration.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := ReadBucketSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Versioning != "Enabled" || st.ObjectLock != nil || st.ObjectOwnership != "BucketOwnerEnforced" || len(st.Lifecycle) != 3 {
		t.Errorf("settings = %+v", st)
	}
	if len(st.Documents) != len(SettingsFiles) || st.Documents[0].SHA256 == "" {
		t.Errorf("documents = %+v", st.Documents)
	}
	if err := os.WriteFile(filepath.Join(dir, "encryption.json"), []byte(`{"ServerSideEncryptionConfiguration": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBucketSettings(dir); err == nil || !strings.Contains(err.Error(), "get-bucket-encryption") {
		t.Errorf("bad encryption.json: %v", err)
	}
	if _, err := ReadBucketSettings(filepath.Join(dir, "versioning.json")); err == nil {
		t.Error("a file accepted as the settings directory")
	}
	// A misspelt name is refused rather than read as "not configured".
	typo := t.TempDir()
	if err := os.WriteFile(filepath.Join(typo, "versionning.json"), []byte(`{"Status": "Enabled"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(typo, "README"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBucketSettings(typo); err == nil || !strings.Contains(err.Error(), "versionning.json is not one of the files read") {
		t.Errorf("misspelt settings file: %v", err)
	}
	os.Remove(filepath.Join(typo, "versionning.json"))
	if _, err := ReadBucketSettings(typo); err != nil {
		t.Errorf("a file that is not .json is not a settings document: %v", err)
	}
}
