package iam

import (
	"net/netip"
	"strconv"
	"strings"
)

// Truth is what the evaluator knows of a test over every request the
// caller could make: False for none of them, True for all of them, Maybe
// when it depends on something the caller may choose or the evaluator
// cannot see (a header, the source IP, the time, a tag).
type Truth int8

// The three truth values.
const (
	False Truth = iota
	Maybe
	True
)

func (t Truth) String() string {
	switch t {
	case False:
		return "false"
	case True:
		return "true"
	}
	return "maybe"
}

func and(a, b Truth) Truth { return min(a, b) }
func or(a, b Truth) Truth  { return max(a, b) }
func not(a Truth) Truth    { return True - a }

// Value is what a request carries for one condition key: absent, or
// present with one value (single-valued keys) or several (multivalued).
type Value struct {
	Present bool
	Values  []string
}

// Present is a present key with the given values.
func Present(values ...string) Value { return Value{Present: true, Values: values} }

// Absent is a key the request does not carry.
var Absent = Value{}

// Context holds the condition keys whose values the evaluator knows. A key
// not in the context is unknown: the caller may be able to choose it, so
// every test on it is Maybe. Key names are case-insensitive.
type Context struct {
	keys map[string]Value
}

// With returns a copy of c that also knows key.
func (c Context) With(key string, v Value) Context {
	n := Context{keys: make(map[string]Value, len(c.keys)+1)}
	for k, x := range c.keys {
		n.keys[k] = x
	}
	n.keys[strings.ToLower(key)] = v
	return n
}

// Lookup returns the key's value and whether it is known.
func (c *Context) Lookup(key string) (Value, bool) {
	if c == nil || c.keys == nil {
		return Value{}, false
	}
	v, ok := c.keys[strings.ToLower(key)]
	return v, ok
}

// negated operators: true when the key is absent, and their values are
// joined by NOR rather than OR. Source: IAM User Guide, "IAM JSON policy
// elements: Condition operators" and "Creating a condition with multiple
// keys or values" (a negated operator with several values matches when the
// request value equals none of them).
var negated = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"NumericNotEquals":          "NumericEquals",
	"DateNotEquals":             "DateEquals",
	"NotIpAddress":              "IpAddress",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
}

// evalConditions is the conjunction of a statement's conditions.
func evalConditions(conds []Condition, vars bool, ctx *Context) Truth {
	t := True
	for i := range conds {
		t = and(t, evalCondition(&conds[i], vars, ctx))
		if t == False {
			return False
		}
	}
	return t
}

// evalCondition evaluates one operator/key/values test.
//
// Absent keys (Source: "Condition operators", the IfExists and Null
// sections; "Single-valued vs. multivalued context keys"):
//   - Null is true when the key's absence is what it asks for;
//   - ...IfExists is true when the key is absent;
//   - ForAllValues is true when the key is absent (the empty set), and
//     ForAnyValue false;
//   - a negated operator (StringNotEquals, ArnNotLike, NotIpAddress, ...)
//     is true when the key is absent: an absent value equals none of the
//     policy values;
//   - every other operator is false.
func evalCondition(c *Condition, vars bool, ctx *Context) Truth {
	v, known := ctx.Lookup(c.Key)
	if !known {
		return Maybe
	}
	if c.base == "Null" {
		t := False
		for _, pv := range c.Values {
			if (pv == "true") == !v.Present {
				t = True
			}
		}
		return t
	}
	pos, isNeg := negated[c.base]
	if !isNeg {
		pos = c.base
	}
	if !v.Present {
		switch {
		case c.ifExists, c.set == setForAll, isNeg && c.set == setNone:
			return True
		}
		return False
	}
	// one request value against all policy values: OR for a positive
	// operator, NOR for a negated one.
	one := func(rv string) Truth {
		t := False
		for _, pv := range c.Values {
			t = or(t, compare(pos, rv, pv, vars, ctx))
		}
		if isNeg {
			return not(t)
		}
		return t
	}
	switch c.set {
	case setForAny:
		t := False
		for _, rv := range v.Values {
			t = or(t, one(rv))
		}
		return t
	case setForAll:
		t := True
		for _, rv := range v.Values {
			t = and(t, one(rv))
		}
		return t
	}
	if len(v.Values) != 1 {
		// A single-valued operator on a multivalued key: AWS's result
		// depends on details this evaluator does not model.
		return Maybe
	}
	return one(v.Values[0])
}

// compare is one positive operator on one request value and one policy
// value. A policy value with a variable the evaluator cannot resolve, or a
// comparison it does not model (dates), is Maybe.
func compare(op, rv, pv string, vars bool, ctx *Context) Truth {
	pat := compile(pv, vars, ctx)
	switch op {
	case "StringLike":
		if pat.hasVar() {
			return Maybe
		}
		return truth(pat.matchString(rv, false))
	case "ArnEquals", "ArnLike":
		// ArnEquals and ArnLike both honour wildcards (Source:
		// "Condition operators", ARN condition operators).
		return arnMatch(pat, rv)
	}
	if pat.hasVar() {
		return Maybe
	}
	lit := patternText(pat)
	switch op {
	case "StringEquals", "BinaryEquals":
		return truth(rv == lit)
	case "StringEqualsIgnoreCase", "Bool":
		return truth(strings.EqualFold(rv, lit))
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		a, err1 := strconv.ParseFloat(rv, 64)
		b, err2 := strconv.ParseFloat(lit, 64)
		if err1 != nil || err2 != nil {
			return Maybe
		}
		switch op {
		case "NumericEquals":
			return truth(a == b)
		case "NumericLessThan":
			return truth(a < b)
		case "NumericLessThanEquals":
			return truth(a <= b)
		case "NumericGreaterThan":
			return truth(a > b)
		}
		return truth(a >= b)
	case "IpAddress":
		addr, err1 := netip.ParseAddr(rv)
		if err1 != nil {
			return Maybe
		}
		if pfx, err := netip.ParsePrefix(lit); err == nil {
			return truth(pfx.Contains(addr))
		}
		if a, err := netip.ParseAddr(lit); err == nil {
			return truth(a == addr)
		}
		return Maybe
	}
	return Maybe // dates and anything not modelled
}

// patternText turns a variable-free pattern back into text, the wildcards
// as written: the equality operators do not treat '*' specially.
func patternText(p pattern) string {
	var b strings.Builder
	for _, t := range p {
		switch t.kind {
		case tokAny:
			b.WriteByte('*')
		case tokOne:
			b.WriteByte('?')
		default:
			b.WriteRune(t.r)
		}
	}
	return b.String()
}

func truth(b bool) Truth {
	if b {
		return True
	}
	return False
}
