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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := iam.Parse(data, iam.ResourceBased)
		if err != nil {
			return
		}
		p.Name = "bucket"
		res, err := Verify(VerifyInput{BucketPolicy: p, Principal: verUser, Bucket: "bk", Prefix: "db/"})
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
