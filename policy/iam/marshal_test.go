package iam

import (
	"reflect"
	"strings"
	"testing"
)

// TestMarshalParseRoundTrip: every form Parse tolerates (a string or a
// list for Action, Resource, Principal values and condition values;
// NotAction, NotResource, NotPrincipal; "*" as the principal; numbers and
// booleans as condition values; both Versions; Id) comes back from
// MarshalJSON as a document that parses to the same Policy, and a
// document already in MarshalJSON's form comes back byte for byte.
func TestMarshalParseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		doc  string
	}{
		{"string forms", ResourceBased, doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"))},
		{"lists", ResourceBased, doc(`{"Sid":"L","Effect":"Allow","Principal":{"AWS":["` + user + `","111122223333"],"Service":"s3.amazonaws.com"},"Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/*"]}`)},
		{"not elements", ResourceBased, doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + user + `"},"NotAction":"s3:Put*","NotResource":["arn:aws:s3:::bk/db/*"]}`)},
		{"anyone", ResourceBased, doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":1.2}}}`)},
		{"condition lists", IdentityBased, doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","b"]},"StringEquals":{"aws:username":"x","s3:prefix":["db/","wal/"]}}}`)},
		{"2008 without Version, with Id", IdentityBased, `{"Id":"legacy","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		{"html characters", IdentityBased, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/<a>&b"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(out, tc.kind)
			if err != nil {
				t.Fatalf("marshalled document does not parse: %v\n%s", err, out)
			}
			for _, s := range p.Statements {
				SortConditions(s.Conditions)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip changed the policy:\n%s\n%s", tc.doc, out)
			}
			again, err := q.MarshalJSON()
			if err != nil || string(again) != string(out) {
				t.Errorf("MarshalJSON of its own output differs (%v):\n%s\n%s", err, out, again)
			}
			if strings.Contains(string(out), `\u00`) {
				t.Errorf("HTML-escaped: %s", out)
			}
		})
	}
}

// TestMarshalForm pins the written form: element order, one value bare,
// a list as an array, Condition operators and keys sorted.
func TestMarshalForm(t *testing.T) {
	c1, _ := NewCondition("StringNotEquals", "s3:if-none-match", "*")
	c2, _ := NewCondition("Bool", "s3:ObjectCreationOperation", "true")
	cs := []Condition{c1, c2}
	SortConditions(cs)
	p := Policy{Version: Version2012, Statements: []*Statement{
		{Sid: "DenyOverwrite", Effect: Deny, Principal: &Principal{Values: map[string][]string{"AWS": {user}}},
			Actions: []string{"s3:PutObject"}, Resources: []string{"arn:aws:s3:::bk/*"}, Conditions: cs},
		{Effect: Allow, Principal: &Principal{Any: true}, NotAction: true, Actions: []string{"s3:Get*", "s3:List*"}, Resources: []string{"*"}},
	}}
	out, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"DenyOverwrite","Effect":"Deny","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*",` +
		`"Condition":{"Bool":{"s3:ObjectCreationOperation":"true"},"StringNotEquals":{"s3:if-none-match":"*"}}},` +
		`{"Effect":"Allow","Principal":"*","NotAction":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	if string(out) != want {
		t.Errorf("MarshalJSON:\n got %s\nwant %s", out, want)
	}
}

// TestMarshalRefuses: what Parse would reject is not written either.
func TestMarshalRefuses(t *testing.T) {
	c, _ := NewCondition("StringEquals", "aws:username", "a")
	for name, s := range map[string]*Statement{
		"no effect":         {Actions: []string{"s3:GetObject"}, Resources: []string{"*"}},
		"no action":         {Effect: Allow, Resources: []string{"*"}},
		"no resource":       {Effect: Allow, Actions: []string{"s3:GetObject"}},
		"a condition twice": {Effect: Allow, Actions: []string{"s3:GetObject"}, Resources: []string{"*"}, Conditions: []Condition{c, c}},
	} {
		if out, err := (Policy{Version: Version2012, Statements: []*Statement{s}}).MarshalJSON(); err == nil {
			t.Errorf("%s: marshalled %s", name, out)
		}
	}
	for _, tc := range [][]string{{"StringEqualz", "k", "v"}, {"Null", "k", "maybe"}, {"StringEquals", "", "v"}, {"StringEquals", "k"}, {"ForAnyValue:Null", "k", "true"}} {
		if _, err := NewCondition(tc[0], tc[1], tc[2:]...); err == nil {
			t.Errorf("NewCondition%q: no error", tc)
		}
	}
}
