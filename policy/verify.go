package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/putonly/putonly/policy/iam"
)

// VerifyInput is what Verify checks: the bucket policy and the principal's
// identity policies, as parsed by package iam, and where the backups are.
type VerifyInput struct {
	// BucketPolicy is the bucket's policy (iam.ResourceBased). Nil means the
	// bucket has none.
	BucketPolicy *iam.Policy
	// IdentityPolicies are the policies attached to the principal, its
	// groups and (for a role) the role. Verify assumes they are all of them.
	IdentityPolicies []*iam.Policy
	// Principal is the backup key's IAM user (or role) ARN.
	Principal string
	// Bucket is the bucket name, Prefix the key prefix of the backups ("" for
	// the whole bucket).
	Bucket, Prefix string
	// BucketAccount owns the bucket; empty means the principal's account.
	BucketAccount string
	// SNSTopics are the topics the key may publish job events to, KMSKey
	// the key of SSE-KMS (an ARN): the only rights outside S3 a backup key
	// may hold without a violation, each on its own resource.
	SNSTopics []string
	KMSKey    string
	// Settings is the bucket's configuration; nil when not supplied, and
	// then the checks that need it are not made (see the assumptions).
	Settings *BucketSettings
	// RetentionDays is how long the admin wants backups kept: a lifecycle
	// rule expiring them sooner is a violation. 0 checks no expiry.
	RetentionDays int
}

// Severities of a finding. A violation fails verification; a warning fails
// it only in strict mode; info never does.
const (
	SeverityViolation = "violation"
	SeverityWarning   = "warning"
	SeverityInfo      = "info"
)

// Verdicts of a verification.
const (
	VerdictPass = "pass" // no violation, no warning
	VerdictWarn = "warn" // warnings only
	VerdictFail = "fail" // at least one violation
)

// VerifyFinding is one thing verification found.
type VerifyFinding struct {
	Action    string `json:"action"`    // "s3:GetObject", or the warning's subject
	Effect    string `json:"effect"`    // "allow", "conditional" or "deny"
	Statement string `json:"statement"` // "bucket/Sid" or "FILE/#N", comma-separated when several
	Reason    string `json:"reason"`
	Severity  string `json:"severity"` // SeverityViolation, SeverityWarning or SeverityInfo
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Verdict       string
	Findings      []VerifyFinding
	BucketAccount string
	// Assumptions says what the answer rests on: which policies were and
	// were not evaluated, and how unknown condition keys were treated.
	Assumptions []string
}

// Exit is the command's exit status for the result: 1 for a violation (or,
// with strict, a warning), else 0.
func (r *VerifyResult) Exit(strict bool) int {
	switch {
	case r.Verdict == VerdictFail:
		return 1
	case r.Verdict == VerdictWarn && strict:
		return 1
	}
	return 0
}

// Verify decides, for every action of the catalogue, whether the principal
// can perform it on the bucket or on any object under Bucket/Prefix, and
// reports:
//   - a violation for every read, destroy or escalate action the principal
//     may perform, or might perform (an Allow whose conditions the caller
//     could satisfy: effect "conditional");
//   - a warning for a list action (an existence oracle: with ListBucket,
//     GetObject on a missing key answers 404 rather than 403), for any other
//     action putonly does not need, and when the policies do not require TLS,
//     do not prevent overwrites (If-None-Match) or leave server-side
//     encryption to the request;
//   - info when putonly itself could not upload.
//
// Account-level actions (those with no bucket or object resource, such as
// s3:CreateJob or s3:PutAccessPointPolicy) are checked against every
// resource of their type: a grant of them reaches the bucket indirectly.
func Verify(in VerifyInput) (*VerifyResult, error) {
	caller, err := iam.ParseCaller(in.Principal)
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	if caller.Type == "Account" {
		// The root user of the bucket's account can always change the
		// bucket policy, and a root user elsewhere acts as its account:
		// neither is a backup key.
		return nil, fmt.Errorf("principal %q is an account root user; verify the IAM user (or role) that holds the backup key", in.Principal)
	}
	if in.Bucket == "" {
		return nil, errors.New("bucket: required")
	}
	if strings.ContainsAny(in.Bucket, "/*?:") {
		return nil, fmt.Errorf("bucket %q: a bucket name, not an ARN or a path", in.Bucket)
	}
	owner := in.BucketAccount
	if owner == "" {
		owner = caller.Account
	}
	e := &iam.Evaluator{Caller: caller, ResourceAccount: owner, Resource: in.BucketPolicy, Identity: in.IdentityPolicies}
	v := &verifier{in: in, e: e, partition: verPartition(in.Principal)}
	res := &VerifyResult{BucketAccount: owner}

	var needed []string // needed actions the principal has
	for _, a := range Actions() {
		d, target := v.decide(a, iam.Context{})
		if d.Access == iam.Denied {
			continue
		}
		f := VerifyFinding{Action: a.Name, Effect: verEffect(d.Access), Statement: verGrantLabels(d)}
		why := verWhy(d, target)
		switch a.Class {
		case ClassRead, ClassDestroy, ClassEscalate:
			f.Severity = SeverityViolation
			f.Reason = fmt.Sprintf("%s: %s %s", a.Class, verTrimDot(a.Reason), why)
		case ClassList:
			f.Severity = SeverityWarning
			f.Reason = fmt.Sprintf("existence oracle: %s %s", verTrimDot(a.Reason), why)
		case ClassNeeded:
			needed = append(needed, a.Name)
			continue
		default:
			f.Severity = SeverityWarning
			f.Reason = fmt.Sprintf("more than putonly needs: %s %s", verTrimDot(a.Reason), why)
		}
		res.Findings = append(res.Findings, f)
	}
	res.Findings = append(res.Findings, v.unknownS3()...)
	res.Findings = append(res.Findings, v.beyondFindings()...)
	res.Findings = append(res.Findings, v.hardening(needed)...)
	res.Findings = append(res.Findings, v.settingsFindings()...)
	res.Assumptions = v.assumptions(owner, caller.Account)

	res.Verdict = VerdictPass
	for _, f := range res.Findings {
		switch f.Severity {
		case SeverityViolation:
			res.Verdict = VerdictFail
		case SeverityWarning:
			if res.Verdict == VerdictPass {
				res.Verdict = VerdictWarn
			}
		}
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		return verSeverityRank(res.Findings[i].Severity) < verSeverityRank(res.Findings[j].Severity)
	})
	return res, nil
}

type verifier struct {
	in        VerifyInput
	e         *iam.Evaluator
	partition string
	overwrite bool // an upload without If-None-Match is allowed
}

// decide evaluates the action on each resource type it applies to and
// returns the most permissive answer and its target.
func (v *verifier) decide(a Action, ctx iam.Context) (iam.Decision, iam.Target) {
	var best iam.Decision
	var bestT iam.Target
	first := true
	for _, t := range v.targets(a) {
		d := v.e.Evaluate(iam.Request{Action: a.Name, Target: t, Context: ctx})
		if first || d.Access > best.Access {
			best, bestT, first = d, t, false
		}
		if best.Access == iam.Allowed {
			break
		}
	}
	return best, bestT
}

// verResourceARNs are the ARN patterns of the S3 resource types other than
// bucket and object, from the data's resource_types (../shared/data/s3-actions.json),
// with every ${...} part a wildcard.
var verResourceARNs = map[string]string{
	"accessgrant":                      "arn:%s:s3:*:*:access-grants/default/grant/*",
	"accessgrantsinstance":             "arn:%s:s3:*:*:access-grants/default",
	"accessgrantslocation":             "arn:%s:s3:*:*:access-grants/default/location/*",
	"accesspoint":                      "arn:%s:s3:*:*:accesspoint/*",
	"job":                              "arn:%s:s3:*:*:job/*",
	"multiregionaccesspoint":           "arn:%s:s3::*:accesspoint/*",
	"multiregionaccesspointrequestarn": "arn:%s:s3:*:*:async-request/mrap/*",
	"objectlambdaaccesspoint":          "arn:%s:s3-object-lambda:*:*:accesspoint/*",
	"storagelensconfiguration":         "arn:%s:s3:*:*:storage-lens/*",
	"storagelensgroup":                 "arn:%s:s3:*:*:storage-lens-group/*",
}

// targets are the resources an action is checked on: the bucket and the
// objects under the prefix for an action on buckets or objects; every
// resource of its type for an account-level action (an access point, a
// Batch Operations job: a grant of those reaches the bucket indirectly);
// the resource "*" for an action without resource types. Requests through
// access points are not evaluated (see assumptions).
func (v *verifier) targets(a Action) []iam.Target {
	bucketARN := "arn:" + v.partition + ":s3:::" + v.in.Bucket
	var out []iam.Target
	for _, r := range a.Resources {
		switch strings.TrimSuffix(r, "*") {
		case "bucket":
			out = append(out, iam.Target{ARN: bucketARN})
		case "object":
			out = append(out, iam.Target{ARN: bucketARN + "/" + v.in.Prefix, Prefix: true})
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, r := range a.Resources {
		if pat, ok := verResourceARNs[strings.TrimSuffix(r, "*")]; ok {
			out = append(out, iam.Target{ARN: fmt.Sprintf(pat, v.partition), Wild: true})
		} else {
			out = append(out, iam.Target{ARN: "*", Wild: true})
		}
	}
	if len(out) == 0 {
		// An action without resource-level permissions is granted only by
		// a statement whose Resource is "*" (IAM User Guide, "IAM JSON
		// policy elements: Resource"): the request names the resource "*".
		out = append(out, iam.Target{ARN: "*"})
	}
	return out
}

// hardening checks the request-shape protections on uploads: TLS, no
// overwrite, encryption. Each is a question "can the key still upload when
// the request is made this way?", answered with the condition keys of that
// request known and every other key left to the caller.
func (v *verifier) hardening(needed []string) []VerifyFinding {
	put, ok := LookupAction("s3:PutObject")
	if !ok {
		return nil
	}
	base, _ := v.decide(put, iam.Context{})
	if base.Access == iam.Denied {
		return []VerifyFinding{{Action: put.Name, Effect: "deny", Statement: verRefLabels(base.Denies),
			Severity: SeverityInfo, Reason: "putonly cannot upload: s3:PutObject is not allowed on " + v.objectsText()}}
	}
	var out []VerifyFinding
	allows := func(ctx iam.Context) (iam.Decision, bool) {
		d, _ := v.decide(put, ctx)
		return d, d.Access != iam.Denied
	}

	// TLS: aws:SecureTransport is "false" on a plain HTTP request ("AWS
	// global condition context keys"; S3 User Guide, "Bucket policy
	// examples": deny requests that are not TLS). Checked for every action
	// the key has, not only uploads.
	noTLS := iam.Context{}.With("aws:SecureTransport", iam.Present("false"))
	for _, name := range append(needed, v.listed()...) {
		a, ok := LookupAction(name)
		if !ok {
			continue
		}
		if d, _ := v.decide(a, noTLS); d.Access != iam.Denied {
			out = append(out, VerifyFinding{Action: name, Effect: verEffect(d.Access), Statement: verGrantLabels(d),
				Severity: SeverityWarning, Reason: "TLS not required: no Deny on aws:SecureTransport = false covers this action, so the key works over plain HTTP"})
		}
	}

	// Overwrite: PutObject and CompleteMultipartUpload carry
	// s3:ObjectCreationOperation = true, and If-None-Match: * makes S3
	// refuse to replace an existing key (S3 User Guide, "Enforce
	// conditional writes on Amazon S3 buckets").
	overwrite := iam.Context{}.With("s3:ObjectCreationOperation", iam.Present("true")).With("s3:if-none-match", iam.Absent)
	if d, ok := allows(overwrite); ok {
		v.overwrite = true
		f := VerifyFinding{Action: put.Name, Effect: verEffect(d.Access), Statement: verGrantLabels(d),
			Severity: SeverityWarning, Reason: "overwrite not prevented: an upload without If-None-Match: * is allowed, so the key can replace an existing backup (unless versioning or object lock keeps the old one)"}
		switch st := v.in.Settings; {
		case st != nil && !st.keepsOldVersions():
			// Without versioning an overwrite replaces the object: "If you
			// don't enable versioning, ... the new object overwrites the
			// existing one" ("Retaining multiple versions of objects with S3
			// Versioning", S3 User Guide,
			// https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html).
			f.Severity = SeverityViolation
			f.Reason = "destroy: overwrite not prevented and the bucket has neither versioning nor object lock (versioning " + verVersioningText(st.Versioning) + "): an upload without If-None-Match: * replaces a backup, and the old one is gone"
		case st != nil:
			f.Reason = "overwrite not prevented: an upload without If-None-Match: * is allowed; versioning keeps the replaced backup as a noncurrent version, for as long as the lifecycle keeps noncurrent versions"
		}
		out = append(out, f)
	}

	// Encryption: required when an upload without the SSE header is denied,
	// or when the policy pins one algorithm by denying the other two (S3
	// User Guide, "Amazon S3 condition key examples": require server-side
	// encryption). The header cannot be required without breaking multipart
	// uploads (UploadPart does not carry it), so a policy that denies every
	// other algorithm and leaves the absent header to the bucket's default
	// encryption counts as requiring it.
	const sse = "s3:x-amz-server-side-encryption"
	if d, absentOK := allows(iam.Context{}.With(sse, iam.Absent)); absentOK {
		var algos []string
		for _, algo := range []string{"AES256", "aws:kms", "aws:kms:dsse"} {
			if _, ok := allows(iam.Context{}.With(sse, iam.Present(algo))); ok {
				algos = append(algos, algo)
			}
		}
		if len(algos) > 1 {
			out = append(out, VerifyFinding{Action: put.Name, Effect: verEffect(d.Access), Statement: verGrantLabels(d),
				Severity: SeverityWarning, Reason: "SSE not required: uploads are allowed without an x-amz-server-side-encryption header and with any of " + strings.Join(algos, ", ") + "; only the bucket's default encryption applies"})
		}
	}
	return out
}

// listed is the list actions the key has, for the TLS check.
func (v *verifier) listed() []string {
	var out []string
	for _, a := range Actions() {
		if a.Class == ClassList {
			if d, _ := v.decide(a, iam.Context{}); d.Access != iam.Denied {
				out = append(out, a.Name)
			}
		}
	}
	return out
}

func (v *verifier) objectsText() string {
	return "s3://" + v.in.Bucket + "/" + v.in.Prefix
}

func (v *verifier) assumptions(owner, callerAccount string) []string {
	var as []string
	if v.in.BucketPolicy == nil {
		as = append(as, "no bucket policy was supplied: the bucket is assumed to have none")
	}
	if n := len(v.in.IdentityPolicies); n == 0 {
		as = append(as, "no identity policy was supplied: the principal is assumed to have none (a grant to its account in the bucket policy then reaches it only through one)")
	} else {
		var names []string
		for _, p := range v.in.IdentityPolicies {
			names = append(names, p.Name)
		}
		as = append(as, "identity policies supplied: "+strings.Join(names, ", ")+"; they are assumed to be every policy attached to the principal and its groups")
	}
	if v.in.Settings == nil {
		as = append(as, "no bucket settings were supplied (--bucket-settings): versioning, object lock, default encryption, blocked SSE-C, ACLs (assumed disabled), Block Public Access and lifecycle were not checked")
	} else {
		var files []string
		for _, d := range v.in.Settings.Documents {
			if d.SHA256 == "" {
				files = append(files, d.Name+" (absent: not configured)")
			} else {
				files = append(files, d.Name)
			}
		}
		as = append(as, "bucket settings supplied: "+strings.Join(files, ", "))
	}
	if owner == callerAccount {
		as = append(as, "same account ("+owner+"): an Allow in the bucket policy naming the principal, or in an identity policy, suffices")
	} else {
		as = append(as, "cross-account (principal in "+callerAccount+", bucket in "+owner+"): both the bucket policy and an identity policy must allow")
	}
	as = append(as,
		"condition keys the request carries (headers, source address, time, tags) are assumed chosen by whoever holds the key; aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType and aws:username are taken from --principal, s3:ResourceAccount from the bucket account",
		"unsigned (anonymous) requests are evaluated too: a grant to \"*\" needs no identity policy",
		"not evaluated: access point and Multi-Region Access Point policies, permissions boundaries, SCPs, RCPs and session policies (all of which can only remove access: not needed for a fail, not read for this pass), and KMS key policies",
		"actions outside S3: every action an identity policy can grant (wildcards, NotAction, unknown services included) is checked; only sns:Publish on the --sns-topic topics and kms:GenerateDataKey/kms:Decrypt on the --kms-key key pass",
		"catalogue: "+CatalogueSource(),
	)
	return as
}

func verEffect(a iam.Access) string {
	switch a {
	case iam.Allowed:
		return "allow"
	case iam.Conditional:
		return "conditional"
	}
	return "deny"
}

func verGrantLabels(d iam.Decision) string {
	var refs []iam.Ref
	for _, g := range d.Grants {
		refs = append(refs, g.Ref)
	}
	return verRefLabels(refs)
}

func verRefLabels(refs []iam.Ref) string {
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		if l := r.Label(); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return strings.Join(out, ", ")
}

// verWhy says how the action is reached: on what, through which side, and
// what makes it conditional or partial.
func verWhy(d iam.Decision, t iam.Target) string {
	var parts []string
	var sides []string
	for _, g := range d.Grants {
		s := g.Label()
		switch {
		case g.Deputy:
			s += " (to an AWS service, which acts for whoever directs it: any account unless aws:SourceArn or aws:SourceAccount pins it, and then whoever that resource serves)"
		case g.Anonymous || verToAnyone(g.Statement):
			s += " (to anyone, unsigned requests included)"
		case g.Identity:
			s += " (identity policy)"
		case g.Delegated:
			s += " (to the principal's account)"
		}
		if g.Access == iam.Conditional {
			s += " under conditions the caller may meet"
		}
		sides = append(sides, s)
	}
	parts = append(parts, fmt.Sprintf("(on %s, allowed by %s", t, strings.Join(sides, " and ")))
	if len(d.Partial) > 0 {
		parts = append(parts, "; "+verRefLabels(d.Partial)+" denies only some requests")
	}
	return strings.Join(parts, "") + ")"
}

// verToAnyone reports a statement whose Principal is "*" or {"AWS": "*"}.
func verToAnyone(s *iam.Statement) bool {
	if s.Principal == nil {
		return false
	}
	if s.Principal.Any {
		return true
	}
	for _, v := range s.Principal.Values["AWS"] {
		if v == "*" {
			return true
		}
	}
	return false
}

func verTrimDot(s string) string { return strings.TrimSuffix(s, ".") }

func verSeverityRank(s string) int {
	switch s {
	case SeverityViolation:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// verPartition is the ARN partition of the principal: aws, aws-cn, ...
func verPartition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) == 3 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}
