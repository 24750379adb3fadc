package policy

import (
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// FuzzVerify runs Verify on arbitrary documents, as the bucket policy or,
// when they parse only as one, as the key's identity policy (so the checks
// beyond S3 are fuzzed too), and checks what IAM semantics promise whatever
// the document: an explicit Deny only takes access away, and an Allow only
// adds it. So appending a Deny of s3:GetObject leaves no GetObject
// violation and no violation that was not there before; appending an Allow
// of s3:GetObject on the backups to the key removes none, and, in a document
// without a Deny, makes s3:GetObject a violation.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		verHardenedWith(),
		verHardenedWith(verDenyAllBut),
		verDoc(`{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::bk/web/*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}}`),
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}}`,
		verDoc(`{"Effect":"Allow","Action":"i*:*","Resource":"*"}`, `{"Effect":"Deny","NotAction":["s3:*","sns:Publish"],"Resource":"*"}`),
		verDoc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
		verDoc(verWrite),
	} {
		f.Add([]byte(s))
	}
	bucketDeny := statement(f, iam.ResourceBased, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}`)
	bucketAllow := statement(f, iam.ResourceBased, `{"Effect":"Allow","Principal":{"AWS":"`+verUser+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/db/*"}`)
	userDeny := statement(f, iam.IdentityBased, `{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`)
	userAllow := statement(f, iam.IdentityBased, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/db/*"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		base := VerifyInput{Principal: verUser, Bucket: "bk", Prefix: "db/", SNSTopics: []string{"arn:aws:sns:eu-west-1:111122223333:t"}}
		var p *iam.Policy
		var deny, allow *iam.Statement
		var in func(*iam.Policy) VerifyInput
		if bp, err := iam.Parse(data, iam.ResourceBased); err == nil {
			bp.Name = "bucket"
			p, deny, allow = bp, bucketDeny, bucketAllow
			in = func(p *iam.Policy) VerifyInput { i := base; i.BucketPolicy = p; return i }
		} else if up, err := iam.Parse(data, iam.IdentityBased); err == nil {
			// As an identity policy the document reaches every service.
			up.Name = "user"
			p, deny, allow = up, userDeny, userAllow
			in = func(p *iam.Policy) VerifyInput { i := base; i.IdentityPolicies = []*iam.Policy{p}; return i }
		} else {
			return
		}
		hasDeny := false
		for _, s := range p.Statements {
			hasDeny = hasDeny || s.Effect == iam.Deny
		}
		before := violations(t, in(p))

		denied := violations(t, in(with(p, deny)))
		if denied["s3:GetObject"] {
			t.Errorf("s3:GetObject is still a violation after a Deny of s3:GetObject on *")
		}
		for a := range denied {
			if !before[a] {
				t.Errorf("a Deny added the violation %s", a)
			}
		}

		allowed := violations(t, in(with(p, allow)))
		for a := range before {
			if !allowed[a] {
				t.Errorf("an Allow removed the violation %s", a)
			}
		}
		if !hasDeny && !allowed["s3:GetObject"] {
			t.Errorf("an Allow of s3:GetObject on the backups, no Deny anywhere, and no s3:GetObject violation")
		}
	})
}

// statement parses one statement of a policy of kind k.
func statement(tb testing.TB, k iam.Kind, js string) *iam.Statement {
	tb.Helper()
	p, err := iam.Parse([]byte(verDoc(js)), k)
	if err != nil {
		tb.Fatal(err)
	}
	return p.Statements[0]
}

// with is p with s appended; p is unchanged.
func with(p *iam.Policy, s *iam.Statement) *iam.Policy {
	c := *p
	st := *s
	st.Index = len(p.Statements) + 1
	c.Statements = append(append([]*iam.Statement{}, p.Statements...), &st)
	return &c
}

// violations verifies in and returns the actions of its violations; the
// verdict must say fail exactly when there is one.
func violations(t *testing.T, in VerifyInput) map[string]bool {
	t.Helper()
	res, err := Verify(in)
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]bool{}
	for _, f := range res.Findings {
		if f.Severity == SeverityViolation {
			v[f.Action] = true
		}
	}
	if (len(v) > 0) != (res.Verdict == VerdictFail) {
		t.Fatalf("verdict %s with %d violations", res.Verdict, len(v))
	}
	return v
}
