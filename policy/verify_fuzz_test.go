package policy

import (
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// FuzzVerify runs Verify on arbitrary bucket policies: no panic, no hang,
// and a verdict consistent with the findings.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		verHardenedWith(),
		verHardenedWith(verDenyAllBut),
		verDoc(`{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::bk/web/*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}}`),
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}}`,
		verDoc(`{"Effect":"Allow","Action":"i*:*","Resource":"*"}`, `{"Effect":"Deny","NotAction":["s3:*","sns:Publish"],"Resource":"*"}`),
		verDoc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := VerifyInput{Principal: verUser, Bucket: "bk", Prefix: "db/", SNSTopics: []string{"arn:aws:sns:eu-west-1:111122223333:t"}}
		if p, err := iam.Parse(data, iam.ResourceBased); err == nil {
			p.Name = "bucket"
			in.BucketPolicy = p
		} else if p, err := iam.Parse(data, iam.IdentityBased); err == nil {
			// As an identity policy the document reaches every service.
			p.Name = "user"
			in.IdentityPolicies = []*iam.Policy{p}
		} else {
			return
		}
		res, err := Verify(in)
		if err != nil {
			t.Fatal(err)
		}
		violations := 0
		for _, f := range res.Findings {
			if f.Severity == SeverityViolation {
				violations++
			}
		}
		if (violations > 0) != (res.Verdict == VerdictFail) {
			t.Fatalf("verdict %s with %d violations", res.Verdict, violations)
		}
	})
}
