package iam

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Caller is the principal whose access is evaluated.
type Caller struct {
	ARN     string // as given
	Account string // 12-digit account id
	// Type is the aws:PrincipalType value: "User", "AssumedRole" or
	// "Account"; "Anonymous" for an unsigned request.
	Type string
	Name string // the user name (aws:username) for an IAM user
	// RoleARN is the role of an assumed-role session; a policy that names
	// the role names its sessions.
	RoleARN string
}

// Anonymous is an unsigned request: it carries no principal keys, and only
// statements whose Principal is "*" apply to it.
var Anonymous = Caller{Type: "Anonymous"}

// Deputy is an AWS service principal acting on the bucket for whoever set
// it up: any account can point CloudFront, log delivery or another service
// at any bucket, so a grant to a service principal reaches the key holder
// through an account of their own. Source: IAM User Guide, "The confused
// deputy problem" (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html):
// a service can be "manipulated to use its permissions to act on another
// customer's resources"; aws:SourceArn, aws:SourceAccount and
// aws:SourceOrgID in the resource policy limit that, and those keys are
// left unknown here (the service fills them from the attacker's own
// resources), so such a grant is at least conditional. Statements whose
// Principal is "*" or names a service apply to it; identity-based policies
// do not.
var Deputy = Caller{Type: "Service"}

// external reports a caller outside IAM's identities: an unsigned request
// or a service principal, to which identity-based policies do not apply.
func (c Caller) external() bool { return c.Type == "Anonymous" || c.Type == "Service" }

var (
	reAccount = regexp.MustCompile(`^[0-9]{12}$`)
	reCaller  = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):(iam|sts)::([0-9]{12}):(.+)$`)
)

// ParseCaller reads a principal ARN: an IAM user
// (arn:aws:iam::123456789012:user/path/name), a role, an assumed-role
// session (arn:aws:sts::123456789012:assumed-role/role/session) or the
// account root.
func ParseCaller(arn string) (Caller, error) {
	m := reCaller.FindStringSubmatch(arn)
	if m == nil {
		return Caller{}, fmt.Errorf("%q is not an IAM user, role or account ARN (want arn:aws:iam::123456789012:user/NAME)", arn)
	}
	partition, svc, acct, rest := m[1], m[2], m[3], m[4]
	c := Caller{ARN: arn, Account: acct}
	switch {
	case svc == "iam" && rest == "root":
		c.Type = "Account"
	case svc == "iam" && strings.HasPrefix(rest, "user/") && !strings.HasSuffix(rest, "/"):
		c.Type = "User"
		c.Name = rest[strings.LastIndexByte(rest, '/')+1:]
	case svc == "iam" && strings.HasPrefix(rest, "role/") && !strings.HasSuffix(rest, "/"):
		c.Type = "AssumedRole"
		c.RoleARN = arn
	case svc == "sts" && strings.HasPrefix(rest, "assumed-role/"):
		role, _, ok := strings.Cut(strings.TrimPrefix(rest, "assumed-role/"), "/")
		if !ok || role == "" {
			return Caller{}, fmt.Errorf("%q: an assumed-role ARN is assumed-role/ROLE/SESSION", arn)
		}
		c.Type = "AssumedRole"
		c.RoleARN = "arn:" + partition + ":iam::" + acct + ":role/" + role
	default:
		return Caller{}, fmt.Errorf("%q is not an IAM user, role or account ARN (want arn:aws:iam::123456789012:user/NAME)", arn)
	}
	if strings.ContainsAny(arn, "*?") {
		return Caller{}, fmt.Errorf("%q: a principal ARN has no wildcards", arn)
	}
	return c, nil
}

// keys returns the global condition keys the caller fixes: the attacker
// holding its key cannot change them. Source: IAM User Guide, "AWS global
// condition context keys"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
// aws:PrincipalArn is the role's ARN for a role session; aws:username is
// present only for IAM users.
//
// An unsigned request carries no aws:PrincipalArn, aws:username,
// aws:PrincipalOrgID or aws:PrincipalIsAWSService; aws:PrincipalAccount is
// "anonymous"; aws:PrincipalType and aws:userid "are included in the
// request context for all requests, including anonymous requests" (same
// page): present, with values the evaluator does not pin, so it leaves
// them unknown. Taking them as absent would read an Allow to "*"
// conditioned on aws:PrincipalType = "Anonymous" as granting nothing.
func (c Caller) keys(ctx Context) Context {
	if c.Type == "Anonymous" {
		for _, k := range []string{"aws:PrincipalArn", "aws:username", "aws:PrincipalOrgID", "aws:PrincipalIsAWSService"} {
			ctx = ctx.With(k, Absent)
		}
		// "For anonymous requests, the request context returns anonymous"
		// (aws:PrincipalAccount, same page).
		return ctx.With("aws:PrincipalAccount", Present("anonymous"))
	}
	if c.Type == "Service" {
		// "The request context key is set to true when a service uses a
		// service principal to perform a direct action on your resources"
		// (aws:PrincipalIsAWSService, same page). aws:username is present
		// only for IAM users, aws:PrincipalArn only for IAM users, roles,
		// STS federated users and root users, aws:PrincipalOrgID only for a
		// member of an organization (same page). aws:PrincipalAccount is
		// present in every request; a service directed by the key holder
		// acts for the holder's account or AWS's, never the bucket
		// owner's, so it stands as a value no policy names. aws:SourceArn,
		// aws:SourceAccount and the rest stay unknown: the key holder's
		// own resources fill them.
		ctx = ctx.With("aws:PrincipalIsAWSService", Present("true"))
		ctx = ctx.With("aws:PrincipalAccount", Present("putonly-not-your-account"))
		for _, k := range []string{"aws:username", "aws:PrincipalArn", "aws:PrincipalOrgID"} {
			ctx = ctx.With(k, Absent)
		}
		return ctx
	}
	arn := c.ARN
	if c.RoleARN != "" {
		arn = c.RoleARN
	}
	ctx = ctx.With("aws:PrincipalArn", Present(arn))
	ctx = ctx.With("aws:PrincipalAccount", Present(c.Account))
	ctx = ctx.With("aws:PrincipalType", Present(c.Type))
	ctx = ctx.With("aws:PrincipalIsAWSService", Present("false"))
	if c.Type == "User" {
		ctx = ctx.With("aws:username", Present(c.Name))
	} else {
		ctx = ctx.With("aws:username", Absent)
	}
	return ctx
}

// Target is the set of resources a request may name: the one ARN, or
// (Prefix) every ARN that starts with it, e.g. every object under a key
// prefix. Its text is literal, a '*' in it a character of a key, unless
// Wild makes '*' and '?' wildcards (every access point of any account:
// arn:aws:s3:*:*:accesspoint/*).
type Target struct {
	ARN    string
	Prefix bool
	Wild   bool
}

func (t Target) pattern() pattern {
	p := literal(t.ARN)
	if t.Wild {
		p = compile(t.ARN, false, nil)
	}
	if t.Prefix {
		p = append(p, ptok{kind: tokAny})
	}
	return p
}

func (t Target) String() string {
	if t.Prefix {
		return t.ARN + "*"
	}
	return t.ARN
}

// Request is one question: may the caller perform Action on some resource
// in Target, with the condition keys in Context known (all others unknown
// and chosen by the caller)?
type Request struct {
	Action  string // "s3:GetObject"
	Target  Target
	Context Context
}

// Access is the answer for a request.
type Access int8

// The answers, ordered: Conditional means some request the caller can
// choose may be allowed, depending on condition keys the evaluator does
// not know (or a principal it cannot resolve).
const (
	Denied Access = iota
	Conditional
	Allowed
)

func (a Access) String() string {
	switch a {
	case Allowed:
		return "allowed"
	case Conditional:
		return "conditional"
	}
	return "denied"
}

// Ref names a statement of a policy.
type Ref struct {
	Policy    *Policy
	Statement *Statement
}

// Label is "POLICY/SID" or "POLICY/#N".
func (r Ref) Label() string {
	name := r.Policy.Name
	if name == "" {
		name = "policy"
	}
	return name + "/" + r.Statement.Label()
}

// Grant is an Allow statement that applies to the request.
type Grant struct {
	Ref
	Access Access
	// Identity is true for a statement of an identity-based policy.
	Identity bool
	// Delegated is true for a resource-policy grant to the caller's account:
	// it reaches the caller only through the account's identity policies.
	Delegated bool
	// Anonymous is true for a grant to "*" that an unsigned request gets.
	Anonymous bool
	// Deputy is true for a grant a service principal gets (see Deputy).
	Deputy bool
}

// Decision is the evaluator's answer with the statements behind it.
type Decision struct {
	Access Access
	// Grants are the Allow statements that decide Access (empty when
	// Denied).
	Grants []Grant
	// Blocked are Allow statements an explicit Deny overrides, and Denies
	// the Deny statements that override them.
	Blocked []Ref
	Denies  []Ref
	// Partial are Deny statements that apply to some requests only (their
	// conditions, principal or resources leave a way round them).
	Partial []Ref
	// Note explains a denial worth explaining (a cross-account grant the
	// identity side lacks).
	Note string
}

// Evaluator decides requests of one caller against one resource-based
// policy and the caller's identity-based policies.
//
// Source: IAM User Guide, "Policy evaluation logic", "Determining whether
// a request is allowed or denied within an account" and "Cross-account
// policy evaluation logic":
//   - an explicit Deny in any policy overrides every Allow;
//   - within one account, an Allow in the resource-based policy naming the
//     caller, or an Allow in an identity-based policy, suffices;
//   - across accounts, both the resource-based policy (naming the caller or
//     its account) and an identity-based policy must allow;
//   - a resource-based policy that names an account (its id or its root
//     ARN) delegates to that account: the grant reaches an IAM user only if
//     an identity-based policy of the user allows too;
//   - otherwise the request is implicitly denied.
//
// Permissions boundaries, SCPs, RCPs, session policies and ACLs only
// restrict (or, for ACLs, are disabled by default since April 2023); they
// are not evaluated, which can only overstate access.
type Evaluator struct {
	Caller          Caller
	ResourceAccount string  // the account that owns the resource
	Resource        *Policy // may be nil: no resource-based policy
	Identity        []*Policy
}

// Evaluate answers the request for the caller and also for an unsigned
// request: a thief holding the key can always send one, so a grant to "*"
// counts whatever the identity policies say.
func (e *Evaluator) Evaluate(req Request) Decision {
	d := e.evaluateAs(e.Caller, req)
	if d.Access == Allowed || e.Resource == nil {
		return d
	}
	anon := e.evaluateAs(Anonymous, req)
	if anon.Access > d.Access {
		for i := range anon.Grants {
			anon.Grants[i].Anonymous = true
		}
		d = anon
	}
	if d.Access == Allowed {
		return d
	}
	dep := e.evaluateAs(Deputy, req)
	// The deputy acts only where the service supports it and once the key
	// holder has set it up in an account of their own: conditional.
	dep.Access = min(dep.Access, Conditional)
	if dep.Access > d.Access {
		for i := range dep.Grants {
			dep.Grants[i].Deputy = true
			dep.Grants[i].Access = min(dep.Grants[i].Access, Conditional)
		}
		d = dep
	}
	return d
}

// principal match of a resource-policy statement for a caller.
type pmatch int8

const (
	pmNo      pmatch = iota
	pmMaybe          // names something that may be the caller (a unique id, a canonical user)
	pmAccount        // names the caller's account: delegation
	pmDirect         // names the caller, or "*"
)

func matchPrincipal(p *Principal, c Caller) pmatch {
	if p.Any {
		return pmDirect // "*" includes service principals
	}
	if c.Type == "Service" {
		// Any service named: the deputy stands for each of them.
		if len(p.Values["Service"]) > 0 || slices.Contains(p.Values["AWS"], "*") {
			return pmDirect
		}
		return pmNo
	}
	best := pmNo
	for _, v := range p.Values["AWS"] {
		best = max(best, matchAWSPrincipal(v, c))
	}
	if len(p.Values["CanonicalUser"]) > 0 && c.Type != "Anonymous" {
		// A canonical user id stands for an account; the evaluator cannot
		// tell which.
		best = max(best, pmMaybe)
	}
	return best
}

func matchAWSPrincipal(v string, c Caller) pmatch {
	if v == "*" {
		// Source: "AWS JSON policy elements: Principal": "Principal": "*"
		// and {"AWS": "*"} are equivalent and include anonymous users.
		return pmDirect
	}
	if c.Type == "Anonymous" {
		return pmNo
	}
	// An account id or root ARN names every principal of the account: "The
	// account ARN and the shortened account ID behave the same way. Both
	// delegate permissions to the account. Using the account ARN in the
	// Principal element does not limit permissions to only the root user"
	// ("AWS JSON policy elements: Principal", AWS account principals). An
	// Allow then still needs the account's identity policies; a Deny
	// applies to all of the account's principals.
	if reAccount.MatchString(v) {
		if v == c.Account {
			return pmAccount
		}
		return pmNo
	}
	if strings.HasPrefix(v, "arn:") {
		if v == c.ARN || (c.RoleARN != "" && sameRole(v, c.RoleARN)) {
			// A role names its sessions ("AWS JSON policy elements:
			// Principal", role principals and role session principals).
			return pmDirect
		}
		if c.RoleARN != "" && c.RoleARN == c.ARN && sessionOf(v, c.RoleARN) {
			// One session of the role the caller stands for: the session
			// name is the assumer's choice.
			return pmMaybe
		}
		if m := reCaller.FindStringSubmatch(v); m != nil && m[2] == "iam" && m[4] == "root" {
			if m[3] == c.Account {
				return pmAccount
			}
		}
		if foldNames(v, c) {
			return pmMaybe
		}
		return pmNo
	}
	// A unique id (AIDA..., AROA...): AWS shows one when the principal it
	// named was deleted; the evaluator cannot tell whose it is.
	return pmMaybe
}

// denyPrincipal is how surely a Deny statement of a resource-based policy
// applies to the caller.
func denyPrincipal(s *Statement, c Caller) pmatch {
	if !s.NotPrincipal {
		return matchPrincipal(s.Principal, c)
	}
	return notPrincipalDeny(s.Principal, c)
}

// notPrincipalDeny is how surely a Deny with NotPrincipal applies to the
// caller. Source: IAM User Guide, "AWS JSON policy elements: NotPrincipal"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
// the Deny applies to "all principals except for the ones specified"; in
// AWS's example NotPrincipal lists the user Bob and his account root, and
// "all principals except the user named Bob" are denied. Listing the account
// (its root ARN or id) exempts the account principal, not its other users;
// listing a role alongside its assumed-role session exempts that session.
// So the caller escapes only when the caller itself is listed: its user ARN,
// or its assumed-role session ARN. When only its role is listed, or a value
// the evaluator cannot resolve (a unique id, a canonical user), AWS's answer
// is not certain, and the Deny counts as partial.
func notPrincipalDeny(p *Principal, c Caller) pmatch {
	if p.Any {
		return pmNo
	}
	if c.Type == "Service" {
		// Listing any service (or "*") may exempt the deputy; listing only
		// AWS principals leaves it denied.
		if len(p.Values["Service"]) > 0 || slices.Contains(p.Values["AWS"], "*") {
			return pmNo
		}
		return pmDirect
	}
	maybe := false
	for _, v := range p.Values["AWS"] {
		switch {
		case v == "*":
			return pmNo
		case c.Type == "Anonymous":
			// An unsigned request is no listed principal.
		case v == c.ARN && c.Type != "Account":
			if c.RoleARN == "" || c.RoleARN != c.ARN {
				return pmNo // the user, or the session itself
			}
			// A role given as the caller stands for its sessions, whose
			// names the evaluator does not know.
			maybe = true
		case c.RoleARN != "" && (sameRole(v, c.RoleARN) || c.ARN == c.RoleARN && sessionOf(v, c.RoleARN)):
			maybe = true
		case v == c.ARN:
			return pmNo
		case foldNames(v, c):
			maybe = true // the caller's name in another case
		case reAccount.MatchString(v), strings.HasPrefix(v, "arn:"):
			// An account, or another principal: the caller stays denied.
		default:
			maybe = true // a unique id: whose, the evaluator cannot tell
		}
	}
	if len(p.Values["CanonicalUser"]) > 0 && c.Type != "Anonymous" {
		maybe = true
	}
	if maybe {
		return pmMaybe
	}
	return pmDirect
}

// foldNames reports that v names the caller (or its role) but for the case
// of the name. "IAM user, group, role, and policy names must be unique
// within the account. Names are not distinguished by case" (IAM API
// Reference, CreateUser,
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html),
// so such a principal may well be the caller: the evaluator cannot tell
// how AWS resolves it.
func foldNames(v string, c Caller) bool {
	return strings.EqualFold(v, c.ARN) || (c.RoleARN != "" && strings.EqualFold(v, c.RoleARN))
}

// sessionOf reports that v is an assumed-role session ARN of the role.
func sessionOf(v, roleARN string) bool {
	acct, name, ok := roleName(roleARN)
	if !ok {
		return false
	}
	m := reCaller.FindStringSubmatch(v)
	return m != nil && m[2] == "sts" && m[3] == acct && strings.HasPrefix(m[4], "assumed-role/"+name+"/")
}

// roleName splits a role ARN into its account and its name, without the
// path: role names are unique within an account whatever their path ("IAM
// identifiers", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html),
// and an assumed-role session ARN names the role without it.
func roleName(arn string) (acct, name string, ok bool) {
	m := reCaller.FindStringSubmatch(arn)
	if m == nil || m[2] != "iam" || !strings.HasPrefix(m[4], "role/") {
		return "", "", false
	}
	return m[3], m[4][strings.LastIndexByte(m[4], '/')+1:], true
}

// sameRole reports that two role ARNs name one role (paths aside).
func sameRole(a, b string) bool {
	aa, an, ok1 := roleName(a)
	ba, bn, ok2 := roleName(b)
	return ok1 && ok2 && aa == ba && an == bn
}

func actionMatches(s *Statement, action string) bool {
	hit := false
	for _, a := range s.Actions {
		// Action names are case-insensitive ("IAM JSON policy elements:
		// Action").
		if globMatch(a, action, true) {
			hit = true
			break
		}
	}
	return hit != s.NotAction
}

// resourcePatterns compiles a statement's Resource (or NotResource) list.
// Resource ARNs are case-sensitive; variables resolve from ctx under
// Version 2012-10-17.
func resourcePatterns(p *Policy, s *Statement, ctx *Context) []pattern {
	out := make([]pattern, len(s.Resources))
	for i, r := range s.Resources {
		out[i] = compile(r, p.Version == Version2012, ctx)
	}
	return out
}

// denyScope is an applicable Deny statement and what it surely covers.
type denyScope struct {
	ref      Ref
	pats     []pattern
	notRes   bool
	complete bool // principal and conditions apply to every request
}

// coversAll reports that the Deny applies to every resource in x.
func (d *denyScope) coversAll(x pattern) bool {
	if d.notRes {
		for _, p := range d.pats {
			if arnOverlaps(p, x) {
				return false
			}
		}
		return true
	}
	for _, p := range d.pats {
		if !p.hasVar() && arnCovers(p, x) {
			return true
		}
	}
	return false
}

// touches reports that the Deny may apply to some resource in x.
func (d *denyScope) touches(x pattern) bool {
	if d.notRes {
		for _, p := range d.pats {
			if !p.hasVar() && arnCovers(p, x) {
				return false
			}
		}
		return true
	}
	for _, p := range d.pats {
		if arnOverlaps(p, x) {
			return true
		}
	}
	return false
}

func (e *Evaluator) policies() []*Policy {
	var ps []*Policy
	if e.Resource != nil {
		ps = append(ps, e.Resource)
	}
	return append(ps, e.Identity...)
}

// evaluateAs decides req for caller c: the explicit Denies that apply
// first, then the Allows they do not override, then how the grants of
// each kind of policy combine for this caller.
func (e *Evaluator) evaluateAs(c Caller, req Request) Decision {
	ev := &evaluation{e: e, c: c, action: req.Action, target: req.Target.pattern(), ctx: requestContext(c, req, e.ResourceAccount)}
	ev.eachApplicable(Deny, ev.addDeny)
	ev.eachApplicable(Allow, ev.addAllow)
	ev.decide()
	return ev.d
}

// evaluation is one request being decided for one caller: what the steps
// of evaluateAs share.
type evaluation struct {
	e      *Evaluator
	c      Caller
	action string
	target pattern
	ctx    Context
	// denies are the complete Denies that apply (principal and conditions
	// hold for every request).
	denies []denyScope
	d      Decision
	// The strongest grant of each kind: a resource policy naming the
	// caller, a resource policy naming its account, an identity policy.
	resDirect, resAccount, ident Access
}

// requestContext is the request's context with the caller's keys and,
// for a concrete resource, the account that owns it (a wildcard target,
// every access point of any account, has no one owner).
func requestContext(c Caller, req Request, owner string) Context {
	ctx := c.keys(req.Context)
	if !req.Target.Wild {
		ctx = ctx.With("aws:ResourceAccount", Present(owner))
		ctx = ctx.With("s3:ResourceAccount", Present(owner))
	}
	return ctx
}

// eachApplicable calls f for each statement of effect that may apply to
// the request: its action matches, its principal may be the caller (pm
// says how), its conditions are not false (cond is True or Maybe). An
// external caller (anonymous, a service) has no identity policies.
func (ev *evaluation) eachApplicable(effect Effect, f func(p *Policy, s *Statement, pm pmatch, cond Truth)) {
	for _, p := range ev.e.policies() {
		if p.Kind == IdentityBased && ev.c.external() {
			continue
		}
		vars := p.Version == Version2012
		for _, s := range p.Statements {
			if s.Effect != effect || !actionMatches(s, ev.action) {
				continue
			}
			pm := pmDirect
			switch {
			case p.Kind == ResourceBased && effect == Deny:
				pm = denyPrincipal(s, ev.c)
			case p.Kind == ResourceBased:
				pm = matchPrincipal(s.Principal, ev.c)
			}
			if pm == pmNo {
				continue
			}
			cond := evalConditions(s.Conditions, vars, &ev.ctx)
			if cond == False {
				continue
			}
			f(p, s, pm, cond)
		}
	}
}

// addDeny records a Deny that may apply: as one that blocks Allows when
// it applies to every request, and as partial when it leaves a way round
// it (conditions, principal, or resources that do not cover the target).
func (ev *evaluation) addDeny(p *Policy, s *Statement, pm pmatch, cond Truth) {
	ds := denyScope{ref: Ref{p, s}, pats: resourcePatterns(p, s, &ev.ctx), notRes: s.NotResource,
		complete: cond == True && pm >= pmAccount}
	if !ds.touches(ev.target) {
		return
	}
	if ds.complete {
		ev.denies = append(ev.denies, ds)
	}
	if !ds.complete || !ds.coversAll(ev.target) {
		ev.d.Partial = append(ev.d.Partial, ds.ref)
	}
}

// addAllow records an Allow that reaches the target: blocked, with the
// Deny that blocks it, or as a grant of its kind.
func (ev *evaluation) addAllow(p *Policy, s *Statement, pm pmatch, cond Truth) {
	reach, ok := allowReach(s, resourcePatterns(p, s, &ev.ctx), ev.target)
	if !ok {
		return
	}
	ref := Ref{p, s}
	if ds := ev.blockedBy(reach); ds != nil {
		ev.d.Blocked = append(ev.d.Blocked, ref)
		if !containsRef(ev.d.Denies, ds.ref) {
			ev.d.Denies = append(ev.d.Denies, ds.ref)
		}
		return
	}
	acc := Allowed
	if cond == Maybe || pm == pmMaybe {
		acc = Conditional
	}
	g := Grant{Ref: ref, Access: acc, Identity: p.Kind == IdentityBased, Delegated: pm == pmAccount}
	ev.d.Grants = append(ev.d.Grants, g)
	switch {
	case g.Identity:
		ev.ident = max(ev.ident, acc)
	case g.Delegated:
		ev.resAccount = max(ev.resAccount, acc)
	default:
		ev.resDirect = max(ev.resDirect, acc)
	}
}

// allowReach says whether an Allow with resource patterns pats reaches
// the target, and with which of its own patterns (none for NotResource:
// it reaches the target unless it surely excludes all of it).
func allowReach(s *Statement, pats []pattern, target pattern) (reach []pattern, ok bool) {
	if s.NotResource {
		for _, x := range pats {
			if !x.hasVar() && arnCovers(x, target) {
				return nil, false
			}
		}
		return nil, true
	}
	for _, x := range pats {
		if arnOverlaps(x, target) {
			reach = append(reach, x)
		}
	}
	return reach, len(reach) > 0
}

// blockedBy returns the complete Deny that covers every resource the
// Allow reaches within the target, if any: one that covers the whole
// target, or one covering each of the Allow's patterns (the last found).
func (ev *evaluation) blockedBy(reach []pattern) *denyScope {
	for i := range ev.denies {
		if ev.denies[i].coversAll(ev.target) {
			return &ev.denies[i]
		}
	}
	if len(reach) == 0 {
		return nil
	}
	var last *denyScope
	for _, r := range reach {
		found := false
		for i := range ev.denies {
			if !r.hasVar() && ev.denies[i].coversAll(r) {
				found, last = true, &ev.denies[i]
				break
			}
		}
		if !found {
			return nil
		}
	}
	return last
}

// decide combines the grants for this caller into the access and keeps
// only the grants that decide it.
func (ev *evaluation) decide() {
	same := !ev.c.external() && ev.c.Account == ev.e.ResourceAccount
	d := &ev.d
	switch {
	case ev.c.external():
		d.Access = ev.resDirect
	case same:
		// Within one account the resource side alone grants only when it
		// names the caller; a grant to the account needs the identity side,
		// which grants on its own anyway.
		d.Access = max(ev.resDirect, ev.ident)
	default:
		d.Access = min(max(ev.resDirect, ev.resAccount), ev.ident)
		if d.Access == Denied && max(ev.resDirect, ev.resAccount) > Denied {
			d.Note = "cross-account: the resource policy allows, but no identity policy of the caller does"
		}
	}
	if d.Access == Denied {
		d.Grants = nil
		return
	}
	var keep []Grant
	for _, g := range d.Grants {
		if same && g.Delegated {
			continue // within one account it reaches the caller only through the identity side
		}
		keep = append(keep, g)
	}
	d.Grants = keep
}

func containsRef(list []Ref, r Ref) bool {
	for _, x := range list {
		if x.Statement == r.Statement && x.Policy == r.Policy {
			return true
		}
	}
	return false
}
