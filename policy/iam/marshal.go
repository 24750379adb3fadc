package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The policy document is modelled once: Parse reads a document into
// Policy, Statement, Principal and Condition, and MarshalJSON writes them
// back, so the generator (policy.Generate*) builds the same values the
// evaluator judges. Parse(MarshalJSON(p)) is p again, field for field,
// when p's conditions are in [SortConditions] order (the order
// MarshalJSON writes them in).

// MarshalJSON writes the document in the form of AWS's own examples:
// Version, Id (when set), Statement; in each statement Sid (when set),
// Effect, Principal or NotPrincipal, Action or NotAction, Resource or
// NotResource, Condition (when set). A list of one value is written as
// the bare string, a longer one as an array; Principal.Any as "*". The
// Condition block is an object of operators, each an object of keys,
// both in sorted order (so the output is stable). Name and Kind are not
// part of the document. Nothing is HTML-escaped (a policy is not embedded
// in HTML, and "&" in a condition value must stay readable).
func (p Policy) MarshalJSON() ([]byte, error) {
	w := wirePolicy{Version: p.Version, ID: p.ID}
	for i, s := range p.Statements {
		ws, err := s.wire()
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		w.Statement = append(w.Statement, ws)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// wirePolicy and wireStatement are the JSON shape of Policy and
// Statement: field order is output order, and a field that is not set is
// left out.
type wirePolicy struct {
	Version   string          `json:"Version"`
	ID        string          `json:"Id,omitempty"`
	Statement []wireStatement `json:"Statement"`
}

type wireStatement struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       Effect                    `json:"Effect"`
	Principal    any                       `json:"Principal,omitempty"`
	NotPrincipal any                       `json:"NotPrincipal,omitempty"`
	Action       any                       `json:"Action,omitempty"`
	NotAction    any                       `json:"NotAction,omitempty"`
	Resource     any                       `json:"Resource,omitempty"`
	NotResource  any                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

// wire is the statement's JSON shape. A statement Parse would refuse for
// want of an element is an error here too, rather than a document AWS
// rejects.
func (s *Statement) wire() (wireStatement, error) {
	switch {
	case s.Effect != Allow && s.Effect != Deny:
		return wireStatement{}, fmt.Errorf("Effect %q: want Allow or Deny", s.Effect)
	case len(s.Actions) == 0:
		return wireStatement{}, fmt.Errorf("no Action")
	case len(s.Resources) == 0:
		return wireStatement{}, fmt.Errorf("no Resource")
	}
	w := wireStatement{Sid: s.Sid, Effect: s.Effect}
	if s.Principal != nil {
		if s.NotPrincipal {
			w.NotPrincipal = s.Principal.wire()
		} else {
			w.Principal = s.Principal.wire()
		}
	}
	if s.NotAction {
		w.NotAction = wireList(s.Actions)
	} else {
		w.Action = wireList(s.Actions)
	}
	if s.NotResource {
		w.NotResource = wireList(s.Resources)
	} else {
		w.Resource = wireList(s.Resources)
	}
	if len(s.Conditions) > 0 {
		w.Condition = map[string]map[string]any{}
		for _, c := range s.Conditions {
			if w.Condition[c.Operator] == nil {
				w.Condition[c.Operator] = map[string]any{}
			}
			if _, dup := w.Condition[c.Operator][c.Key]; dup {
				return wireStatement{}, fmt.Errorf("condition %s %s: given twice", c.Operator, c.Key)
			}
			w.Condition[c.Operator][c.Key] = wireList(c.Values)
		}
	}
	return w, nil
}

func (p *Principal) wire() any {
	if p.Any {
		return "*"
	}
	m := make(map[string]any, len(p.Values))
	for k, v := range p.Values {
		m[k] = wireList(v)
	}
	return m
}

// wireList is a list as the grammar lets it be written: one value bare.
func wireList(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// NewCondition is one key test of a Condition block, as Parse would read
// it: operator (with its set qualifier and IfExists suffix, e.g.
// "ForAnyValue:StringLikeIfExists"), key and values. An unknown operator
// or a Null that tests anything but "true" or "false" is an error.
func NewCondition(operator, key string, values ...string) (Condition, error) {
	base, set, ifExists, err := parseOperator(operator)
	switch {
	case err != nil:
		return Condition{}, fmt.Errorf("%s: %w", operator, err)
	case key == "":
		return Condition{}, fmt.Errorf("%s: empty condition key", operator)
	case len(values) == 0:
		return Condition{}, fmt.Errorf("%s.%s: no value", operator, key)
	}
	for _, v := range values {
		if base == "Null" && v != "true" && v != "false" {
			return Condition{}, fmt.Errorf(`%s.%s: the Null operator takes "true" or "false", not %q`, operator, key, v)
		}
	}
	return Condition{Operator: operator, Key: key, Values: values, base: base, set: set, ifExists: ifExists}, nil
}

// SortConditions puts conditions in the order MarshalJSON writes them:
// by operator, then by key.
func SortConditions(cs []Condition) {
	slices.SortFunc(cs, func(a, b Condition) int {
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
