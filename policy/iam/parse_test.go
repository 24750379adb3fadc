package iam

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		doc  string
		n    int // statements
	}{
		{"2012 array", ResourceBased, doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), 1},
		{"2008", ResourceBased, `{"Version":"2008-10-17","Id":"x","Statement":[` + allowUser("s3:PutObject", "arn:aws:s3:::bk/*") + `]}`, 1},
		{"no version, single statement, no Sid", ResourceBased, `{"Statement":{"Effect":"Deny","Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/*"]}}`, 1},
		{"identity", IdentityBased, `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"*"},{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::x"}]}`, 2},
		{"condition scalars", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":1.2},"Null":{"s3:if-none-match":[true]}}}`), 1},
		{"wrapper", ResourceBased, `{"Policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetBucketLocation\",\"Resource\":\"arn:aws:s3:::bk\"}]}"}`, 1},
		{"all principal types", ResourceBased, doc(`{"Effect":"Deny","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root"],"Service":"s3.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:*","Resource":"*"}`), 1},
		{"set operators", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"ForAnyValue:StringNotEqualsIfExists":{"aws:TagKeys":"b"}}}`), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Statements) != tc.n {
				t.Errorf("%d statements, want %d", len(p.Statements), tc.n)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		doc  string
		want []string // substrings of the message: statement, field, reason
	}{
		{"duplicate Effect", ResourceBased, doc(`{"Sid":"Put","Effect":"Allow","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), []string{`statement 1 (Sid "Put")`, "Effect", "duplicate key"}},
		{"duplicate Action", ResourceBased, doc(allowUser("s3:PutObject", "*"), `{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Action":"s3:GetObject","Resource":"*"}`), []string{"statement 2", "Action", "duplicate key"}},
		{"duplicate condition key", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:UserName":"b"}}}`), []string{"statement 1", "Condition.StringEquals.aws:UserName", "duplicate key"}},
		{"duplicate condition operator", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"Bool":{"aws:SecureTransport":"true"}}}`), []string{"Condition.Bool", "duplicate key"}},
		{"duplicate principal type", ResourceBased, doc(`{"Effect":"Deny","Principal":{"AWS":"*","AWS":"123456789012"},"Action":"s3:*","Resource":"*"}`), []string{"Principal", "AWS: duplicate key"}},
		{"duplicate top-level", ResourceBased, `{"Version":"2012-10-17","Version":"2008-10-17","Statement":[]}`, []string{"Version", "duplicate key"}},
		{"unknown element", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*","Conditions":{}}`), []string{"statement 1", "Conditions", "unknown element"}},
		{"lower-case element", ResourceBased, doc(`{"effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), []string{"statement 1", "effect", `did you mean "Effect"`}},
		{"unknown top-level", ResourceBased, `{"Version":"2012-10-17","Statements":[]}`, []string{"Statements", "unknown element"}},
		{"bad version", ResourceBased, `{"Version":"2012-10-18","Statement":[]}`, []string{"Version"}},
		{"effect case", ResourceBased, doc(`{"Effect":"allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), []string{"Effect", `"Allow" or "Deny"`}},
		{"missing effect", ResourceBased, doc(`{"Principal":"*","Action":"s3:PutObject","Resource":"*"}`), []string{"statement 1", "Effect", "missing"}},
		{"missing resource", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject"}`), []string{"Resource", "missing"}},
		{"missing action", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Resource":"*"}`), []string{"Action", "missing"}},
		{"action and notaction", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","NotAction":"s3:GetObject","Resource":"*"}`), []string{"NotAction", "not both"}},
		{"missing principal", ResourceBased, doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}`), []string{"Principal", "missing"}},
		{"principal in identity policy", IdentityBased, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), []string{"Principal", "identity-based"}},
		{"NotPrincipal with Allow", ResourceBased, doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:PutObject","Resource":"*"}`), []string{"NotPrincipal", "Deny"}},
		{"principal wildcard in ARN", ResourceBased, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"s3:PutObject","Resource":"*"}`), []string{"Principal", "wildcard"}},
		{"principal string", ResourceBased, doc(`{"Effect":"Allow","Principal":"123456789012","Action":"s3:PutObject","Resource":"*"}`), []string{"Principal"}},
		{"unknown operator", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringSortOf":{"aws:username":"a"}}}`), []string{"Condition.StringSortOf", "unknown condition operator"}},
		{"Null value", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Null":{"s3:if-none-match":"yes"}}}`), []string{"Condition.Null.s3:if-none-match"}},
		{"null value", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}`), []string{"Condition.StringEquals.aws:username"}},
		{"empty action list", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}`), []string{"Action", "empty"}},
		{"action not a string", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}`), []string{"Action", "item 1"}},
		{"action without service", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"*"}`), []string{"Action", "not an action"}},
		{"resource not an ARN", ResourceBased, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"bk/*"}`), []string{"Resource", "not an ARN"}},
		{"empty statement list", ResourceBased, `{"Version":"2012-10-17","Statement":[]}`, []string{"Statement", "empty"}},
		{"statement not object", ResourceBased, `{"Version":"2012-10-17","Statement":["x"]}`, []string{"statement 1", "must be an object"}},
		{"trailing data", ResourceBased, doc(allowUser("s3:PutObject", "*")) + `{}`, []string{"after the policy"}},
		{"not JSON", ResourceBased, `{"Version":`, []string{"invalid JSON"}},
		{"array document", ResourceBased, `[]`, []string{"JSON object"}},
		{"wrapper not string", ResourceBased, `{"Policy":{"Statement":[]}}`, []string{"Policy", "JSON string"}},
		{"wrapper bad inner", ResourceBased, `{"Policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Effect\":\"Allow\"}]}"}`, []string{"statement 1", "Effect", "duplicate key"}},
		{"huge document", ResourceBased, `{"Version":"2012-10-17","Id":"` + strings.Repeat("x", MaxDocumentBytes) + `","Statement":[]}`, []string{"larger than any policy"}},
		{"huge resource", ResourceBased, doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/"+strings.Repeat("x", 5000))), []string{"statement 1", "Resource", "longer than"}},
		{"huge condition value", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"s3:prefix":"` + strings.Repeat("x", 5000) + `"}}}`), []string{"Condition.StringLike.s3:prefix"}},
		{"deep nesting", ResourceBased, strings.Repeat("[", 100) + strings.Repeat("]", 100), []string{"nested deeper"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.kind)
			if err == nil {
				t.Fatal("no error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	for _, tc := range []struct {
		a, b            string
		overlap, covers bool
	}{
		{"*", "arn:aws:s3:::bk/db/*", true, true},
		{"arn:aws:s3:::*", "arn:aws:s3:::bk/db/*", true, true},
		{"arn:aws:s3:::bk/*", "arn:aws:s3:::bk/db/*", true, true},
		{"arn:aws:s3:::bk/db/?x*", "arn:aws:s3:::bk/db/*", true, false},
		{"arn:aws:s3:::bk/db/*", "arn:aws:s3:::bk/d*", true, false},
		{"arn:aws:s3:::bk/web/*", "arn:aws:s3:::bk/db/*", false, false},
		{"arn:aws:s3:::bk/db/a?c", "arn:aws:s3:::bk/db/abc", true, true},
		{"arn:aws:s3:::bk/*b", "arn:aws:s3:::bk/a*", true, false},
		{"a*b*c", "a?*?c", true, false},
		{"arn:*", "arn:aws:s3:::bk/db/*", true, false}, // five components missing: not claimed
	} {
		a, b := compile(tc.a, false, nil), compile(tc.b, false, nil)
		if got := overlaps(a, b, false); got != tc.overlap {
			t.Errorf("overlaps(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := overlaps(b, a, false); got != tc.overlap {
			t.Errorf("overlaps(%q, %q) = %v (reversed)", tc.b, tc.a, got)
		}
		if got := arnCovers(a, b); got != tc.covers {
			t.Errorf("arnCovers(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestGlobMatchAgreesWithOverlap(t *testing.T) {
	pats := []string{"*", "s3:*", "s3:Get*", "s3:*Object", "s3:GetObjec?", "S3:GETOBJECT", "s3:*Obj*t*", "?", "", "**", "s3:G?t*V*n", "é?", "*é"}
	strs := []string{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "", "a", "s3:", "éx", "xé", "é"}
	for _, p := range pats {
		for _, s := range strs {
			for _, fold := range []bool{false, true} {
				want := compile(p, false, nil).matchString(s, fold)
				if got := globMatch(p, s, fold); got != want {
					t.Errorf("globMatch(%q, %q, %v) = %v, overlap says %v", p, s, fold, got, want)
				}
			}
		}
	}
}
