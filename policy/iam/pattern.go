package iam

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a string with IAM wildcards: '*' matches any run of
// characters (including none, '/' and ':'), '?' exactly one. Patterns are
// kept as tokens so that a literal '*' (from an object key, or from the
// policy variable ${*}) stays distinct from the wildcard.
//
// Source: IAM User Guide, "IAM JSON policy elements: Resource" (wildcards in
// ARNs) and "IAM JSON policy elements: Action" (wildcards in action names).
type pattern []ptok

type ptok struct {
	kind tokKind
	r    rune
}

type tokKind uint8

const (
	tokLit tokKind = iota
	tokOne         // ?
	tokAny         // *
	// tokVar is a policy variable whose value the evaluator does not know.
	// It may stand for any string, so overlap treats it as '*'; but the
	// evaluator cannot claim a pattern containing it covers anything.
	tokVar
)

// literal makes a pattern that matches exactly s.
func literal(s string) pattern {
	p := make(pattern, 0, len(s))
	for _, r := range s {
		p = append(p, ptok{tokLit, r})
	}
	return p
}

// compile turns policy text into a pattern. With vars set (Version
// 2012-10-17), ${key} is replaced by the key's value from ctx, ${*}, ${?}
// and ${$} by the literal characters, and an unknown or absent key by
// tokVar (or by its default, written ${key, 'default'}). Without vars
// (Version 2008-10-17) "${" is plain text.
//
// Source: IAM User Guide, "IAM policy elements: Variables and tags": policy
// variables are recognised only with "Version": "2012-10-17"; with an
// earlier version they are literal strings.
func compile(s string, vars bool, ctx *Context) pattern {
	p := make(pattern, 0, len(s))
	for i := 0; i < len(s); {
		if vars && strings.HasPrefix(s[i:], "${") {
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				p = append(p, expandVar(s[i+2:i+end], ctx)...)
				i += end + 1
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '*':
			p = append(p, ptok{kind: tokAny})
		case '?':
			p = append(p, ptok{kind: tokOne})
		default:
			p = append(p, ptok{tokLit, r})
		}
		i += size
	}
	return p
}

// expandVar resolves the inside of ${...}.
func expandVar(inner string, ctx *Context) pattern {
	switch inner {
	case "*", "?", "$":
		return literal(inner)
	}
	key, def, hasDef := strings.Cut(inner, ",")
	key = strings.TrimSpace(key)
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			def = def[1 : len(def)-1]
		} else {
			hasDef = false
		}
	}
	if ctx != nil {
		if v, known := ctx.Lookup(key); known {
			if v.Present && len(v.Values) == 1 {
				return literal(v.Values[0])
			}
			if !v.Present && hasDef {
				return literal(def)
			}
		}
	}
	return pattern{{kind: tokVar}}
}

// hasVar reports whether p contains an unresolved variable.
func (p pattern) hasVar() bool {
	for _, t := range p {
		if t.kind == tokVar {
			return true
		}
	}
	return false
}

// matchString reports whether s is in the language of p. An unresolved
// variable matches anything (callers that need certainty check hasVar).
// fold compares letters case-insensitively (action names).
func (p pattern) matchString(s string, fold bool) bool {
	return overlaps(p, literal(s), fold)
}

// overlaps reports whether some string matches both a and b: the
// intersection of two wildcard languages is not empty. It walks the
// product of the two patterns' automata; at most (len(a)+1)*(len(b)+1)
// states, so it is quadratic at worst and never backtracks exponentially.
func overlaps(a, b pattern, fold bool) bool {
	w := len(b) + 1
	seen := make([]bool, (len(a)+1)*w)
	stack := []int{0}
	push := func(i, j int) {
		if !seen[i*w+j] {
			seen[i*w+j] = true
			stack = append(stack, i*w+j)
		}
	}
	seen[0] = true
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := s/w, s%w
		if i == len(a) && j == len(b) {
			return true
		}
		// Empty moves: a star may match nothing.
		if i < len(a) && isStar(a[i]) {
			push(i+1, j)
		}
		if j < len(b) && isStar(b[j]) {
			push(i, j+1)
		}
		if i == len(a) || j == len(b) {
			continue
		}
		// Both consume one common character.
		ta, tb := a[i], b[j]
		if ta.kind == tokLit && tb.kind == tokLit && !runeEq(ta.r, tb.r, fold) {
			continue
		}
		ni, nj := i+1, j+1
		if isStar(ta) {
			ni = i
		}
		if isStar(tb) {
			nj = j
		}
		push(ni, nj)
	}
	return false
}

func isStar(t ptok) bool { return t.kind == tokAny || t.kind == tokVar }

func runeEq(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	return fold && strings.EqualFold(string(a), string(b))
}

// covers reports that every string matching b also matches a. It is a
// sufficient test, not a complete one: it succeeds when a's tokens can be
// laid over b's (a literal over the same literal, '?' over one literal or
// '?', '*' over any run of b's tokens). When it says true, containment
// holds; when it says false, containment may still hold, and the evaluator
// then errs towards "not protected". A pattern in a with an unresolved
// variable covers nothing.
func covers(a, b pattern) bool {
	w := len(b) + 1
	seen := make([]bool, (len(a)+1)*w)
	stack := []int{0}
	seen[0] = true
	push := func(i, j int) {
		if !seen[i*w+j] {
			seen[i*w+j] = true
			stack = append(stack, i*w+j)
		}
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := s/w, s%w
		if i == len(a) && j == len(b) {
			return true
		}
		if i == len(a) {
			continue
		}
		switch ta := a[i]; ta.kind {
		case tokAny:
			push(i+1, j)
			if j < len(b) {
				push(i, j+1)
			}
		case tokOne:
			if j < len(b) && (b[j].kind == tokLit || b[j].kind == tokOne) {
				push(i+1, j+1)
			}
		case tokLit:
			if j < len(b) && b[j].kind == tokLit && b[j].r == ta.r {
				push(i+1, j+1)
			}
		}
	}
	return false
}

// arnSegments splits a pattern at its first five literal colons into the
// six ARN components; ok is false when there are fewer.
func arnSegments(p pattern) (segs [6]pattern, ok bool) {
	k, start := 0, 0
	for i, t := range p {
		if k < 5 && t.kind == tokLit && t.r == ':' {
			segs[k] = p[start:i]
			k++
			start = i + 1
		}
	}
	if k < 5 {
		return segs, false
	}
	segs[5] = p[start:]
	return segs, true
}

// arnCovers reports that every ARN matching b matches the ARN pattern a,
// comparing the six colon-separated components one by one, as AWS matches
// ARNs (Source: "Condition operators", ARN condition operators: "each of
// the six colon-delimited components of the ARN is checked separately").
// A bare "*" covers everything. Any other pattern without six components
// covers nothing: the test must not claim more than AWS would match.
func arnCovers(a, b pattern) bool {
	if len(a) == 1 && a[0].kind == tokAny {
		return true
	}
	sa, ok := arnSegments(a)
	if !ok {
		return false
	}
	sb, ok := arnSegments(b)
	if !ok {
		return false
	}
	for k := range sa {
		if !covers(sa[k], sb[k]) {
			return false
		}
	}
	return true
}

// arnOverlaps reports whether some ARN matches both patterns. Two patterns
// with all six components overlap when every component does: a wildcard
// in the resource part ("bk/*") does not reach into the Region or account
// ("arn:aws:s3:::bk/*" and "arn:aws:s3:*:*:accesspoint/*" share no ARN,
// though as plain strings they would). A pattern with fewer components
// ("*", "arn:aws:*") is compared as a whole string, and without case,
// which can only find more overlap than AWS would.
//
// The partition, service, Region and account components are compared
// without case. AWS documents the case of the resource part ("In the
// Resource element, the IAM user name is case sensitive", "IAM JSON policy
// elements: Resource",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html),
// not whether "arn:aws:S3:::bk/*" names the bucket bk; an evaluator that
// must not understate access cannot assume it does not. Overlap is only
// ever used to find where an Allow may reach or where a Deny may apply
// (which leaves that Deny partial), so finding more of it can only
// overstate access; the covering tests stay exact.
func arnOverlaps(a, b pattern) bool {
	sa, ok1 := arnSegments(a)
	sb, ok2 := arnSegments(b)
	if !ok1 || !ok2 {
		return overlaps(a, b, true)
	}
	for k := range sa {
		if !overlaps(sa[k], sb[k], k < 5) {
			return false
		}
	}
	return true
}

// arnMatch is the three-valued ArnLike test of a concrete ARN against a
// pattern, component by component.
func arnMatch(pat pattern, arn string) Truth {
	if len(pat) == 1 && pat[0].kind == tokAny {
		return True
	}
	if pat.hasVar() {
		return Maybe
	}
	sa, ok := arnSegments(pat)
	sb, ok2 := arnSegments(literal(arn))
	if !ok || !ok2 {
		return Maybe
	}
	for k := range sa {
		if !overlaps(sa[k], sb[k], false) {
			return False
		}
	}
	return True
}

// globMatch reports whether s matches the wildcard pattern pat ('*' any
// run, '?' one character), without allocating: the hot path of action
// matching. It is the classic two-cursor walk that backtracks only to the
// last '*', O(len(pat)*len(s)) at worst. fold compares ASCII letters
// case-insensitively (action names are ASCII).
func globMatch(pat, s string, fold bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pat) {
			switch c := pat[p]; {
			case c == '*':
				starP, starI = p, i
				p++
				continue
			case c == '?':
				_, size := utf8.DecodeRuneInString(s[i:])
				p++
				i += size
				continue
			case c == s[i] || fold && asciiLower(c) == asciiLower(s[i]):
				p++
				i++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star take one more character.
		_, size := utf8.DecodeRuneInString(s[starI:])
		starI += size
		p, i = starP+1, starI
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
