package policy

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// TestGeneratedPoliciesVerifyClean checks the promise of the generate
// issue: every bucket policy generate writes passes verify, alone and with
// the user policy; with --allow-list the only warning is the existence
// oracle. The user policy alone grants no read, destroy or escalate action
// either, but it carries none of the TLS, overwrite and encryption rules:
// those live in the bucket policy, so alone it warns.
func TestGeneratedPoliciesVerifyClean(t *testing.T) {
	for _, o := range genVerifyGrid() {
		name := fmt.Sprintf("prefix=%q list=%v kms=%v lock=%d fleet=%v", o.Prefix, o.AllowList, o.KMSKeyARN != "", o.ObjectLockDays, o.Fleet)
		t.Run(name, func(t *testing.T) {
			bucketDoc, err := GenerateBucketPolicy(o)
			if err != nil {
				t.Fatal(err)
			}
			userDoc, err := GenerateUserPolicy(o)
			if err != nil {
				t.Fatal(err)
			}
			bp := verParse(t, bucketDoc, iam.ResourceBased, "bucket")
			up := verParse(t, userDoc, iam.IdentityBased, "user-policy")
			for _, in := range genVerifyInputs(o, bp, up) {
				res, err := Verify(in)
				if err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("bucket policy %v, user policy %v", in.BucketPolicy != nil, in.IdentityPolicies != nil)
				if in.BucketPolicy == nil {
					verCheckNoViolation(t, what, res)
					continue
				}
				verCheckClean(t, what, res, o.AllowList)
				if o.Fleet && in.IdentityPolicies == nil {
					// The fleet's bucket policy names the account: it reaches
					// the users only through their user policy.
					continue
				}
				for _, f := range res.Findings {
					if f.Severity == SeverityInfo && !(f.Action == "kms:Decrypt" && o.KMSKeyARN != "") {
						t.Errorf("%s: %s", what, f.Reason)
					}
				}
			}
		})
	}
}

// TestGeneratedModelRoundTrip: the generator builds the evaluator's own
// model (iam.Policy), and what it writes is that model: the JSON parses
// back to the very same values, writes again byte for byte, and the
// verdicts on the document as built and as parsed from the JSON are the
// same, finding for finding.
func TestGeneratedModelRoundTrip(t *testing.T) {
	for _, o := range genVerifyGrid() {
		name := fmt.Sprintf("prefix=%q list=%v kms=%v lock=%d fleet=%v", o.Prefix, o.AllowList, o.KMSKeyARN != "", o.ObjectLockDays, o.Fleet)
		t.Run(name, func(t *testing.T) {
			docs := []*iam.Policy{o.bucketPolicy(), o.userPolicy()}
			seedable := !o.Fleet && !o.AllowList && o.KMSKeyARN == "" && o.ObjectLockDays == 0 // what --preset seed accepts
			if seedable {
				docs = append(docs, o.seedPolicy())
			}
			var built, parsed []*iam.Policy
			for _, p := range docs {
				doc, err := genJSON(p)
				if err != nil {
					t.Fatal(err)
				}
				q, err := iam.Parse(doc, p.Kind)
				if err != nil {
					t.Fatalf("generated document does not parse: %v\n%s", err, doc)
				}
				if !reflect.DeepEqual(p, q) {
					t.Errorf("parsed back, the generated document is another policy:\n%s", doc)
				}
				again, err := genJSON(q)
				if err != nil || !bytes.Equal(again, doc) {
					t.Errorf("written again, the parsed document differs (%v)", err)
				}
				p.Name, q.Name = "generated", "generated"
				built, parsed = append(built, p), append(parsed, q)
			}
			for i, in := range genVerifyInputs(o, built[0], built[1]) {
				want, err := Verify(in)
				if err != nil {
					t.Fatal(err)
				}
				in = genVerifyInputs(o, parsed[0], parsed[1])[i]
				got, err := Verify(in)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("input %d: verdict %s on the parsed documents, %s on the built ones:\n%+v\n%+v", i, got.Verdict, want.Verdict, got.Findings, want.Findings)
				}
			}
			if !seedable {
				return
			}
			seed := VerifyInput{BucketPolicy: built[2], Principal: o.Principal, Bucket: o.Bucket, Prefix: o.Prefix}
			want, err1 := Verify(seed)
			seed.BucketPolicy = parsed[2]
			got, err2 := Verify(seed)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("seed: verdict %v (%v) on the parsed document, %v (%v) on the built one", got, err2, want, err1)
			}
		})
	}
}

// genVerifyInputs are the three ways verify sees the generated documents:
// both, the bucket policy alone, the user policy alone; for a fleet, as
// one host of it, confined to its own prefix.
func genVerifyInputs(o GenerateOptions, bp, up *iam.Policy) []VerifyInput {
	principal, prefix := o.Principal, o.Prefix
	if o.Fleet {
		principal, prefix = "arn:aws:iam::111122223333:user/putonly/db7", o.Prefix+"db7/"
	}
	ins := []VerifyInput{
		{BucketPolicy: bp, IdentityPolicies: []*iam.Policy{up}},
		{BucketPolicy: bp},
		{IdentityPolicies: []*iam.Policy{up}},
	}
	for i := range ins {
		ins[i].Principal, ins[i].Bucket, ins[i].Prefix = principal, o.Bucket, prefix
		ins[i].KMSKey, ins[i].SNSTopics = o.KMSKeyARN, o.SNSTopics
	}
	return ins
}

// genVerifyGrid is every combination of the options that shape the
// policies: prefix, --allow-list, --kms-key, --object-lock, --fleet.
func genVerifyGrid() []GenerateOptions {
	const (
		user  = "arn:aws:iam::111122223333:user/putonly-db1"
		fleet = "arn:aws:iam::111122223333:user/putonly/*"
		kms   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	var opts []GenerateOptions
	for _, prefix := range []string{"", "db1/"} {
		for _, list := range []bool{false, true} {
			for _, key := range []string{"", kms} {
				for _, lock := range []int{0, 35} {
					for _, fl := range []bool{false, true} {
						o := GenerateOptions{Bucket: "acme-db-backups", Principal: user, Prefix: prefix,
							AllowList: list, KMSKeyARN: key, ObjectLockDays: lock, Fleet: fl}
						if fl {
							o.Principal = fleet
						}
						if prefix != "" {
							// The daemon's job events: sns:Publish on these
							// topics is the one SNS right that verifies clean.
							o.SNSTopics = []string{"arn:aws:sns:eu-west-1:111122223333:backups", "arn:aws:sns:eu-west-1:111122223333:pager"}
						}
						if lock > 0 {
							o.ObjectLockMode = "compliance"
						}
						opts = append(opts, o)
					}
				}
			}
		}
	}
	return opts
}

func verCheckNoViolation(t *testing.T, what string, res *VerifyResult) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Severity == SeverityViolation {
			t.Errorf("%s: violation: %s %s: %s", what, f.Action, f.Statement, f.Reason)
		}
	}
}

// verCheckClean fails on any violation, and on any warning but the
// existence oracle of an allowed ListBucket.
func verCheckClean(t *testing.T, what string, res *VerifyResult, allowList bool) {
	t.Helper()
	for _, f := range res.Findings {
		switch {
		case f.Severity == SeverityViolation:
			t.Errorf("%s: violation: %s %s: %s", what, f.Action, f.Statement, f.Reason)
		case f.Severity == SeverityWarning && allowList && f.Action == "s3:ListBucket" && strings.HasPrefix(f.Reason, "existence oracle"):
		case f.Severity == SeverityWarning:
			t.Errorf("%s: warning: %s %s: %s", what, f.Action, f.Statement, f.Reason)
		}
	}
}

// TestSeedPresetVerify: the seed post's two statements cannot read, delete
// or escalate, and warn about ListBucket. Having none of the hardening, it
// also gets the TLS, overwrite and encryption warnings.
func TestSeedPresetVerify(t *testing.T) {
	o := GenerateOptions{Bucket: "acme-db-backups", Principal: "arn:aws:iam::111122223333:user/putonly-db1", Prefix: "db1/"}
	doc, err := GenerateSeedPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(VerifyInput{BucketPolicy: verParse(t, doc, iam.ResourceBased, "bucket"), Principal: o.Principal, Bucket: o.Bucket, Prefix: o.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != VerdictWarn {
		t.Errorf("verdict %s, want %s", res.Verdict, VerdictWarn)
	}
	oracle := false
	for _, f := range res.Findings {
		switch {
		case f.Severity == SeverityViolation:
			t.Errorf("violation: %+v", f)
		case f.Action == "s3:ListBucket" && strings.HasPrefix(f.Reason, "existence oracle"):
			oracle = true
		case strings.HasPrefix(f.Reason, "TLS not required"), strings.HasPrefix(f.Reason, "overwrite not prevented"), strings.HasPrefix(f.Reason, "SSE not required"):
		default:
			t.Errorf("unexpected finding: %+v", f)
		}
	}
	if !oracle {
		t.Error("no existence-oracle warning for s3:ListBucket")
	}
}

func verParse(t *testing.T, doc []byte, kind iam.Kind, name string) *iam.Policy {
	t.Helper()
	p, err := iam.Parse(doc, kind)
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", name, err, doc)
	}
	p.Name = name
	return p
}
