package policy

import (
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// These tests evaluate the generated documents with the offline IAM
// evaluator, request by request, as putonly and as an attacker holding the
// key would send them. The condition keys each S3 call carries are the
// table in genWriteConditionStatements.

const (
	semAccount = "123456789012"
	semUser    = "arn:aws:iam::123456789012:user/putonly-db1"
	semKMS     = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// semRequest is one S3 call: its action, resource and the condition keys
// its request carries (every key a generated statement tests is given,
// present or absent, so the evaluator knows the answer).
type semRequest struct {
	name   string
	action string
	arn    string // resource; a trailing "*" means "some key under"
	keys   map[string]iam.Value
}

// semTLS are the transport keys of a request over TLS 1.3.
var semTLS = map[string]iam.Value{
	"aws:SecureTransport": iam.Present("true"),
	"s3:TlsVersion":       iam.Present("1.3"),
}

// semUpload returns the keys of an upload call: creation says whether it
// creates the object (s3:ObjectCreationOperation); inm is the
// If-None-Match header and sse the x-amz-server-side-encryption header (""
// for absent); extra overrides.
func semUpload(creation bool, inm, sse, kmsKey string, extra map[string]iam.Value) map[string]iam.Value {
	opt := func(v string) iam.Value {
		if v == "" {
			return iam.Absent
		}
		return iam.Present(v)
	}
	c := "false"
	if creation {
		c = "true"
	}
	m := map[string]iam.Value{
		"s3:ObjectCreationOperation":                         iam.Present(c),
		"s3:if-none-match":                                   opt(inm),
		"s3:x-amz-server-side-encryption":                    opt(sse),
		"s3:x-amz-server-side-encryption-aws-kms-key-id":     opt(kmsKey),
		"s3:x-amz-server-side-encryption-customer-algorithm": iam.Absent,
		"s3:object-lock-remaining-retention-days":            iam.Absent,
	}
	for k, v := range semTLS {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// semPutonly is every call putonly makes, with the headers it sends: SSE on
// PutObject and CreateMultipartUpload, If-None-Match: * on PutObject and
// CompleteMultipartUpload.
func semPutonly(o GenerateOptions, key string) []semRequest {
	sse, kms := "AES256", ""
	if o.KMSKeyARN != "" {
		sse, kms = "aws:kms", o.KMSKeyARN
	}
	obj := o.bucketARN() + "/" + key
	return []semRequest{
		{"PutObject", "s3:PutObject", obj, semUpload(true, "*", sse, kms, nil)},
		{"CreateMultipartUpload", "s3:PutObject", obj, semUpload(false, "", sse, kms, nil)},
		{"UploadPart", "s3:PutObject", obj, semUpload(false, "", "", "", nil)},
		{"CompleteMultipartUpload", "s3:PutObject", obj, semUpload(true, "*", "", "", nil)},
		{"AbortMultipartUpload", "s3:AbortMultipartUpload", obj, semTLS},
		{"GetBucketLocation", "s3:GetBucketLocation", o.bucketARN(), semTLS},
	}
}

// semAttacks are calls a thief holding the key might try; each must be
// denied.
func semAttacks(o GenerateOptions, key string) []semRequest {
	obj := o.bucketARN() + "/" + key
	sse, kms := "AES256", ""
	if o.KMSKeyARN != "" {
		sse, kms = "aws:kms", o.KMSKeyARN
	}
	plain := map[string]iam.Value{"aws:SecureTransport": iam.Present("false"), "s3:TlsVersion": iam.Absent}
	reqs := []semRequest{
		{"PutObject overwriting (no If-None-Match)", "s3:PutObject", obj, semUpload(true, "", sse, kms, nil)},
		{"PutObject with If-None-Match of an ETag", "s3:PutObject", obj, semUpload(true, `"abc"`, sse, kms, nil)},
		{"CompleteMultipartUpload overwriting", "s3:PutObject", obj, semUpload(true, "", "", "", nil)},
		{"PutObject with SSE-C", "s3:PutObject", obj, semUpload(true, "*", "", "", map[string]iam.Value{
			"s3:x-amz-server-side-encryption-customer-algorithm": iam.Present("AES256")})},
		{"UploadPart with SSE-C", "s3:PutObject", obj, semUpload(false, "", "", "", map[string]iam.Value{
			"s3:x-amz-server-side-encryption-customer-algorithm": iam.Present("AES256")})},
		{"PutObject with DSSE-KMS", "s3:PutObject", obj, semUpload(true, "*", "aws:kms:dsse", "", nil)},
		{"PutObject over plain HTTP", "s3:PutObject", obj, semUpload(true, "*", sse, kms, plain)},
		{"PutObject over TLS 1.1", "s3:PutObject", obj, semUpload(true, "*", sse, kms, map[string]iam.Value{"s3:TlsVersion": iam.Present("1.1")})},
		{"PutObject outside the prefix", "s3:PutObject", o.bucketARN() + "/elsewhere/x", semUpload(true, "*", sse, kms, nil)},
	}
	if o.KMSKeyARN != "" {
		reqs = append(reqs,
			semRequest{"PutObject with SSE-S3 where KMS is required", "s3:PutObject", obj, semUpload(true, "*", "AES256", "", nil)},
			semRequest{"PutObject with another KMS key", "s3:PutObject", obj, semUpload(true, "*", "aws:kms",
				"arn:aws:kms:eu-west-1:999988887777:key/00000000-0000-0000-0000-000000000000", nil)})
	} else {
		reqs = append(reqs, semRequest{"PutObject with SSE-KMS where SSE-S3 is required", "s3:PutObject", obj,
			semUpload(true, "*", "aws:kms", "arn:aws:kms:eu-west-1:999988887777:key/00000000-0000-0000-0000-000000000000", nil)})
	}
	if o.ObjectLockDays > 0 {
		reqs = append(reqs, semRequest{"PutObject locking for 100 years", "s3:PutObject", obj,
			semUpload(true, "*", sse, kms, map[string]iam.Value{"s3:object-lock-remaining-retention-days": iam.Present("36500")})})
	}
	return reqs
}

// semEvaluator parses the generated bucket and user policies, plus any
// extra identity policies (a later over-broad grant), for caller.
func semEvaluator(t *testing.T, o GenerateOptions, caller string, extra ...string) *iam.Evaluator {
	t.Helper()
	bp, err := GenerateBucketPolicy(o)
	if err != nil {
		t.Fatalf("GenerateBucketPolicy: %v", err)
	}
	up, err := GenerateUserPolicy(o)
	if err != nil {
		t.Fatalf("GenerateUserPolicy: %v", err)
	}
	c, err := iam.ParseCaller(caller)
	if err != nil {
		t.Fatal(err)
	}
	e := &iam.Evaluator{Caller: c, ResourceAccount: semAccount}
	if e.Resource, err = iam.Parse(bp, iam.ResourceBased); err != nil {
		t.Fatalf("the verifier's parser rejects the bucket policy: %v\n%s", err, bp)
	}
	e.Resource.Name = "bucket-policy"
	for i, doc := range append([]string{string(up)}, extra...) {
		p, err := iam.Parse([]byte(doc), iam.IdentityBased)
		if err != nil {
			t.Fatalf("the verifier's parser rejects identity policy %d: %v\n%s", i, err, doc)
		}
		p.Name = "identity"
		e.Identity = append(e.Identity, p)
	}
	return e
}

func semDecide(e *iam.Evaluator, r semRequest) iam.Decision {
	ctx := iam.Context{}
	for k, v := range r.keys {
		ctx = ctx.With(k, v)
	}
	target := iam.Target{ARN: strings.TrimSuffix(r.arn, "*"), Prefix: strings.HasSuffix(r.arn, "*")}
	return e.Evaluate(iam.Request{Action: r.action, Target: target, Context: ctx})
}

func semLabels(refs []iam.Ref) string {
	var s []string
	for _, r := range refs {
		s = append(s, r.Label())
	}
	return strings.Join(s, ", ")
}

// semOptionSets are the option combinations whose semantics are checked.
func semOptionSets() map[string]GenerateOptions {
	base := GenerateOptions{Bucket: "acme-db-backups", Principal: semUser, Prefix: "db1/"}
	kms := base
	kms.KMSKeyARN = semKMS
	lock := base
	lock.ObjectLockDays, lock.ObjectLockMode = 35, "compliance"
	list := base
	list.AllowList = true
	whole := base
	whole.Prefix = ""
	return map[string]GenerateOptions{"default": base, "kms": kms, "object-lock": lock, "allow-list": list, "whole-bucket": whole}
}

// TestPutonlyCallsAllowed: every call putonly makes passes every generated
// statement; in particular no Deny breaks a multipart upload.
func TestPutonlyCallsAllowed(t *testing.T) {
	for name, o := range semOptionSets() {
		e := semEvaluator(t, o, semUser)
		for _, r := range semPutonly(o, o.Prefix+"nightly/2026/11/26/nightly-20261126T020000Z-0a1b2c3d.dump.zst.age") {
			d := semDecide(e, r)
			if d.Access != iam.Allowed {
				t.Errorf("%s: %s is %v (denied by %s; partial %s), want allowed", name, r.name, d.Access, semLabels(d.Denies), semLabels(d.Partial))
			}
		}
	}
}

// TestFleetCallsAllowed: in a fleet each user writes under its own name and
// nowhere else.
func TestFleetCallsAllowed(t *testing.T) {
	o := GenerateOptions{Bucket: "acme-db-backups", Principal: "arn:aws:iam::123456789012:user/putonly/*", Prefix: "hosts/", Fleet: true}
	e := semEvaluator(t, o, "arn:aws:iam::123456789012:user/putonly/db7")
	for _, r := range semPutonly(o, "hosts/db7/nightly/x.dump") {
		if d := semDecide(e, r); d.Access != iam.Allowed {
			t.Errorf("fleet: %s is %v (denied by %s), want allowed", r.name, d.Access, semLabels(d.Denies))
		}
	}
	for _, r := range semPutonly(o, "hosts/db8/nightly/x.dump")[:4] {
		if d := semDecide(e, r); d.Access != iam.Denied {
			t.Errorf("fleet: db7's %s into db8's prefix is %v, want denied", r.name, d.Access)
		}
	}
}

// TestAttacksDenied: what a thief holding the key might try is denied.
func TestAttacksDenied(t *testing.T) {
	for name, o := range semOptionSets() {
		e := semEvaluator(t, o, semUser)
		key := o.Prefix + "nightly/x.dump"
		for _, r := range semAttacks(o, key) {
			if r.name == "PutObject outside the prefix" && o.Prefix == "" {
				continue
			}
			if d := semDecide(e, r); d.Access != iam.Denied {
				t.Errorf("%s: %s is %v, want denied", name, r.name, d.Access)
			}
		}
	}
}

// TestOverBroadGrantStillDenied: with s3:* granted to the user later, every
// read, destroy and escalate action of the catalogue is still denied, on
// the bucket, its objects, and (through the user policy) anywhere.
func TestOverBroadGrantStillDenied(t *testing.T) {
	const s3Star = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	for name, o := range semOptionSets() {
		e := semEvaluator(t, o, semUser, s3Star)
		for _, a := range Actions() {
			if a.Class != ClassRead && a.Class != ClassDestroy && a.Class != ClassEscalate {
				continue
			}
			for _, arn := range []string{o.bucketARN(), o.bucketARN() + "/" + o.Prefix + "*", "arn:aws:s3:eu-west-1:123456789012:job/*"} {
				r := semRequest{name: a.Name, action: a.Name, arn: arn, keys: semTLS}
				if d := semDecide(e, r); d.Access != iam.Denied {
					t.Errorf("%s: %s on %s with s3:* granted is %v, want denied", name, a.Name, arn, d.Access)
				}
			}
		}
	}
}

// TestUserPolicyAloneIsWriteOnly: the user policy on its own (no bucket
// policy) allows what putonly needs and denies the rest even beside s3:*.
func TestUserPolicyAloneIsWriteOnly(t *testing.T) {
	o := semOptionSets()["kms"]
	e := semEvaluator(t, o, semUser)
	e.Resource = nil
	for _, r := range semPutonly(o, "db1/nightly/x") {
		if d := semDecide(e, r); d.Access != iam.Allowed {
			t.Errorf("%s is %v, want allowed by the user policy alone", r.name, d.Access)
		}
	}
	if d := semDecide(e, semRequest{"GetObject", "s3:GetObject", o.bucketARN() + "/db1/x", semTLS}); d.Access != iam.Denied {
		t.Errorf("GetObject is %v, want denied", d.Access)
	}
}

// TestSeedSemantics: the seed allows putonly's uploads but not
// AbortMultipartUpload (a failed upload's parts stay until a lifecycle rule
// aborts them), and it lets the key overwrite: gaps the hardened policy
// closes.
func TestSeedSemantics(t *testing.T) {
	o := semOptionSets()["default"]
	seed, err := GenerateSeedPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := iam.Parse(seed, iam.ResourceBased)
	if err != nil {
		t.Fatalf("the verifier's parser rejects the seed: %v", err)
	}
	c, _ := iam.ParseCaller(semUser)
	e := &iam.Evaluator{Caller: c, ResourceAccount: semAccount, Resource: p}
	for _, r := range semPutonly(o, "db1/x") {
		want := iam.Allowed
		if r.action == "s3:AbortMultipartUpload" {
			want = iam.Denied
		}
		if d := semDecide(e, r); d.Access != want {
			t.Errorf("seed: %s is %v, want %v", r.name, d.Access, want)
		}
	}
	if d := semDecide(e, semAttacks(o, "db1/x")[0]); d.Access != iam.Allowed {
		t.Errorf("seed: overwrite is %v; the seed has no overwrite rule, want allowed", d.Access)
	}
}
