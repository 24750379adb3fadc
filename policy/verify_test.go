package policy

import (
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

const (
	verUser  = "arn:aws:iam::111122223333:user/backup"
	verOther = "999988887777"
)

func verDoc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// Statements of a well-hardened bucket policy for bucket bk, prefix db/.
var (
	verLocate   = `{"Sid":"Locate","Effect":"Allow","Principal":{"AWS":"` + verUser + `"},"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::bk"}`
	verWrite    = `{"Sid":"Write","Effect":"Allow","Principal":{"AWS":"` + verUser + `"},"Action":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"arn:aws:s3:::bk/db/*"}`
	verNoHTTP   = `{"Sid":"NoHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	verNoRepl   = `{"Sid":"NoOverwrite","Effect":"Deny","Principal":{"AWS":"` + verUser + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"s3:ObjectCreationOperation":"true"},"StringNotEquals":{"s3:if-none-match":"*"}}}`
	verSSE      = `{"Sid":"OnlyAES","Effect":"Deny","Principal":{"AWS":"` + verUser + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"false"},"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`
	verHardened = []string{verLocate, verWrite, verNoHTTP, verNoRepl, verSSE}
	// verDenyAllBut denies the user everything putonly does not use.
	verDenyAllBut = `{"Sid":"OnlyWrite","Effect":"Deny","Principal":{"AWS":"` + verUser + `"},"NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":"*"}`
)

func verHardenedWith(extra ...string) string {
	return verDoc(append(append([]string{}, verHardened...), extra...)...)
}

func verAllow(principal, action, resource string) string {
	return `{"Effect":"Allow","Principal":` + principal + `,"Action":` + action + `,"Resource":"` + resource + `"}`
}

func verIdentity(action, resource string) string {
	return verDoc(`{"Effect":"Allow","Action":` + action + `,"Resource":"` + resource + `"}`)
}

type verCase struct {
	name     string
	bucket   string
	identity []string
	owner    string
	prefix   *string
	verdict  string
	has      []string // "severity action effect", "severity action" or a reason substring after "~"
	hasNot   []string // "action" with any severity
}

func TestVerifyVerdicts(t *testing.T) {
	user := `{"AWS":"` + verUser + `"}`
	seed := verDoc(
		`{"Effect":"Allow","Principal":`+user+`,"Action":["s3:GetBucketLocation","s3:ListBucket"],"Resource":"arn:aws:s3:::bk"}`,
		`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*"}`,
	)
	backupPrefix := "backup/"
	cases := []verCase{
		{name: "hardened", bucket: verHardenedWith(), verdict: VerdictPass},
		{name: "seed", bucket: seed, verdict: VerdictWarn,
			has: []string{"warning s3:ListBucket allow", "~existence oracle", "~TLS not required", "~overwrite not prevented", "~SSE not required"}},
		{name: "Get* allowed", bucket: verHardenedWith(verAllow(user, `"s3:Get*"`, "arn:aws:s3:::bk/*")), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow", "violation s3:GetObjectVersion allow"}},
		{name: "*Object allowed", bucket: verHardenedWith(verAllow(user, `"s3:*Object"`, "arn:aws:s3:::bk/*")), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow", "violation s3:DeleteObject allow"}, hasNot: []string{"s3:GetObjectVersion"}},
		{name: "NotAction allow", bucket: verHardenedWith(`{"Effect":"Allow","Principal":` + user + `,"NotAction":["s3:DeleteObject","s3:DeleteBucket"],"Resource":"arn:aws:s3:::bk/*"}`), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow"}, hasNot: []string{"s3:DeleteObject"}},
		{name: "read allowed to *", bucket: verHardenedWith(verAllow(`"*"`, `"s3:GetObject"`, "arn:aws:s3:::bk/*")), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow", "~to anyone"}},
		{name: "deny only covers HTTP", bucket: verDoc(verLocate, verWrite, verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/*"), verNoHTTP), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow", "~NoHTTP denies only some requests"}},
		{name: "identity s3:* same account", bucket: verHardenedWith(), identity: []string{verIdentity(`"s3:*"`, "arn:aws:s3:::bk/*")}, verdict: VerdictFail,
			has: []string{"violation s3:DeleteObject allow", "violation s3:GetObject allow"}, hasNot: []string{"s3:DeleteBucket"}},
		{name: "identity * on *", bucket: verHardenedWith(), identity: []string{verIdentity(`"*"`, "*")}, verdict: VerdictFail,
			has: []string{"violation s3:DeleteBucket allow", "violation s3:PutBucketPolicy allow", "violation s3:CreateJob allow", "warning s3:ListAllMyBuckets allow"}},
		{name: "explicit deny beats identity s3:*", bucket: verHardenedWith(verDenyAllBut), identity: []string{verIdentity(`"s3:*"`, "*")}, verdict: VerdictPass},
		{name: "deny to another user protects nothing", bucket: verHardenedWith(strings.Replace(verDenyAllBut, verUser, "arn:aws:iam::111122223333:user/admin", 1)), identity: []string{verIdentity(`"s3:*"`, "*")}, verdict: VerdictFail},
		// Listing the account root beside admin exempts admin only (AWS's
		// NotPrincipal example): the backup user stays denied.
		{name: "NotPrincipal deny of everyone but admin", bucket: verHardenedWith(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/admin","arn:aws:iam::111122223333:root"]},"NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":"*"}`), identity: []string{verIdentity(`"s3:*"`, "arn:aws:s3:::bk*")}, verdict: VerdictPass},
		{name: "NotPrincipal deny exempting the backup user", bucket: verHardenedWith(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + verUser + `","arn:aws:iam::111122223333:root"]},"NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":"*"}`), identity: []string{verIdentity(`"s3:*"`, "*")}, verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow"}},
		{name: "NotResource allow", bucket: verHardenedWith(`{"Effect":"Allow","Principal":` + user + `,"Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/web/*"}`), verdict: VerdictFail,
			has: []string{"violation s3:GetObject allow"}},
		{name: "NotResource excluding the backups", bucket: verHardenedWith(`{"Effect":"Allow","Principal":` + user + `,"Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/*"}`), verdict: VerdictPass},
		{name: "conditional read", bucket: verHardenedWith(`{"Effect":"Allow","Principal":` + user + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), verdict: VerdictFail,
			has: []string{"violation s3:GetObject conditional"}},
		{name: "read for another user only", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/restore"}}}`), verdict: VerdictPass},
		{name: "read outside the prefix", bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/web/*")), verdict: VerdictPass},
		{name: "whole bucket prefix", prefix: new(string), bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/web/*")), verdict: VerdictFail},
		{name: "wildcard inside the prefix", bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/db/?x*")), verdict: VerdictFail},
		{name: "all buckets", bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::*")), verdict: VerdictFail},
		{name: "bucket ARN is not objects", bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk")), verdict: VerdictPass},
		{name: "bucket-level destroy", bucket: verHardenedWith(verAllow(user, `"s3:Put*"`, "arn:aws:s3:::bk")), verdict: VerdictFail,
			has: []string{"violation s3:PutBucketPolicy allow", "violation s3:PutLifecycleConfiguration allow"}},
		{name: "account root, no identity", bucket: verHardenedWith(verAllow(`{"AWS":"arn:aws:iam::111122223333:root"}`, `"s3:GetObject"`, "arn:aws:s3:::bk/*")), verdict: VerdictPass},
		{name: "account id and identity", bucket: verHardenedWith(verAllow(`{"AWS":"111122223333"}`, `"s3:GetObject"`, "arn:aws:s3:::bk/*")), identity: []string{verIdentity(`"s3:GetObject"`, "*")}, verdict: VerdictFail},
		{name: "cross-account, identity lacks the read", owner: verOther, bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/*")),
			identity: []string{verIdentity(`["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"]`, "*")}, verdict: VerdictPass},
		{name: "cross-account, both allow", owner: verOther, bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/*")),
			identity: []string{verIdentity(`"s3:*"`, "*")}, verdict: VerdictFail, has: []string{"violation s3:GetObject allow"}, hasNot: []string{"s3:DeleteObject"}},
		{name: "cross-account, no identity: cannot even upload", owner: verOther, bucket: verHardenedWith(), verdict: VerdictPass,
			has: []string{"info s3:PutObject deny", "~putonly cannot upload"}},
		{name: "cross-account, public read", owner: verOther, bucket: verHardenedWith(verAllow(`"*"`, `"s3:GetObject"`, "arn:aws:s3:::bk/db/*")), verdict: VerdictFail},
		{name: "more than needed", bucket: verHardenedWith(verAllow(user, `"s3:GetBucketCORS"`, "arn:aws:s3:::bk")), verdict: VerdictWarn,
			has: []string{"warning s3:GetBucketCORS allow", "~more than putonly needs"}},
		{name: "list versions", bucket: verHardenedWith(verAllow(user, `"s3:ListBucketVersions"`, "arn:aws:s3:::bk")), verdict: VerdictWarn,
			has: []string{"warning s3:ListBucketVersions allow", "~existence oracle"}},
		{name: "TLS deny only on objects", bucket: verDoc(verLocate, verWrite, verNoRepl, verSSE, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), verdict: VerdictWarn,
			has: []string{"warning s3:GetBucketLocation allow", "~TLS not required"}, hasNot: []string{"s3:PutObject"}},
		{name: "overwrite: AWS example, Allow side", bucket: verDoc(verLocate, verNoHTTP, verSSE,
			`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"false"}}}`,
			`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"s3:ObjectCreationOperation":"false"}}}`), verdict: VerdictPass},
		{name: "overwrite: Deny on Null", bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE,
			`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"true"},"Bool":{"s3:ObjectCreationOperation":"true"}}}`), verdict: VerdictPass},
		{name: "overwrite: deny with IfExists on an unknown key protects nothing", bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE,
			`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringNotEqualsIfExists":{"s3:x-amz-acl":"private"}}}`), verdict: VerdictWarn,
			has: []string{"~overwrite not prevented"}},
		{name: "SSE: classic Null deny", bucket: verDoc(verLocate, verWrite, verNoHTTP, verNoRepl,
			`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`), verdict: VerdictPass},
		{name: "SSE: Allow requires AES256", bucket: verDoc(verLocate, verNoHTTP, verNoRepl,
			`{"Effect":"Allow","Principal":`+user+`,"Action":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`), verdict: VerdictPass},
		{name: "SSE: no rule", bucket: verDoc(verLocate, verWrite, verNoHTTP, verNoRepl), verdict: VerdictWarn, has: []string{"~SSE not required"}},
		{name: "SSE: only one algorithm denied", bucket: verDoc(verLocate, verWrite, verNoHTTP, verNoRepl,
			`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"aws:kms:dsse"}}}`), verdict: VerdictWarn,
			has: []string{"~with any of AES256, aws:kms;"}},
		{name: "SSE: KMS pinned", bucket: verDoc(verLocate, verWrite, verNoHTTP, verNoRepl,
			`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"false"},"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}`), verdict: VerdictPass},
		{name: "2012 variable", prefix: &backupPrefix, bucket: verHardenedWith(verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/${aws:username}/*")), verdict: VerdictFail},
		{name: "2008 variable is literal", prefix: &backupPrefix, bucket: `{"Version":"2008-10-17","Statement":[` + strings.Join(append(append([]string{}, verHardened...), verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/${aws:username}/*")), ",") + `]}`, verdict: VerdictPass,
			has: []string{"info s3:PutObject"}, hasNot: []string{"s3:GetObject"}},
		{name: "escalate via identity access point policy", bucket: verHardenedWith(), identity: []string{verIdentity(`"s3:PutAccessPointPolicy"`, "arn:aws:s3:eu-west-1:111122223333:accesspoint/*")}, verdict: VerdictFail,
			has: []string{"violation s3:PutAccessPointPolicy allow"}},
		{name: "unique-id principal is conditional", bucket: verHardenedWith(verAllow(`{"AWS":"AIDAJQABLZS4A3QDU576Q"}`, `"s3:GetObject"`, "arn:aws:s3:::bk/*")), verdict: VerdictFail,
			has: []string{"violation s3:GetObject conditional"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := verRun(t, tc)
			if res.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", res.Verdict, tc.verdict)
			}
			lines := verLines(res)
			for _, h := range tc.has {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(h, "~") && strings.Contains(l, h[1:]) || strings.HasPrefix(l, h+" ") {
						found = true
					}
				}
				if !found {
					t.Errorf("no finding %q", h)
				}
			}
			for _, h := range tc.hasNot {
				for _, f := range res.Findings {
					if f.Action == h && f.Severity != SeverityInfo && !strings.Contains(f.Reason, "not required") && !strings.Contains(f.Reason, "not prevented") {
						t.Errorf("unexpected finding %v", f)
					}
				}
			}
			if t.Failed() {
				t.Logf("findings:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

func verRun(t *testing.T, tc verCase) *VerifyResult {
	t.Helper()
	bp, err := iam.Parse([]byte(tc.bucket), iam.ResourceBased)
	if err != nil {
		t.Fatalf("bucket policy: %v", err)
	}
	bp.Name = "bucket"
	in := VerifyInput{BucketPolicy: bp, Principal: verUser, Bucket: "bk", Prefix: "db/", BucketAccount: tc.owner}
	if tc.prefix != nil {
		in.Prefix = *tc.prefix
	}
	for i, s := range tc.identity {
		p, err := iam.Parse([]byte(s), iam.IdentityBased)
		if err != nil {
			t.Fatalf("identity policy %d: %v", i, err)
		}
		p.Name = "identity"
		in.IdentityPolicies = append(in.IdentityPolicies, p)
	}
	res, err := Verify(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func verLines(res *VerifyResult) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Severity+" "+f.Action+" "+f.Effect+" "+f.Statement+" "+f.Reason)
	}
	return out
}

func TestVerifyArguments(t *testing.T) {
	for _, in := range []VerifyInput{
		{Principal: "arn:aws:iam::111122223333:group/ops", Bucket: "bk"},
		{Principal: "111122223333", Bucket: "bk"},
		{Principal: verUser},
		{Principal: verUser, Bucket: "arn:aws:s3:::bk"},
		{Principal: "arn:aws:iam::111122223333:root", Bucket: "bk"},
	} {
		if _, err := Verify(in); err == nil {
			t.Errorf("Verify(%+v) = nil error", in)
		}
	}
}

func TestVerifyExit(t *testing.T) {
	for _, tc := range []struct {
		verdict string
		strict  bool
		want    int
	}{
		{VerdictPass, false, 0}, {VerdictPass, true, 0},
		{VerdictWarn, false, 0}, {VerdictWarn, true, 1},
		{VerdictFail, false, 1}, {VerdictFail, true, 1},
	} {
		r := &VerifyResult{Verdict: tc.verdict}
		if got := r.Exit(tc.strict); got != tc.want {
			t.Errorf("%s strict=%v: exit %d, want %d", tc.verdict, tc.strict, got, tc.want)
		}
	}
}
