package iam

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseEvaluate feeds arbitrary documents to the parser and every
// accepted one to the evaluator, as a bucket policy and as an identity
// policy. Beyond "no panic, no hang" it checks one soundness property:
// dropping the Deny statements never lowers the access; and that the one
// model round-trips: what MarshalJSON writes of an accepted document
// parses back to the same Policy.
func FuzzParseEvaluate(f *testing.F) {
	seeds := []string{
		doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")),
		doc(`{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::bk/web/*"}`),
		doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + user + `","111122223333"]},"Action":"s3:*","Resource":"arn:aws:s3:::bk/${aws:username}/*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username, 'x'}"}}}`),
		doc(`{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q","CanonicalUser":"abc"},"Action":"s3:Get?bject","Resource":"arn:aws:s3:::bk/db/?x*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"Null":{"s3:if-none-match":"false"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"NumericLessThan":{"s3:TlsVersion":1.2}}}`),
		`{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}`,
		`{"Policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::*\"}]}"}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:*:s3:::bk/${*}${?}${$}*"}]}`,
		`{"Statement":[{"Effect":"Allow","Effect":"Allow"}]}`,
		doc(`{"Effect":"Allow","Action":"i*:*","Resource":"*"}`, `{"Effect":"Deny","NotAction":["s3:*","sns:Publish"],"Resource":"*"}`),
		doc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`, `{"Effect":"Deny","Action":"iam:*","Resource":"*"}`),
		`[[[[`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	caller, err := ParseCaller(user)
	if err != nil {
		f.Fatal(err)
	}
	reqs := []Request{
		{Action: "s3:GetObject", Target: objects},
		{Action: "s3:PutObject", Target: objects, Context: Context{}.With("aws:SecureTransport", Present("false")).With("s3:if-none-match", Absent)},
		{Action: "s3:ListBucket", Target: bucket},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []Kind{ResourceBased, IdentityBased} {
			p, err := Parse(data, kind)
			if err != nil {
				continue
			}
			checkRoundTrip(t, p)
			p.Name = "fuzz"
			noDeny := *p
			noDeny.Statements = nil
			for _, s := range p.Statements {
				if s.Effect == Allow {
					noDeny.Statements = append(noDeny.Statements, s)
				}
			}
			for _, owner := range []string{acct, otherAcct} {
				e := &Evaluator{Caller: caller, ResourceAccount: owner}
				e2 := &Evaluator{Caller: caller, ResourceAccount: owner}
				if kind == ResourceBased {
					e.Resource, e2.Resource = p, &noDeny
				} else {
					e.Identity, e2.Identity = []*Policy{p}, []*Policy{&noDeny}
				}
				if kind == IdentityBased {
					// Beyond S3: a Deny never adds a finding.
					rights := []Right{{Action: "sns:Publish", Resources: []string{"arn:aws:sns:eu-west-1:111122223333:t"}}}
					named := []string{"iam:CreateAccessKey", "sts:AssumeRole", "sns:Publish"}
					beyond := e.BeyondS3(rights, named)
					if len(beyond) > 0 && len(e2.BeyondS3(rights, named)) == 0 {
						t.Fatalf("a Deny made an action beyond S3 appear")
					}
					// Soundness: any concrete action outside S3 that the
					// evaluator allows somewhere is reported.
					if len(beyond) == 0 {
						probes := []string{"iam:CreateAccessKey", "sts:AssumeRole", "foo:Bar", "s3express:CreateSession", "ec2:RunInstances", "SNS:Subscribe", "kms:Decrypt"}
						for _, st := range p.Statements {
							for _, a := range st.Actions {
								probes = append(probes, synthesize(a), strings.ReplaceAll(strings.ReplaceAll(a, "*", ""), "?", "q"))
							}
						}
						for _, a := range probes {
							if isS3Pattern(a) || strings.EqualFold(a, "sns:Publish") {
								continue
							}
							if d := e.Evaluate(Request{Action: a, Target: Target{ARN: "*", Wild: true}}); d.Access != Denied && e.Caller.Account == owner {
								t.Fatalf("%s is %v on * but BeyondS3 reported nothing", a, d.Access)
							}
						}
					}
				}
				for _, r := range reqs {
					with, without := e.Evaluate(r), e2.Evaluate(r)
					if with.Access > without.Access {
						t.Fatalf("%s: a Deny raised access from %v to %v", r.Action, without.Access, with.Access)
					}
				}
			}
		}
	})
}

// checkRoundTrip: MarshalJSON of a parsed policy parses back to it (its
// conditions in the sorted order MarshalJSON writes).
func checkRoundTrip(t *testing.T, p *Policy) {
	t.Helper()
	out, err := p.MarshalJSON()
	if err != nil {
		t.Fatalf("a parsed policy does not marshal: %v", err)
	}
	if len(out) > MaxDocumentBytes {
		return // escapes (U+2028 as \u2028) made it longer than Parse reads
	}
	q, err := Parse(out, p.Kind)
	if err != nil {
		t.Fatalf("marshalled policy does not parse: %v\n%s", err, out)
	}
	sorted := *p
	sorted.Statements = nil
	for _, s := range p.Statements {
		c := *s
		c.Conditions = slices.Clone(s.Conditions)
		SortConditions(c.Conditions)
		sorted.Statements = append(sorted.Statements, &c)
	}
	if !reflect.DeepEqual(&sorted, q) {
		t.Fatalf("round trip changed the policy:\n%s", out)
	}
}
