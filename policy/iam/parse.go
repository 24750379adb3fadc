package iam

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says where a policy is attached, which decides whether its
// statements name a principal.
type Kind int

const (
	// ResourceBased is a policy attached to a resource, such as an S3 bucket
	// policy: every statement names Principal or NotPrincipal.
	ResourceBased Kind = iota
	// IdentityBased is a policy attached to a user, group or role: it applies
	// to that identity and may not name a principal.
	IdentityBased
)

// The two values of the Version element. Source: IAM User Guide, "IAM JSON
// policy elements: Version" and "Grammar of the IAM JSON policy language":
// a policy without Version is evaluated as 2008-10-17.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is "Allow" or "Deny".
type Effect string

// The two effects, spelled as the grammar requires (case-sensitive).
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed IAM policy document.
type Policy struct {
	// Name labels the document in findings ("bucket", "user-policy.json").
	// Parse leaves it empty; the caller sets it.
	Name       string
	Kind       Kind
	Version    string // Version2012 or Version2008 (also when the element is absent)
	ID         string
	Statements []*Statement
}

// Statement is one statement of a policy. Exactly one of each pair
// Action/NotAction, Resource/NotResource is set (Not* says which); for a
// resource-based policy Principal is set and NotPrincipal says whether it
// was written as NotPrincipal.
type Statement struct {
	Index        int // 1-based position in the Statement array
	Sid          string
	Effect       Effect
	Principal    *Principal // nil in identity-based policies
	NotPrincipal bool
	Actions      []string
	NotAction    bool
	Resources    []string
	NotResource  bool
	Conditions   []Condition
}

// Label names the statement for a human: its Sid, or "#N" when it has none.
func (s *Statement) Label() string {
	if s.Sid != "" {
		return s.Sid
	}
	return "#" + strconv.Itoa(s.Index)
}

// Principal is the Principal (or NotPrincipal) element. Any is the bare
// string "*"; otherwise Values maps "AWS", "Service", "Federated" and
// "CanonicalUser" to their values.
type Principal struct {
	Any    bool
	Values map[string][]string
}

// Condition is one key test of a Condition block: operator, key, values.
// The block is the conjunction of its conditions.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringNotLikeIfExists"
	Key      string
	Values   []string // JSON numbers and booleans as written

	base     string // "StringNotLike"
	set      setQualifier
	ifExists bool
}

type setQualifier int

const (
	setNone setQualifier = iota
	setForAll
	setForAny
)

// ParseError is a document that is not a valid policy. It names the
// statement (when the problem is inside one) and the field.
type ParseError struct {
	Statement string // `statement 2 (Sid "ReadOnly")`, or "" for the document
	Field     string // "Action", "Condition.StringEquals.aws:username", ...
	Msg       string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Statement != "" {
		b.WriteString(e.Statement)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads a policy document strictly: both Version values, a string or
// an array wherever the grammar allows either, a missing Sid; a duplicate
// JSON key, an unknown element, a wrong type or an empty list is an error
// that names the statement and the field. A bucket policy wrapped as the
// AWS CLI prints it ({"Policy": "<json string>"}) is unwrapped.
//
// Source: IAM User Guide, "Grammar of the IAM JSON policy language" and
// "IAM JSON policy element reference".
func Parse(data []byte, kind Kind) (*Policy, error) {
	return parse(data, kind, true)
}

// Size limits. S3 accepts bucket policies up to 20 KB and IAM managed
// policies up to 6,144 characters ("Bucket policies for Amazon S3"; "IAM
// and AWS STS quotas"); an ARN is at most 2,048 characters. The limits
// here are well above those and keep the quadratic pattern comparisons
// bounded on hostile input.
const (
	MaxDocumentBytes = 64 << 10
	maxStringBytes   = 4096
)

func parse(data []byte, kind Kind, mayUnwrap bool) (*Policy, error) {
	if len(data) > MaxDocumentBytes {
		return nil, &ParseError{Msg: fmt.Sprintf("%d bytes: larger than any policy AWS accepts (this tool reads up to %d)", len(data), MaxDocumentBytes)}
	}
	root, err := decodeJSON(data)
	if err != nil {
		return nil, &ParseError{Msg: err.Error()}
	}
	if root.kind != kindObject {
		return nil, &ParseError{Msg: "the policy document must be a JSON object, not " + root.kind.String()}
	}
	if mayUnwrap && len(root.members) == 1 && root.members[0].key == "Policy" {
		inner := root.members[0].val
		if inner.kind != kindString {
			return nil, &ParseError{Field: "Policy", Msg: "the AWS CLI wrapper must hold the policy as a JSON string"}
		}
		p, err := parse([]byte(inner.str), kind, false)
		if err != nil {
			if pe, ok := err.(*ParseError); ok && pe.Statement == "" && pe.Field == "" {
				pe.Field = "Policy"
			}
			return nil, err
		}
		return p, nil
	}
	p := &Policy{Kind: kind, Version: Version2008}
	seen := map[string]bool{}
	var stmts *node
	for _, m := range root.members {
		if seen[m.key] {
			return nil, &ParseError{Field: m.key, Msg: "duplicate key"}
		}
		seen[m.key] = true
		switch m.key {
		case "Version":
			if m.val.kind != kindString || (m.val.str != Version2012 && m.val.str != Version2008) {
				return nil, &ParseError{Field: "Version", Msg: fmt.Sprintf("must be %q or %q", Version2012, Version2008)}
			}
			p.Version = m.val.str
		case "Id":
			if m.val.kind != kindString {
				return nil, &ParseError{Field: "Id", Msg: "must be a string, not " + m.val.kind.String()}
			}
			p.ID = m.val.str
		case "Statement":
			stmts = m.val
		default:
			return nil, &ParseError{Field: m.key, Msg: "unknown element" + hintElement(m.key, topElements)}
		}
	}
	if stmts == nil {
		return nil, &ParseError{Field: "Statement", Msg: "missing"}
	}
	var list []*node
	switch stmts.kind {
	case kindObject:
		list = []*node{stmts}
	case kindArray:
		list = stmts.items
	default:
		return nil, &ParseError{Field: "Statement", Msg: "must be an object or an array of objects, not " + stmts.kind.String()}
	}
	if len(list) == 0 {
		return nil, &ParseError{Field: "Statement", Msg: "must not be empty"}
	}
	for i, sn := range list {
		s, err := parseStatement(sn, i+1, kind)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

var (
	topElements       = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

// hintElement suggests the element a misspelt one was meant to be
// ("effect" -> "Effect"): element names are case-sensitive.
func hintElement(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf(" (element names are case-sensitive: did you mean %q?)", k)
		}
	}
	return ""
}

func parseStatement(n *node, index int, kind Kind) (*Statement, error) {
	s := &Statement{Index: index}
	where := fmt.Sprintf("statement %d", index)
	fail := func(field, format string, args ...any) error {
		return &ParseError{Statement: where, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if n.kind != kindObject {
		return nil, fail("", "must be an object, not %s", n.kind)
	}
	// The Sid names the statement in every later message, so read it first.
	for _, m := range n.members {
		if m.key == "Sid" && m.val.kind == kindString && m.val.str != "" {
			where = fmt.Sprintf("statement %d (Sid %q)", index, m.val.str)
		}
	}
	seen := map[string]bool{}
	for _, m := range n.members {
		if seen[m.key] {
			return nil, fail(m.key, "duplicate key")
		}
		seen[m.key] = true
		var err error
		switch m.key {
		case "Sid":
			if m.val.kind != kindString {
				return nil, fail("Sid", "must be a string, not %s", m.val.kind)
			}
			s.Sid = m.val.str
		case "Effect":
			if m.val.kind != kindString || (m.val.str != string(Allow) && m.val.str != string(Deny)) {
				return nil, fail("Effect", `must be "Allow" or "Deny"`)
			}
			s.Effect = Effect(m.val.str)
		case "Principal", "NotPrincipal":
			if kind == IdentityBased {
				return nil, fail(m.key, "not allowed in an identity-based policy (it applies to the identity it is attached to)")
			}
			s.Principal, err = parsePrincipal(m.val)
			s.NotPrincipal = m.key == "NotPrincipal"
		case "Action", "NotAction":
			s.Actions, err = stringList(m.val)
			s.NotAction = m.key == "NotAction"
			if err == nil {
				err = checkActions(s.Actions)
			}
		case "Resource", "NotResource":
			s.Resources, err = stringList(m.val)
			s.NotResource = m.key == "NotResource"
			if err == nil {
				err = checkResources(s.Resources)
			}
		case "Condition":
			var field string
			s.Conditions, field, err = parseConditions(m.val)
			if err != nil {
				return nil, fail("Condition"+field, "%v", err)
			}
		default:
			return nil, fail(m.key, "unknown element%s", hintElement(m.key, statementElements))
		}
		if err != nil {
			return nil, fail(m.key, "%v", err)
		}
	}
	if err := checkStatement(s, seen, kind, fail); err != nil {
		return nil, err
	}
	return s, nil
}

// checkStatement checks what a statement must have as a whole (seen: the
// elements it has).
func checkStatement(s *Statement, seen map[string]bool, kind Kind, fail func(field, format string, args ...any) error) error {
	switch {
	case s.Effect == "":
		return fail("Effect", "missing")
	case seen["Action"] && seen["NotAction"]:
		return fail("NotAction", "a statement has Action or NotAction, not both")
	case !seen["Action"] && !seen["NotAction"]:
		return fail("Action", "missing (a statement needs Action or NotAction)")
	case seen["Resource"] && seen["NotResource"]:
		return fail("NotResource", "a statement has Resource or NotResource, not both")
	case !seen["Resource"] && !seen["NotResource"]:
		return fail("Resource", "missing (a statement needs Resource or NotResource)")
	case seen["Principal"] && seen["NotPrincipal"]:
		return fail("NotPrincipal", "a statement has Principal or NotPrincipal, not both")
	case kind == ResourceBased && s.Principal == nil:
		return fail("Principal", "missing (a resource-based policy names the principal)")
	case s.NotPrincipal && s.Effect == Allow:
		// Source: IAM User Guide, "AWS JSON policy elements: NotPrincipal":
		// "NotPrincipal must be used with "Effect":"Deny". Using it with
		// "Effect":"Allow" is not supported."
		return fail("NotPrincipal", `only allowed with "Effect": "Deny"`)
	}
	return nil
}

// stringList reads an element that is a string or a non-empty array of
// strings.
func stringList(n *node) ([]string, error) {
	switch n.kind {
	case kindString:
		if len(n.str) > maxStringBytes {
			return nil, fmt.Errorf("longer than %d bytes", maxStringBytes)
		}
		return []string{n.str}, nil
	case kindArray:
		if len(n.items) == 0 {
			return nil, fmt.Errorf("must not be an empty array")
		}
		out := make([]string, 0, len(n.items))
		for i, it := range n.items {
			if it.kind != kindString {
				return nil, fmt.Errorf("item %d must be a string, not %s", i+1, it.kind)
			}
			if len(it.str) > maxStringBytes {
				return nil, fmt.Errorf("item %d is longer than %d bytes", i+1, maxStringBytes)
			}
			out = append(out, it.str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a string or an array of strings, not %s", n.kind)
}

func checkActions(list []string) error {
	for _, a := range list {
		if a == "*" {
			continue
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok && !strings.ContainsAny(a, "*?") || ok && (svc == "" || name == "") {
			return fmt.Errorf("%q is not an action (want service:Action, e.g. s3:GetObject, or *)", a)
		}
	}
	return nil
}

func checkResources(list []string) error {
	for _, r := range list {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return fmt.Errorf("%q is not an ARN or *", r)
		}
	}
	return nil
}

// principalTypes are the keys of a Principal object. Source: IAM User
// Guide, "AWS JSON policy elements: Principal".
var principalTypes = []string{"AWS", "Service", "Federated", "CanonicalUser"}

func parsePrincipal(n *node) (*Principal, error) {
	switch n.kind {
	case kindString:
		if n.str != "*" {
			return nil, fmt.Errorf(`a string principal must be "*"; name others as {"AWS": "..."}`)
		}
		return &Principal{Any: true}, nil
	case kindObject:
	default:
		return nil, fmt.Errorf(`must be "*" or an object, not %s`, n.kind)
	}
	if len(n.members) == 0 {
		return nil, fmt.Errorf("must not be empty")
	}
	p := &Principal{Values: map[string][]string{}}
	for _, m := range n.members {
		if _, dup := p.Values[m.key]; dup {
			return nil, fmt.Errorf("%s: duplicate key", m.key)
		}
		known := false
		for _, t := range principalTypes {
			known = known || t == m.key
		}
		if !known {
			return nil, fmt.Errorf("%s: unknown principal type%s", m.key, hintElement(m.key, principalTypes))
		}
		vals, err := stringList(m.val)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", m.key, err)
		}
		if m.key == "AWS" {
			for _, v := range vals {
				// Source: "AWS JSON policy elements: Principal": a wildcard
				// cannot match part of a principal name or ARN.
				if v != "*" && strings.ContainsAny(v, "*?") {
					return nil, fmt.Errorf("AWS: %q: a wildcard may not stand for part of a principal; use \"*\" with an aws:PrincipalArn condition", v)
				}
			}
		}
		p.Values[m.key] = vals
	}
	return p, nil
}

// operator bases. Source: IAM User Guide, "IAM JSON policy elements:
// Condition operators".
var conditionBases = map[string]string{}

func init() {
	for _, b := range []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
		"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
	} {
		conditionBases[strings.ToLower(b)] = b
	}
}

// parseOperator splits "ForAllValues:StringLikeIfExists" into its set
// qualifier, base operator and IfExists suffix.
func parseOperator(op string) (base string, set setQualifier, ifExists bool, err error) {
	rest := op
	if q, r, ok := strings.Cut(rest, ":"); ok {
		switch strings.ToLower(q) {
		case "forallvalues":
			set = setForAll
		case "foranyvalue":
			set = setForAny
		default:
			return "", 0, false, fmt.Errorf("unknown set operator %q (want ForAllValues or ForAnyValue)", q)
		}
		rest = r
	}
	lower := strings.ToLower(rest)
	if strings.HasSuffix(lower, "ifexists") && lower != "ifexists" {
		ifExists = true
		lower = strings.TrimSuffix(lower, "ifexists")
	}
	base, ok := conditionBases[lower]
	if !ok {
		return "", 0, false, fmt.Errorf("unknown condition operator")
	}
	if base == "Null" && (ifExists || set != setNone) {
		return "", 0, false, fmt.Errorf("the Null operator takes no IfExists or set qualifier")
	}
	return base, set, ifExists, nil
}

func parseConditions(n *node) ([]Condition, string, error) {
	if n.kind != kindObject {
		return nil, "", fmt.Errorf("must be an object, not %s", n.kind)
	}
	var out []Condition
	seenOp := map[string]bool{}
	for _, opm := range n.members {
		field := "." + opm.key
		if seenOp[opm.key] {
			return nil, field, fmt.Errorf("duplicate key")
		}
		seenOp[opm.key] = true
		base, set, ifExists, err := parseOperator(opm.key)
		if err != nil {
			return nil, field, err
		}
		if opm.val.kind != kindObject {
			return nil, field, fmt.Errorf("must be an object of condition keys, not %s", opm.val.kind)
		}
		if len(opm.val.members) == 0 {
			return nil, field, fmt.Errorf("must not be empty")
		}
		seenKey := map[string]bool{}
		for _, km := range opm.val.members {
			kfield := field + "." + km.key
			// Condition key names are case-insensitive (IAM User Guide,
			// "IAM JSON policy elements: Condition"), so "aws:username" and
			// "aws:UserName" in one operator block are the same key twice.
			lk := strings.ToLower(km.key)
			if seenKey[lk] {
				return nil, kfield, fmt.Errorf("duplicate key")
			}
			seenKey[lk] = true
			if km.key == "" {
				return nil, kfield, fmt.Errorf("empty condition key")
			}
			vals, err := scalarList(km.val)
			if err != nil {
				return nil, kfield, err
			}
			if base == "Null" {
				for _, v := range vals {
					if v != "true" && v != "false" {
						return nil, kfield, fmt.Errorf(`the Null operator takes "true" or "false", not %q`, v)
					}
				}
			}
			out = append(out, Condition{Operator: opm.key, Key: km.key, Values: vals, base: base, set: set, ifExists: ifExists})
		}
	}
	return out, "", nil
}

// scalarList reads a condition value: a string, number or boolean, or a
// non-empty array of them.
func scalarList(n *node) ([]string, error) {
	scalar := func(it *node) (string, bool) {
		switch it.kind {
		case kindString, kindNumber, kindBool:
			return it.str, len(it.str) <= maxStringBytes
		}
		return "", false
	}
	if v, ok := scalar(n); ok {
		return []string{v}, nil
	}
	if n.kind != kindArray {
		return nil, fmt.Errorf("must be a string, number or boolean (of at most %d bytes) or an array of them, not %s", maxStringBytes, n.kind)
	}
	if len(n.items) == 0 {
		return nil, fmt.Errorf("must not be an empty array")
	}
	out := make([]string, 0, len(n.items))
	for i, it := range n.items {
		v, ok := scalar(it)
		if !ok {
			return nil, fmt.Errorf("item %d must be a string, number or boolean of at most %d bytes", i+1, maxStringBytes)
		}
		out = append(out, v)
	}
	return out, nil
}
