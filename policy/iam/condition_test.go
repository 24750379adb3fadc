package iam

import "testing"

// TestConditionOperators checks each operator on a known key, present or
// absent, and that an unknown key is always Maybe.
func TestConditionOperators(t *testing.T) {
	ctx := Context{}.
		With("k", Present("Backup")).
		With("n", Present("1.1")).
		With("ip", Present("10.1.2.3")).
		With("arn", Present("arn:aws:iam::111122223333:user/ops/backup")).
		With("tags", Present("env", "team")).
		With("gone", Absent)
	for _, tc := range []struct {
		op, key string
		vals    []string
		want    Truth
	}{
		{"StringEquals", "k", []string{"Backup"}, True},
		{"StringEquals", "k", []string{"backup"}, False},
		{"StringEquals", "k", []string{"x", "Backup"}, True}, // values are ORed
		{"StringNotEquals", "k", []string{"x", "Backup"}, False},
		{"StringNotEquals", "k", []string{"x", "y"}, True}, // NOR
		{"StringEqualsIgnoreCase", "k", []string{"BACKUP"}, True},
		{"StringNotEqualsIgnoreCase", "k", []string{"BACKUP"}, False},
		{"StringLike", "k", []string{"B*p"}, True},
		{"StringLike", "k", []string{"b*"}, False},
		{"StringNotLike", "k", []string{"?ackup"}, False},
		{"StringEquals", "k", []string{"*"}, False}, // no wildcards in StringEquals
		{"NumericLessThan", "n", []string{"1.2"}, True},
		{"NumericGreaterThanEquals", "n", []string{"1.2"}, False},
		{"NumericEquals", "n", []string{"1.10"}, True},
		{"NumericNotEquals", "n", []string{"1.1"}, False},
		{"NumericLessThan", "n", []string{"abc"}, Maybe},
		{"IpAddress", "ip", []string{"10.0.0.0/8"}, True},
		{"IpAddress", "ip", []string{"192.168.0.0/16"}, False},
		{"NotIpAddress", "ip", []string{"10.0.0.0/8"}, False},
		{"ArnLike", "arn", []string{"arn:aws:iam::111122223333:user/*"}, True},
		{"ArnLike", "arn", []string{"arn:aws:iam::*:user/ops/*"}, True},
		{"ArnEquals", "arn", []string{"arn:aws:iam::111122223333:user/ops/backup"}, True},
		{"ArnNotLike", "arn", []string{"arn:aws:iam::111122223333:role/*"}, True},
		{"ArnLike", "arn", []string{"arn:aws:iam::*"}, Maybe}, // not six components
		{"DateLessThan", "k", []string{"2030-01-01T00:00:00Z"}, Maybe},
		{"Bool", "k", []string{"true"}, False},
		{"BinaryEquals", "k", []string{"Backup"}, True},
		{"ForAllValues:StringEquals", "tags", []string{"env", "team", "x"}, True},
		{"ForAllValues:StringEquals", "tags", []string{"env"}, False},
		{"ForAnyValue:StringEquals", "tags", []string{"team"}, True},
		{"ForAnyValue:StringEquals", "tags", []string{"x"}, False},
		{"StringEquals", "tags", []string{"env"}, Maybe}, // single-valued operator, multivalued key
		{"StringEqualsIfExists", "k", []string{"x"}, False},
		// Absent keys.
		{"StringEquals", "gone", []string{"x"}, False},
		{"StringNotEquals", "gone", []string{"x"}, True},
		{"StringNotLike", "gone", []string{"*"}, True},
		{"ArnNotEquals", "gone", []string{"arn:aws:iam::1:root"}, True},
		{"NotIpAddress", "gone", []string{"10.0.0.0/8"}, True},
		{"StringEqualsIfExists", "gone", []string{"x"}, True},
		{"NumericLessThanIfExists", "gone", []string{"1"}, True},
		{"ForAllValues:StringEquals", "gone", []string{"x"}, True},
		{"ForAnyValue:StringEquals", "gone", []string{"x"}, False},
		{"ForAnyValue:StringNotEquals", "gone", []string{"x"}, False},
		{"Null", "gone", []string{"true"}, True},
		{"Null", "gone", []string{"false"}, False},
		{"Null", "k", []string{"true"}, False},
		{"Null", "k", []string{"false"}, True},
		// Unknown keys: the caller may choose them.
		{"StringEquals", "aws:SourceVpce", []string{"vpce-1"}, Maybe},
		{"StringNotEquals", "aws:SourceVpce", []string{"vpce-1"}, Maybe},
		{"Null", "s3:x-amz-acl", []string{"true"}, Maybe},
		{"ForAllValues:StringLike", "aws:TagKeys", []string{"*"}, Maybe},
		// Key names are case-insensitive.
		{"StringEquals", "K", []string{"Backup"}, True},
	} {
		base, set, ifExists, err := parseOperator(tc.op)
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		c := Condition{Operator: tc.op, Key: tc.key, Values: tc.vals, base: base, set: set, ifExists: ifExists}
		if got := evalCondition(&c, true, &ctx); got != tc.want {
			t.Errorf("%s %s %v = %v, want %v", tc.op, tc.key, tc.vals, got, tc.want)
		}
	}
}

func TestPolicyVariables(t *testing.T) {
	ctx := Context{}.With("aws:username", Present("backup")).With("aws:userid", Absent)
	for _, tc := range []struct {
		in   string
		vars bool
		want string // pattern text, "<var>" for an unresolved variable
	}{
		{"bk/${aws:username}/*", true, "bk/backup/*"},
		{"bk/${aws:username}/*", false, "bk/${aws:username}/*"},
		{"bk/${AWS:UserName}", true, "bk/backup"},
		{"bk/${aws:userid}", true, "bk/<var>"},
		{"bk/${aws:userid, 'none'}", true, "bk/none"},
		{"bk/${aws:SourceIp}", true, "bk/<var>"},
		{"a${*}b${?}c${$}", true, "a*b?c$"},
		{"unclosed ${aws:username", true, "unclosed $<open>"},
	} {
		p := compile(tc.in, tc.vars, &ctx)
		got := ""
		for _, tk := range p {
			switch tk.kind {
			case tokVar:
				got += "<var>"
			case tokAny:
				got += "*"
			case tokOne:
				got += "?"
			default:
				got += string(tk.r)
			}
		}
		want := tc.want
		if want == "unclosed $<open>" {
			want = tc.in
		}
		if got != want {
			t.Errorf("compile(%q, %v) = %q, want %q", tc.in, tc.vars, got, want)
		}
	}
	// ${*} is a literal star: it does not match "anything".
	p := compile("bk/${*}", true, &ctx)
	if p.matchString("bk/x", false) || !p.matchString("bk/*", false) {
		t.Error("${*} is not a literal *")
	}
}
