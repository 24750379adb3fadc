package iam

import (
	"slices"
	"strings"
)

// Right is an action outside S3 that the caller may hold, confined to
// Resources (ARN patterns). A grant of it on anything else is beyond.
type Right struct {
	Action    string // "sns:Publish"
	Resources []string
}

// Beyond is one way the identity-based policies grant an action outside S3
// that is not a permitted Right, or a permitted Right beyond its resources.
type Beyond struct {
	// Action is a concrete action the policies grant ("iam:CreateAccessKey"),
	// or the policy's own pattern ("ec2:Describe*") for the actions it
	// matches that the caller did not name, or, when Unnamed, the
	// statement's Action or NotAction text.
	Action string
	Access Access // Allowed or Conditional
	Grants []Ref  // the Allow statements that grant it
	// Unconfined: Action is a permitted Right granted on resources beyond
	// its own.
	Unconfined bool
	// Unnamed: the statement may grant actions outside S3 that the evaluator
	// could not name, and no Deny was shown to cover all of them.
	Unnamed bool
}

// s3Prefix is the service prefix of S3 actions, which the catalogue checks
// one by one.
const s3Prefix = "s3:"

// isS3Pattern reports whether every action a pattern can match is an S3
// action: it starts with the literal "s3:" (action names are
// case-insensitive). "s3*:*" does not: it matches s3express: and
// s3-object-lambda: too.
func isS3Pattern(a string) bool {
	return len(a) >= len(s3Prefix) && strings.EqualFold(a[:len(s3Prefix)], s3Prefix) && !strings.ContainsAny(a[:len(s3Prefix)], "*?")
}

// synthesize returns an action that pattern a matches and that is not one
// of the names a caller permits: each wildcard becomes "Z", a letter in no
// permitted right. A literal pattern is itself. It stands for the actions
// nobody has named yet: a service or action the caller's list lacks is not
// thereby harmless.
func synthesize(a string) string {
	return strings.NewReplacer("*", "Z", "?", "Z").Replace(a)
}

// BeyondS3 decides, for every action outside S3 that the identity-based
// policies can grant, whether the caller holds it; the permitted rights are
// allowed only on their resources. Source: "Policy evaluation logic"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// within the caller's account an identity-based Allow suffices and an
// explicit Deny overrides it; a bucket policy governs requests to the
// bucket only, so it neither grants nor denies actions of other services.
//
// It is sound from the action strings alone. Every Allow statement is read
// for the actions it can match: for Action, each pattern that is not an S3
// pattern; for NotAction, everything its list leaves out. Those are tried
// as concrete actions (the names given in named that the pattern matches,
// and the pattern itself with its wildcards filled in), each evaluated
// against every statement, Deny included. When all of a statement's
// candidates are denied, the statement passes only if complete Deny
// statements (no condition that may be false, Resource "*") are shown to
// cover every action outside S3 and the permitted names that it can match:
// by a Deny pattern covering its pattern, or by a Deny NotAction whose list
// holds only S3 patterns and permitted names. Otherwise it is reported
// Unnamed, as possibly allowed.
func (e *Evaluator) BeyondS3(permitted []Right, named []string) []Beyond {
	if e.Caller.Type == "Anonymous" {
		return nil
	}
	ev := &Evaluator{Caller: e.Caller, ResourceAccount: e.Caller.Account, Identity: e.Identity}
	everything := Target{ARN: "*", Wild: true}
	ctx := e.Caller.keys(Context{})
	isPermitted := func(a string) bool { return isPermittedName(permitted, a) }

	var out []Beyond
	seen := map[string]bool{}
	// report evaluates a concrete action; display is how the finding
	// names it (the pattern it was made from, for a synthesized one).
	report := func(action, display string) bool {
		if seen[strings.ToLower(display)] {
			return true
		}
		d := ev.Evaluate(Request{Action: action, Target: everything})
		if d.Access == Denied {
			return false
		}
		seen[strings.ToLower(display)] = true
		out = append(out, Beyond{Action: display, Access: d.Access, Grants: grantRefs(d.Grants)})
		return true
	}

	for _, p := range e.Identity {
		vars := p.Version == Version2012
		for _, s := range p.Statements {
			if s.Effect != Allow || evalConditions(s.Conditions, vars, &ctx) == False {
				continue
			}
			found := false
			for _, c := range beyondCandidates(s, named) {
				if isS3Pattern(c.action) || isPermitted(c.action) {
					continue
				}
				found = report(c.action, c.display) || found
			}
			if found || ev.deniedBeyond(s, permitted, &ctx) {
				continue
			}
			text := strings.Join(s.Actions, ", ")
			if s.NotAction {
				text = "NotAction " + text
			}
			if !seen["unnamed:"+text] {
				seen["unnamed:"+text] = true
				out = append(out, Beyond{Action: text, Access: Conditional, Unnamed: true, Grants: []Ref{{p, s}}})
			}
		}
	}

	// The permitted rights: allowed, but only on their own resources.
	for _, r := range permitted {
		d := ev.Evaluate(Request{Action: r.Action, Target: everything})
		var wide []Ref
		acc := Denied
		for _, g := range d.Grants {
			if !confined(g.Policy, g.Statement, r.Resources, &ctx) {
				wide = append(wide, g.Ref)
				acc = max(acc, g.Access)
			}
		}
		if len(wide) > 0 {
			out = append(out, Beyond{Action: r.Action, Access: acc, Grants: wide, Unconfined: true})
		}
	}
	return out
}

// beyondCandidate is a concrete action to evaluate, and how a finding names
// it (the pattern it was made from, for a synthesized one).
type beyondCandidate struct{ action, display string }

// beyondCandidates are the actions outside S3 an Allow statement may grant:
// the named actions its patterns match and one synthesized from each
// pattern, or, for NotAction, every named action it does not exclude and an
// action of an unknown service.
func beyondCandidates(s *Statement, named []string) []beyondCandidate {
	var candidates []beyondCandidate
	if !s.NotAction {
		for _, a := range s.Actions {
			if isS3Pattern(a) {
				continue
			}
			for _, n := range named {
				if globMatch(a, n, true) {
					candidates = append(candidates, beyondCandidate{n, n})
				}
			}
			candidates = append(candidates, beyondCandidate{synthesize(a), a})
		}
		return candidates
	}
	for _, n := range append(slices.Clone(named), "putonly-unknown-service:UnknownAction") {
		if !isS3Pattern(n) && !anyGlob(s.Actions, n) {
			candidates = append(candidates, beyondCandidate{n, n})
		}
	}
	return candidates
}

func grantRefs(gs []Grant) []Ref {
	out := make([]Ref, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Ref)
	}
	return out
}

func anyGlob(pats []string, s string) bool {
	for _, p := range pats {
		if globMatch(p, s, true) {
			return true
		}
	}
	return false
}

// confined reports that every resource the statement names is one of the
// allowed ones (an allowed pattern covers it); NotResource is never
// confined.
func confined(p *Policy, s *Statement, allowed []string, ctx *Context) bool {
	if s.NotResource || len(allowed) == 0 {
		return false
	}
	vars := p.Version == Version2012
	for _, r := range compileAll(s.Resources, vars, ctx) {
		if r.hasVar() {
			return false
		}
		ok := false
		for _, a := range allowed {
			if arnCovers(compile(a, false, nil), r) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func compileAll(list []string, vars bool, ctx *Context) []pattern {
	out := make([]pattern, len(list))
	for i, r := range list {
		out[i] = compile(r, vars, ctx)
	}
	return out
}

// deniedBeyond reports that complete Deny statements of the identity
// policies cover every action outside S3 (permitted names aside) that the
// Allow statement s can match, on every resource.
func (e *Evaluator) deniedBeyond(s *Statement, permitted []Right, ctx *Context) bool {
	var denies []*Statement
	for _, p := range e.Identity {
		vars := p.Version == Version2012
		for _, d := range p.Statements {
			if d.Effect != Deny || d.NotResource || evalConditions(d.Conditions, vars, ctx) != True {
				continue
			}
			everywhere := false
			for _, r := range d.Resources {
				everywhere = everywhere || r == "*"
			}
			if everywhere {
				denies = append(denies, d)
			}
		}
	}
	safeList := func(d *Statement) bool {
		for _, n := range d.Actions {
			if isS3Pattern(n) {
				continue
			}
			if strings.ContainsAny(n, "*?") || !isPermittedName(permitted, n) {
				return false
			}
		}
		return true
	}
	coveredBy := func(a string) bool {
		pa := literalFold(a)
		for _, d := range denies {
			if d.NotAction {
				if safeList(d) {
					return true
				}
				continue
			}
			for _, x := range d.Actions {
				if covers(literalFold(x), pa) {
					return true
				}
			}
		}
		return false
	}
	if s.NotAction {
		for _, n := range s.Actions {
			// NotAction "*" (or "*:*": every action has a service prefix)
			// grants nothing.
			if covers(literalFold(n), literalFold("*")) || covers(literalFold(n), literalFold("*:*")) {
				return true
			}
		}
		return coveredBy("*")
	}
	for _, a := range s.Actions {
		if isS3Pattern(a) || (!strings.ContainsAny(a, "*?") && isPermittedName(permitted, a)) {
			continue
		}
		if !coveredBy(a) {
			return false
		}
	}
	return true
}

func isPermittedName(permitted []Right, a string) bool {
	for _, r := range permitted {
		if strings.EqualFold(r.Action, a) {
			return true
		}
	}
	return false
}

// literalFold compiles an action pattern lower-cased: action names compare
// case-insensitively, and covers compares literals exactly.
func literalFold(a string) pattern { return compile(strings.ToLower(a), false, nil) }

// ActionMatches reports whether the policy's action pattern (wildcards
// '*' and '?') matches the action, ignoring case as IAM does ("IAM JSON
// policy elements: Action",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
func ActionMatches(pattern, action string) bool { return globMatch(pattern, action, true) }
