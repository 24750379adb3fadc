package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/putonly/putonly/internal/s3name"
	"github.com/putonly/putonly/policy/iam"
)

// GenerateOptions describes the bucket and the backup key the generated
// documents are for. The zero value of every optional field is the safe
// default. Validate reports every problem, naming the flag.
type GenerateOptions struct {
	// Bucket is the S3 bucket name (--bucket).
	Bucket string
	// Principal is the backup user's ARN, arn:aws:iam::ACCOUNT:user/NAME
	// (--principal). With Fleet it is a user path pattern instead,
	// arn:aws:iam::ACCOUNT:user/PATH/*: every user under that path.
	Principal string
	// Prefix confines the writes to keys starting with it (--prefix). Empty
	// means the whole bucket; otherwise it ends in "/".
	Prefix string
	// AllowList also allows s3:ListBucket, as the seed policy does
	// (--allow-list). It lets the key learn whether an object exists: S3
	// answers 404 rather than 403 to a GetObject on a missing key.
	AllowList bool
	// KMSKeyARN, if set, requires SSE-KMS with this key instead of SSE-S3
	// (--kms-key).
	KMSKeyARN string
	// ObjectLockDays, if positive, is the bucket's default retention
	// (--object-lock), and the cap on the retention a request may set.
	ObjectLockDays int
	// ObjectLockMode is "GOVERNANCE" or "COMPLIANCE" (--object-lock-mode);
	// empty means GOVERNANCE.
	ObjectLockMode string
	// Fleet writes one policy for many hosts, each user confined to
	// Prefix + "${aws:username}/" (--fleet).
	Fleet bool
	// Region is the bucket's Region, used by the set-up outputs (--region).
	// Empty means the AWS CLI's configured Region.
	Region string
	// Lifecycle holds the lifecycle rules (--expire, --abort-incomplete,
	// --transition, --noncurrent-days).
	Lifecycle LifecycleOptions
	// SNSTopics are the topics the agent publishes job events to (the
	// daemon's sns: notifications; --sns-topic). The user policy then
	// allows exactly sns:Publish on them, nothing else of SNS.
	SNSTopics []string
}

// OptionError is a bad option: the flag, the value and how to fix it.
type OptionError struct {
	Flag  string // "--bucket"
	Value string
	Msg   string // what is wrong
	Fix   string // what to do instead
}

func (e *OptionError) Error() string {
	s := fmt.Sprintf("%s %q: %s", e.Flag, e.Value, e.Msg)
	if e.Fix != "" {
		s += "\n\t" + e.Fix
	}
	return s
}

var (
	genPrincipalRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):user/((?:[\x21-\x7e]+/)*)([\w+=,.@-]{1,64})$`)
	genFleetRE     = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):user/((?:[\w+=,.@-]+/)+)\*$`)
	genKMSRE       = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):kms:([a-z]{2}(?:-[a-z]+)+-[0-9]):([0-9]{12}):key/((?:mrk-)?[0-9a-f-]{32,36})$`)
	genRegionRE    = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]$`)
	genSNSRE       = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):sns:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

// Validate checks every option and returns all problems at once, each an
// *OptionError.
func (o GenerateOptions) Validate() error {
	var errs []error
	add := func(flag, value, msg, fix string) {
		errs = append(errs, &OptionError{Flag: flag, Value: value, Msg: msg, Fix: fix})
	}
	if msg := genCheckBucket(o.Bucket); msg != "" {
		add("--bucket", o.Bucket, msg, "use the general purpose bucket's name as S3 shows it, e.g. --bucket acme-db-backups")
	}
	switch {
	case o.Fleet && !genFleetRE.MatchString(o.Principal):
		add("--principal", o.Principal, "with --fleet, the principal is the IAM path of the backup users followed by /*",
			"e.g. --principal arn:aws:iam::123456789012:user/putonly/* (create each host's user with --path /putonly/)")
	case !o.Fleet && (!genPrincipalRE.MatchString(o.Principal) || strings.ContainsAny(o.Principal, "*?$")):
		msg := "not an IAM user ARN"
		switch {
		case strings.HasSuffix(o.Principal, "/*"):
			msg = "a path pattern: add --fleet for many users, or name one user"
		case strings.Contains(o.Principal, ":role/"):
			msg = "a role ARN: putonly's key belongs to an IAM user"
		}
		add("--principal", o.Principal, msg, "e.g. --principal arn:aws:iam::123456789012:user/putonly-db1")
	}
	if msg := genCheckPrefix(o.Prefix); msg != "" {
		add("--prefix", o.Prefix, msg, "e.g. --prefix db1/ (or leave it out to use the whole bucket)")
	}
	for _, t := range o.SNSTopics {
		if !genSNSRE.MatchString(t) {
			add("--sns-topic", t, "not an SNS topic ARN", "e.g. --sns-topic arn:aws:sns:eu-west-1:123456789012:backups-prod (the daemon's sns: destination)")
		}
	}
	if o.KMSKeyARN != "" {
		m := genKMSRE.FindStringSubmatch(o.KMSKeyARN)
		switch {
		case strings.Contains(o.KMSKeyARN, "alias/"):
			add("--kms-key", o.KMSKeyARN, "an alias: the condition key s3:x-amz-server-side-encryption-aws-kms-key-id compares key ARNs",
				"give the key's ARN: aws kms describe-key --key-id alias/NAME --query KeyMetadata.Arn")
		case m == nil:
			add("--kms-key", o.KMSKeyARN, "not a KMS key ARN", "e.g. --kms-key arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
		case o.Region != "" && m[2] != o.Region:
			add("--kms-key", o.KMSKeyARN, fmt.Sprintf("the key is in %s but --region is %s: S3 uses only keys in the bucket's Region", m[2], o.Region),
				"use a key in the bucket's Region")
		}
	}
	if o.Region != "" && !genRegionRE.MatchString(o.Region) {
		add("--region", o.Region, "not an AWS Region name", "e.g. --region eu-west-1")
	}
	switch {
	case o.ObjectLockDays < 0 || o.ObjectLockDays > 36500:
		add("--object-lock", strconv.Itoa(o.ObjectLockDays), "retention must be 1 to 36500 days", "e.g. --object-lock 35")
	case o.ObjectLockDays == 0 && o.ObjectLockMode != "":
		add("--object-lock-mode", o.ObjectLockMode, "given without --object-lock DAYS", "add e.g. --object-lock 35")
	}
	if o.ObjectLockMode != "" && o.objectLockMode() != "GOVERNANCE" && o.objectLockMode() != "COMPLIANCE" {
		add("--object-lock-mode", o.ObjectLockMode, "must be governance or compliance",
			"governance: users with s3:BypassGovernanceRetention can still delete early; compliance: nobody can, not even the root user")
	}
	errs = append(errs, o.Lifecycle.validate(o.ObjectLockDays, o.Fleet)...)
	return errors.Join(errs...)
}

// genCheckBucket returns what is wrong with a general purpose bucket name,
// or "": the agent checks its bucket with the same function (internal/s3name).
func genCheckBucket(b string) string {
	if err := s3name.CheckBucket(b); err != nil {
		return err.Error()
	}
	return ""
}

// genCheckPrefix returns what is wrong with a key prefix, or "", as the
// agent sees it (internal/s3name).
func genCheckPrefix(p string) string {
	if err := s3name.CheckPrefix(p); err != nil {
		return err.Error()
	}
	return ""
}

func (o GenerateOptions) objectLockMode() string {
	if o.ObjectLockMode == "" {
		return "GOVERNANCE"
	}
	return strings.ToUpper(o.ObjectLockMode)
}

// partition is the ARN partition of the principal: aws, aws-cn or aws-us-gov.
func (o GenerateOptions) partition() string {
	if p, _, ok := strings.Cut(strings.TrimPrefix(o.Principal, "arn:"), ":"); ok && p != "" {
		return p
	}
	return "aws"
}

func (o GenerateOptions) account() string {
	parts := strings.SplitN(o.Principal, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// userName and userPath split the principal ARN: user/putonly/db1 is the
// user db1 with the path /putonly/.
func (o GenerateOptions) userName() string {
	_, rest, _ := strings.Cut(o.Principal, ":user/")
	return rest[strings.LastIndex(rest, "/")+1:]
}

func (o GenerateOptions) userPath() string {
	_, rest, _ := strings.Cut(o.Principal, ":user/")
	return "/" + rest[:strings.LastIndex(rest, "/")+1]
}

func (o GenerateOptions) bucketARN() string {
	return "arn:" + o.partition() + ":s3:::" + o.Bucket
}

// writeARN is the object ARN pattern the key may write: B/P* or, in a
// fleet, B/P${aws:username}/*.
func (o GenerateOptions) writeARN() string {
	if o.Fleet {
		return o.bucketARN() + "/" + o.Prefix + "${aws:username}/*"
	}
	return o.bucketARN() + "/" + o.Prefix + "*"
}

// listCondition confines s3:ListBucket to the keys the principal writes,
// or is nil for the whole bucket.
func (o GenerateOptions) listCondition() genCond {
	switch {
	case o.Fleet:
		return genCond{"StringLike": {"s3:prefix": o.Prefix + "${aws:username}/*"}}
	case o.Prefix != "":
		return genCond{"StringLike": {"s3:prefix": o.Prefix + "*"}}
	}
	return nil
}

// The documents generate writes are iam.Policy values, the model the
// evaluator parses into: what is generated is what verify judges
// (iam.Policy.MarshalJSON writes them; field order is the order AWS's own
// examples use, Condition blocks in sorted order, so the output is
// stable).

// genDoc is the policy document of kind with these statements, numbered
// as Parse numbers them.
func genDoc(kind iam.Kind, st []*iam.Statement) *iam.Policy {
	for i, s := range st {
		s.Index = i + 1
	}
	return &iam.Policy{Kind: kind, Version: iam.Version2012, Statements: st}
}

// genAWS is the Principal element {"AWS": arn}; genAnyone is "*".
func genAWS(arn string) *iam.Principal {
	return &iam.Principal{Values: map[string][]string{"AWS": {arn}}}
}

var genAnyone = &iam.Principal{Any: true}

// genCond is a Condition block as the generator writes it: operator, key,
// value.
type genCond map[string]map[string]string

// conditions are c's tests, in the order MarshalJSON writes them. The
// blocks are this file's own literals: an operator iam does not know is a
// bug of the generator, caught by every golden test.
func (c genCond) conditions() []iam.Condition {
	var out []iam.Condition
	for op, kv := range c {
		for k, v := range kv {
			cond, err := iam.NewCondition(op, k, v)
			if err != nil {
				panic("policy: generated condition: " + err.Error())
			}
			out = append(out, cond)
		}
	}
	iam.SortConditions(out)
	return out
}

// genJSON marshals v with two-space indentation and a final newline, without
// escaping <, > and & (nothing here is embedded in HTML).
func genJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// BucketPolicyMaxBytes is S3's limit on the size of a bucket policy.
// "Bucket policies are limited to 20 KB in size": Bucket policies for
// Amazon S3, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
const BucketPolicyMaxBytes = 20 * 1024

// ManagedPolicyMaxChars is IAM's limit on a customer managed policy, not
// counting white space: "IAM and AWS STS quotas",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
// (an inline user policy may have only 2,048, too few for the Deny list).
const ManagedPolicyMaxChars = 6144

// GenerateBucketPolicy returns the hardened write-only bucket policy.
//
// Statements, in order:
//   - Allow the principal s3:GetBucketLocation on the bucket, and
//     s3:PutObject and s3:AbortMultipartUpload under the prefix (and
//     s3:ListBucket with AllowList);
//   - Deny everyone requests without TLS, or below TLS 1.2;
//   - Deny the principal creating an object without If-None-Match: *;
//   - Deny the principal any server-side encryption but the chosen one, and
//     customer-provided keys (SSE-C);
//   - with object lock, Deny the principal a retention above the default;
//   - Deny the principal every read, destroy and escalate action of the
//     catalogue that applies to a bucket or an object.
//
// The reasons, with their sources, are at each statement below.
func GenerateBucketPolicy(o GenerateOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return genJSON(o.bucketPolicy())
}

func (o GenerateOptions) bucketPolicy() *iam.Policy {
	who, denyWho, cond := o.principalElement()
	bucket, objects := o.bucketARN(), o.bucketARN()+"/*"
	var st []*iam.Statement

	st = append(st, &iam.Statement{
		Sid: "PutonlyLocateBucket", Effect: iam.Allow, Principal: who,
		Actions: []string{"s3:GetBucketLocation"}, Resources: []string{bucket}, Conditions: cond.conditions(),
	})
	if o.AllowList {
		// The seed policy's ListBucket, confined to the prefix when there
		// is one. It is a "list" action: the verifier warns about it.
		st = append(st, &iam.Statement{
			Sid: "PutonlyListBackups", Effect: iam.Allow, Principal: who,
			Actions: []string{"s3:ListBucket"}, Resources: []string{bucket}, Conditions: genMerge(cond, o.listCondition()).conditions(),
		})
	}
	st = append(st, &iam.Statement{
		// s3:PutObject authorises PutObject, CreateMultipartUpload,
		// UploadPart and CompleteMultipartUpload; AbortMultipartUpload is
		// its own action. "Required permissions for Amazon S3 API
		// operations", S3 User Guide,
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
		Sid: "PutonlyWriteBackups", Effect: iam.Allow, Principal: who,
		Actions: []string{"s3:AbortMultipartUpload", "s3:PutObject"}, Resources: []string{o.writeARN()}, Conditions: cond.conditions(),
	})

	st = append(st, genTLSStatements(bucket, objects)...)
	st = append(st, o.genWriteConditionStatements(denyWho, cond, objects)...)

	deny := genBucketScoped(ActionsOfClass(ClassRead, ClassDestroy, ClassEscalate))
	st = append(st, &iam.Statement{
		// An explicit Deny wins over any Allow, so a later over-broad
		// grant (s3:* in an identity policy, an ACL) still cannot read,
		// delete or re-permission: "Policy evaluation logic", IAM User
		// Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
		// Only actions that apply to a bucket or an object: S3 rejects a
		// bucket policy statement whose action applies to none of its
		// resources ("Action does not apply to any resource(s) in
		// statement"). The account-level ones are denied in the user
		// policy.
		Sid: "DenyReadDestroyEscalate", Effect: iam.Deny, Principal: denyWho,
		Actions: deny, Resources: []string{bucket, objects}, Conditions: cond.conditions(),
	})
	return genDoc(iam.ResourceBased, st)
}

// principalElement returns the Principal element of the Allow and of the
// Deny statements and, for a fleet, the condition that picks the fleet's
// users.
//
// A fleet cannot list its users in Principal (it accepts no wildcards, and
// a few hundred ARNs would pass the 20 KB limit), so its Allow statements
// name the account and require aws:PrincipalArn to match the users' path.
// That keeps the policy non-public for Block Public Access, which counts a
// fixed account principal as non-public and a wildcard aws:PrincipalArn
// with Principal "*" as public ("The meaning of 'public'", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
// Its Deny statements use Principal "*" with the same condition, which
// matches every caller whose ARN matches, whatever the account delegation
// rules; a Deny never makes a policy public.
func (o GenerateOptions) principalElement() (allow, deny *iam.Principal, cond genCond) {
	if !o.Fleet {
		p := genAWS(o.Principal)
		return p, p, nil
	}
	root := "arn:" + o.partition() + ":iam::" + o.account() + ":root"
	return genAWS(root), genAnyone, genCond{"ArnLike": {"aws:PrincipalArn": o.Principal}}
}

// genTLSStatements denies requests to the bucket without TLS or below TLS
// 1.2, for every principal: restores travel over the same endpoint.
//
// aws:SecureTransport is false for plain HTTP ("AWS global condition
// context keys", IAM User Guide); s3:TlsVersion is a Numeric key ("Amazon
// S3 condition key examples", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html#example-object-tls-version).
// Both conditions are false when their key is absent (non-negated
// operators), so neither can deny a request that did use TLS 1.2+.
func genTLSStatements(bucket, objects string) []*iam.Statement {
	return []*iam.Statement{
		{
			Sid: "DenyWithoutTLS", Effect: iam.Deny, Principal: genAnyone, Actions: []string{"s3:*"}, Resources: []string{bucket, objects},
			Conditions: genCond{"Bool": {"aws:SecureTransport": "false"}}.conditions(),
		},
		{
			Sid: "DenyTLSBelow12", Effect: iam.Deny, Principal: genAnyone, Actions: []string{"s3:*"}, Resources: []string{bucket, objects},
			Conditions: genCond{"NumericLessThan": {"s3:TlsVersion": "1.2"}}.conditions(),
		},
	}
}

// genWriteConditionStatements are the Deny statements that shape what the
// key may write: no overwrite, only the chosen encryption, no retention
// beyond the cap.
//
// Which request carries which key decides whether a statement breaks
// multipart uploads. All four upload calls are authorised as s3:PutObject:
//
//	call                     If-None-Match  x-amz-server-side-encryption  s3:ObjectCreationOperation
//	PutObject                yes (putonly)  yes                           true
//	CreateMultipartUpload    not accepted   yes                           false
//	UploadPart               not accepted   not accepted                  false
//	CompleteMultipartUpload  yes (putonly)  not accepted                  true
//
// s3:ObjectCreationOperation: "For multipart uploads you must specify the
// s3:ObjectCreationOperation condition key to exempt the
// CreateMultipartUpload, UploadPart, and UploadPartCopy operations, as
// these APIs don't accept conditional headers" ("Enforce conditional writes
// on Amazon S3 buckets", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html).
// The SSE header: the UploadPart and CompleteMultipartUpload API references
// list x-amz-server-side-encryption only as a response header (the SSE-C
// headers are the only encryption request headers of UploadPart), and a
// bucket policy with "Null": {"s3:x-amz-server-side-encryption": "true"}
// denies every UploadPart (boto/botocore#471, aws/aws-cli#4251).
//
// Operators: a condition on a key the request lacks is false, except that
// negated operators (StringNotEquals, ...) are then true and ...IfExists
// operators are true ("IAM JSON policy elements: Condition operators", IAM
// User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
// So "StringNotEquals" alone, and "StringNotEqualsIfExists" too, would deny
// UploadPart; the SSE statements add "Null": {key: "false"} (key present),
// and the conditions of one statement must all hold.
//
// What the policy therefore cannot do is require the SSE header: the
// requests that must carry it (PutObject, CreateMultipartUpload) share every
// condition key value with requests that cannot (CompleteMultipartUpload,
// UploadPart). Encryption is required by the bucket's default encryption
// instead (the set-up output configures it), which S3 applies to every
// object a request does not encrypt otherwise; the policy denies every
// other choice a request can make.
func (o GenerateOptions) genWriteConditionStatements(who *iam.Principal, cond genCond, objects string) []*iam.Statement {
	deny := func(sid string, c genCond) *iam.Statement {
		return &iam.Statement{Sid: sid, Effect: iam.Deny, Principal: who, Actions: []string{"s3:PutObject"}, Resources: []string{objects},
			Conditions: genMerge(cond, c).conditions()}
	}
	st := []*iam.Statement{
		// Deny creating an object unless If-None-Match: * is sent:
		// PutObject and CompleteMultipartUpload then fail with 412 if the
		// key exists, so the key cannot replace a backup. StringNotEquals
		// is true when the header is absent, which is the point; the Bool
		// limits it to the two calls that accept the header. Also denies
		// If-Match (overwrite a known version) and CopyObject.
		deny("DenyOverwrite", genCond{
			"Bool":            {"s3:ObjectCreationOperation": "true"},
			"StringNotEquals": {"s3:if-none-match": "*"},
		}),
	}
	algo := "AES256"
	if o.KMSKeyARN != "" {
		algo = "aws:kms"
	}
	// Deny an SSE header naming another algorithm (aws:kms with a key the
	// owner cannot use, aws:kms:dsse, or AES256 when KMS is required).
	// Requests without the header get the bucket default.
	st = append(st, deny("DenyOtherEncryption", genCond{
		"Null":            {"s3:x-amz-server-side-encryption": "false"},
		"StringNotEquals": {"s3:x-amz-server-side-encryption": algo},
	}))
	if o.KMSKeyARN != "" {
		// Deny a request naming another KMS key. The key compares ARNs, so
		// putonly must be configured with the key's ARN, not its ID or
		// alias ("Specifying server-side encryption with AWS KMS", S3 User
		// Guide: s3:x-amz-server-side-encryption-aws-kms-key-id).
		st = append(st, deny("DenyOtherKMSKey", genCond{
			"Null":            {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
			"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": o.KMSKeyARN},
		}))
	}
	// Deny SSE-C: an object encrypted with a key only the writer knows is
	// a backup nobody else can restore. The SSE-C algorithm header is on
	// PutObject, CreateMultipartUpload and UploadPart alike; putonly never
	// sends it.
	st = append(st, deny("DenyCustomerKeys", genCond{
		"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"},
	}))
	if o.ObjectLockDays > 0 {
		// Cap the retention a request may set: a compromised key must not
		// lock junk for years in compliance mode, which nobody can shorten.
		// Setting retention on upload also needs s3:PutObjectRetention,
		// which is denied below; this statement holds even if that
		// changes. NumericGreaterThan is false when no retention header is
		// sent, so the bucket default applies. ("Object Lock
		// considerations", S3 User Guide:
		// s3:object-lock-remaining-retention-days.)
		st = append(st, deny("DenyRetentionAboveCap", genCond{
			"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": strconv.Itoa(o.ObjectLockDays)},
		}))
	}
	return st
}

// genMerge returns a new condition block with the entries of a and b.
func genMerge(a, b genCond) genCond {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(genCond, len(a)+len(b))
	for _, m := range []genCond{a, b} {
		for op, kv := range m {
			if out[op] == nil {
				out[op] = make(map[string]string, len(kv))
			}
			for k, v := range kv {
				out[op][k] = v
			}
		}
	}
	return out
}

// genBucketScoped keeps the actions that apply to a bucket or an object
// resource, the only resources a bucket policy names.
func genBucketScoped(names []string) []string {
	var out []string
	for _, n := range names {
		a, _ := LookupAction(n)
		for _, r := range a.Resources {
			if r = strings.TrimSuffix(r, "*"); r == "bucket" || r == "object" {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// GenerateUserPolicy returns the IAM policy for the backup user: the same
// rights identity-side, and a Deny of every read, destroy and escalate
// action of the catalogue on every resource, so that attaching a broad
// managed policy to the user later still grants none of them. It is meant
// as a customer managed policy (ManagedPolicyMaxChars); it is too long for
// an inline user policy.
//
// With a KMS key it also allows kms:GenerateDataKey and kms:Decrypt on that
// key through S3: a multipart upload with SSE-KMS needs both ("Multipart
// upload and permissions", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
// kms:Decrypt does not let the key read backups: it cannot fetch an
// object's encrypted data key without s3:GetObject.
func GenerateUserPolicy(o GenerateOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return genJSON(o.userPolicy())
}

func (o GenerateOptions) userPolicy() *iam.Policy {
	bucket := o.bucketARN()
	st := []*iam.Statement{
		{Sid: "PutonlyLocateBucket", Effect: iam.Allow, Actions: []string{"s3:GetBucketLocation"}, Resources: []string{bucket}},
	}
	if o.AllowList {
		st = append(st, &iam.Statement{
			Sid: "PutonlyListBackups", Effect: iam.Allow, Actions: []string{"s3:ListBucket"}, Resources: []string{bucket},
			Conditions: o.listCondition().conditions(),
		})
	}
	st = append(st, &iam.Statement{
		Sid: "PutonlyWriteBackups", Effect: iam.Allow,
		Actions: []string{"s3:AbortMultipartUpload", "s3:PutObject"}, Resources: []string{o.writeARN()},
	})
	if o.KMSKeyARN != "" {
		st = append(st, &iam.Statement{
			Sid: "PutonlyEncryptBackups", Effect: iam.Allow,
			Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{o.KMSKeyARN},
			// Only when S3 asks on the user's behalf ("kms:ViaService",
			// AWS KMS Developer Guide).
			Conditions: genCond{"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}.conditions(),
		})
	}
	if len(o.SNSTopics) > 0 {
		topics := slices.Clone(o.SNSTopics)
		slices.Sort(topics)
		// The daemon's job events (backup/notify_sns.go): Publish only,
		// on exactly these topics.
		st = append(st, &iam.Statement{Sid: "PutonlyNotify", Effect: iam.Allow, Actions: []string{"sns:Publish"}, Resources: slices.Compact(topics)})
	}
	st = append(st, &iam.Statement{
		Sid: "DenyReadDestroyEscalate", Effect: iam.Deny,
		Actions: ActionsOfClass(ClassRead, ClassDestroy, ClassEscalate), Resources: []string{"*"},
	})
	return genDoc(iam.IdentityBased, st)
}

// GenerateSeedPolicy returns exactly the two-statement policy of the
// write-only bucket policy post: s3:GetBucketLocation and s3:ListBucket on
// the bucket, s3:PutObject on its objects (under the prefix, if given).
// Nothing else: no Deny, no TLS, no encryption or overwrite rules. The
// verifier warns about its ListBucket (an existence oracle).
func GenerateSeedPolicy(o GenerateOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var extra []string
	if o.AllowList {
		extra = append(extra, "--allow-list (the seed already allows s3:ListBucket)")
	}
	if o.KMSKeyARN != "" {
		extra = append(extra, "--kms-key")
	}
	if o.ObjectLockDays > 0 {
		extra = append(extra, "--object-lock")
	}
	if o.Fleet {
		extra = append(extra, "--fleet")
	}
	if len(extra) > 0 {
		return nil, &OptionError{Flag: "--preset", Value: "seed", Msg: "prints only the two-statement seed policy; it takes no " + strings.Join(extra, ", "),
			Fix: "drop --preset seed to get the hardened policy with these options"}
	}
	return genJSON(o.seedPolicy())
}

func (o GenerateOptions) seedPolicy() *iam.Policy {
	who := genAWS(o.Principal)
	return genDoc(iam.ResourceBased, []*iam.Statement{
		{Effect: iam.Allow, Principal: who, Actions: []string{"s3:GetBucketLocation", "s3:ListBucket"}, Resources: []string{o.bucketARN()}},
		{Effect: iam.Allow, Principal: who, Actions: []string{"s3:PutObject"}, Resources: []string{o.writeARN()}},
	})
}

// PolicySize returns the size of a policy document as S3 counts it for the
// 20 KB limit (all bytes) and as IAM counts it for its quotas (without
// white space outside strings).
func PolicySize(doc []byte) (bytes, nonSpace int) {
	inString, escaped := false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		nonSpace++
	}
	return len(doc), nonSpace
}
