package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/putonly/putonly/policy/iam"
)

// LiveS3 is the read-only S3 calls verify --live makes; *s3.Client has
// them. The admin needs s3:GetBucketPolicy, s3:GetBucketVersioning,
// s3:GetBucketObjectLockConfiguration, s3:GetEncryptionConfiguration,
// s3:GetLifecycleConfiguration, s3:GetBucketPublicAccessBlock and
// s3:GetBucketOwnershipControls on the bucket.
type LiveS3 interface {
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetObjectLockConfiguration(context.Context, *s3.GetObjectLockConfigurationInput, ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
}

// LiveIAM is the read-only IAM calls verify --live makes; *iam.Client has
// them (the AWS managed policy IAMReadOnlyAccess grants them all).
type LiveIAM interface {
	GetUser(context.Context, *awsiam.GetUserInput, ...func(*awsiam.Options)) (*awsiam.GetUserOutput, error)
	ListUserPolicies(context.Context, *awsiam.ListUserPoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListUserPoliciesOutput, error)
	GetUserPolicy(context.Context, *awsiam.GetUserPolicyInput, ...func(*awsiam.Options)) (*awsiam.GetUserPolicyOutput, error)
	ListAttachedUserPolicies(context.Context, *awsiam.ListAttachedUserPoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListAttachedUserPoliciesOutput, error)
	ListGroupsForUser(context.Context, *awsiam.ListGroupsForUserInput, ...func(*awsiam.Options)) (*awsiam.ListGroupsForUserOutput, error)
	ListGroupPolicies(context.Context, *awsiam.ListGroupPoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListGroupPoliciesOutput, error)
	GetGroupPolicy(context.Context, *awsiam.GetGroupPolicyInput, ...func(*awsiam.Options)) (*awsiam.GetGroupPolicyOutput, error)
	ListAttachedGroupPolicies(context.Context, *awsiam.ListAttachedGroupPoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListAttachedGroupPoliciesOutput, error)
	GetRole(context.Context, *awsiam.GetRoleInput, ...func(*awsiam.Options)) (*awsiam.GetRoleOutput, error)
	ListRolePolicies(context.Context, *awsiam.ListRolePoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListRolePoliciesOutput, error)
	GetRolePolicy(context.Context, *awsiam.GetRolePolicyInput, ...func(*awsiam.Options)) (*awsiam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(context.Context, *awsiam.ListAttachedRolePoliciesInput, ...func(*awsiam.Options)) (*awsiam.ListAttachedRolePoliciesOutput, error)
	GetPolicy(context.Context, *awsiam.GetPolicyInput, ...func(*awsiam.Options)) (*awsiam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *awsiam.GetPolicyVersionInput, ...func(*awsiam.Options)) (*awsiam.GetPolicyVersionOutput, error)
}

// LiveDocument is one document verify --live evaluated (or read).
type LiveDocument struct {
	Role   string // "bucket policy", "inline user policy", "managed policy (v3)", "bucket settings", "permissions boundary (read, not applied)"
	Name   string // the label findings use
	SHA256 string
	Data   []byte
}

// LiveInput says what to fetch.
type LiveInput struct {
	Bucket    string
	Principal string // the backup key's user or role ARN (or a session of the role)
	S3        LiveS3
	IAM       LiveIAM
}

// Live is what FetchLive read: the inputs of Verify and every document.
type Live struct {
	BucketPolicy *iam.Policy // nil: the bucket has none
	Identity     []*iam.Policy
	Settings     *BucketSettings
	Documents    []LiveDocument
	// Boundary is the permissions boundary's name, "" for none. It can only
	// narrow what the identity policies grant, so it is read and listed but
	// not applied: a pass never rests on it.
	Boundary string
	Notes    []string
}

// liveAbsent are the error codes S3 answers for a configuration the bucket
// does not have (Amazon S3 API Reference, "Error responses",
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html, and
// each Get call's page). NotImplemented is an S3-compatible store without
// the feature: the bucket has none of it either.
var liveAbsent = map[string]bool{
	"NoSuchBucketPolicy":                             true,
	"ServerSideEncryptionConfigurationNotFoundError": true,
	"NoSuchLifecycleConfiguration":                   true,
	"NoSuchPublicAccessBlockConfiguration":           true,
	"OwnershipControlsNotFoundError":                 true,
	"ObjectLockConfigurationNotFoundError":           true,
	"NotImplemented":                                 true,
}

func liveIsAbsent(err error) (string, bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) && liveAbsent[ae.ErrorCode()] {
		return ae.ErrorCode(), true
	}
	return "", false
}

// FetchLive reads the bucket policy, the bucket settings and the
// principal's identity policies with read-only calls. For a user: its
// inline policies, its attached managed policies at their default version,
// its groups' inline and attached policies, and its permissions boundary;
// for a role (or a session of one): the role's. Source: IAM User Guide,
// "Policy evaluation logic" (identity-based policies are the principal's
// inline and managed policies and, for a user, those of its groups),
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html;
// "IAM API Reference" GetPolicyVersion: the document is URL-encoded (RFC
// 3986), https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html.
func FetchLive(ctx context.Context, in LiveInput) (*Live, error) {
	caller, err := iam.ParseCaller(in.Principal)
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	l := &Live{}
	if err := l.fetchS3(ctx, in); err != nil {
		return nil, err
	}
	if in.IAM == nil {
		l.Notes = append(l.Notes, "identity policies were not read (no IAM endpoint)")
		return l, nil
	}
	name := caller.ARN[strings.LastIndexByte(caller.ARN, '/')+1:]
	switch caller.Type {
	case "User":
		err = l.fetchUser(ctx, in.IAM, name)
	case "AssumedRole":
		name = caller.RoleARN[strings.LastIndexByte(caller.RoleARN, '/')+1:]
		err = l.fetchRole(ctx, in.IAM, name)
	default:
		err = fmt.Errorf("principal %q: verify --live reads the policies of an IAM user or role", in.Principal)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Live) add(role, name string, data []byte) {
	l.Documents = append(l.Documents, LiveDocument{Role: role, Name: name, SHA256: sha256Hex(data), Data: data})
}

// identity parses an IAM document (URL-encoded, as IAM returns it).
func (l *Live) identity(role, name, encoded string) error {
	doc, err := url.PathUnescape(encoded)
	if err != nil {
		return fmt.Errorf("%s %s: not URL-encoded as IAM returns documents: %w", role, name, err)
	}
	p, err := iam.Parse([]byte(doc), iam.IdentityBased)
	if err != nil {
		return fmt.Errorf("%s %s is not a valid policy: %w", role, name, err)
	}
	p.Name = name
	l.Identity = append(l.Identity, p)
	l.add(role, name, []byte(doc))
	return nil
}

func (l *Live) fetchS3(ctx context.Context, in LiveInput) error {
	b := aws.String(in.Bucket)
	step := func(what string, err error) (bool, error) {
		if err == nil {
			return true, nil
		}
		if code, ok := liveIsAbsent(err); ok {
			if code == "NotImplemented" {
				l.Notes = append(l.Notes, what+": the store does not implement it (taken as not configured)")
			}
			return false, nil
		}
		return false, fmt.Errorf("%s s3://%s: %w", what, in.Bucket, err)
	}
	if err := l.fetchBucketPolicy(ctx, in, step); err != nil {
		return err
	}

	docs := map[string][]byte{}
	put := func(file string, v any) {
		data, _ := json.MarshalIndent(v, "", "  ")
		docs[file] = data
	}
	ver, err := in.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if ok, err := step("get bucket versioning", err); err != nil {
		return err
	} else if ok {
		put("versioning.json", liveVersioning(ver))
	}
	lock, err := in.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
	if ok, err := step("get object lock configuration", err); err != nil {
		return err
	} else if ok && lock.ObjectLockConfiguration != nil {
		put("object-lock-configuration.json", map[string]any{"ObjectLockConfiguration": liveObjectLock(lock.ObjectLockConfiguration)})
	}
	enc, err := in.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if ok, err := step("get bucket encryption", err); err != nil {
		return err
	} else if ok && enc.ServerSideEncryptionConfiguration != nil {
		var rules []any
		for _, r := range enc.ServerSideEncryptionConfiguration.Rules {
			rules = append(rules, liveEncryptionRule(r))
		}
		put("encryption.json", map[string]any{"ServerSideEncryptionConfiguration": map[string]any{"Rules": rules}})
	}
	lc, err := in.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if ok, err := step("get bucket lifecycle configuration", err); err != nil {
		return err
	} else if ok {
		var rules []any
		for _, r := range lc.Rules {
			rules = append(rules, liveLifecycleRule(r))
		}
		put("lifecycle-configuration.json", map[string]any{"Rules": rules})
	}
	pab, err := in.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if ok, err := step("get public access block", err); err != nil {
		return err
	} else if ok && pab.PublicAccessBlockConfiguration != nil {
		put("public-access-block.json", map[string]any{"PublicAccessBlockConfiguration": livePublicAccessBlock(pab.PublicAccessBlockConfiguration)})
	}
	own, err := in.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
	if ok, err := step("get bucket ownership controls", err); err != nil {
		return err
	} else if ok && own.OwnershipControls != nil {
		var rules []any
		for _, r := range own.OwnershipControls.Rules {
			rules = append(rules, map[string]string{"ObjectOwnership": string(r.ObjectOwnership)})
		}
		put("ownership-controls.json", map[string]any{"OwnershipControls": map[string]any{"Rules": rules}})
	}
	return l.settings(docs)
}

// settings parses the fetched settings documents, as verify reads them from
// a directory, and records each.
func (l *Live) settings(docs map[string][]byte) error {
	st, err := ParseBucketSettings(docs)
	if err != nil {
		return err
	}
	l.Settings = st
	for _, f := range SettingsFiles {
		if data, ok := docs[f.File]; ok {
			l.add("bucket settings ("+f.Command+")", f.File, data)
		}
	}
	return nil
}

// fetchBucketPolicy reads the bucket policy, when there is one.
func (l *Live) fetchBucketPolicy(ctx context.Context, in LiveInput, step func(string, error) (bool, error)) error {
	b := aws.String(in.Bucket)
	pol, err := in.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if ok, err := step("get bucket policy", err); err != nil {
		return err
	} else if ok && pol.Policy != nil {
		p, err := iam.Parse([]byte(*pol.Policy), iam.ResourceBased)
		if err != nil {
			return fmt.Errorf("the bucket policy of s3://%s is not a valid policy: %w", in.Bucket, err)
		}
		p.Name = "bucket"
		l.BucketPolicy = p
		l.add("bucket policy", "bucket", []byte(*pol.Policy))
	}
	return nil
}

// livePublicAccessBlock is the public access block as the settings file
// writes it.
func livePublicAccessBlock(c *types.PublicAccessBlockConfiguration) map[string]bool {
	return map[string]bool{
		"BlockPublicAcls": aws.ToBool(c.BlockPublicAcls), "IgnorePublicAcls": aws.ToBool(c.IgnorePublicAcls),
		"BlockPublicPolicy": aws.ToBool(c.BlockPublicPolicy), "RestrictPublicBuckets": aws.ToBool(c.RestrictPublicBuckets)}
}

// liveVersioning is the versioning state as the settings file writes it.
func liveVersioning(ver *s3.GetBucketVersioningOutput) map[string]any {
	m := map[string]any{}
	if ver.Status != "" {
		m["Status"] = string(ver.Status)
	}
	if ver.MFADelete != "" {
		m["MFADelete"] = string(ver.MFADelete)
	}
	return m
}

// liveObjectLock is the object lock configuration as the settings file
// writes it.
func liveObjectLock(c *types.ObjectLockConfiguration) map[string]any {
	m := map[string]any{"ObjectLockEnabled": string(c.ObjectLockEnabled)}
	if c.Rule != nil && c.Rule.DefaultRetention != nil {
		d := c.Rule.DefaultRetention
		m["Rule"] = map[string]any{"DefaultRetention": map[string]any{"Mode": string(d.Mode), "Days": aws.ToInt32(d.Days), "Years": aws.ToInt32(d.Years)}}
	}
	return m
}

// liveEncryptionRule is one default-encryption rule as the settings file
// writes it.
func liveEncryptionRule(r types.ServerSideEncryptionRule) map[string]any {
	m := map[string]any{"BucketKeyEnabled": aws.ToBool(r.BucketKeyEnabled)}
	if d := r.ApplyServerSideEncryptionByDefault; d != nil {
		m["ApplyServerSideEncryptionByDefault"] = map[string]any{"SSEAlgorithm": string(d.SSEAlgorithm), "KMSMasterKeyID": aws.ToString(d.KMSMasterKeyID)}
	}
	if bt := r.BlockedEncryptionTypes; bt != nil {
		var types []string
		for _, t := range bt.EncryptionType {
			types = append(types, string(t))
		}
		m["BlockedEncryptionTypes"] = map[string]any{"EncryptionType": types}
	}
	return m
}

// liveLifecycleRule is one lifecycle rule as the settings file writes it.
func liveLifecycleRule(r types.LifecycleRule) map[string]any {
	m := map[string]any{"ID": aws.ToString(r.ID), "Status": string(r.Status)}
	//lint:ignore SA1019 a rule written before Filter existed still has only Prefix; the report must show it
	if p := r.Prefix; p != nil {
		m["Prefix"] = *p
	}
	if f := r.Filter; f != nil {
		fm := map[string]any{}
		if f.Prefix != nil {
			fm["Prefix"] = *f.Prefix
		}
		if f.Tag != nil {
			fm["Tag"] = map[string]any{"Key": aws.ToString(f.Tag.Key), "Value": aws.ToString(f.Tag.Value)}
		}
		if f.ObjectSizeGreaterThan != nil {
			fm["ObjectSizeGreaterThan"] = *f.ObjectSizeGreaterThan
		}
		if f.ObjectSizeLessThan != nil {
			fm["ObjectSizeLessThan"] = *f.ObjectSizeLessThan
		}
		if a := f.And; a != nil {
			am := map[string]any{"Prefix": aws.ToString(a.Prefix)}
			if len(a.Tags) > 0 {
				am["Tags"] = a.Tags
			}
			fm["And"] = am
		}
		m["Filter"] = fm
	}
	if e := r.Expiration; e != nil {
		em := map[string]any{}
		if e.Days != nil {
			em["Days"] = *e.Days
		}
		if e.Date != nil {
			em["Date"] = e.Date.UTC().Format(time.RFC3339)
		}
		if aws.ToBool(e.ExpiredObjectDeleteMarker) {
			em["ExpiredObjectDeleteMarker"] = true
		}
		m["Expiration"] = em
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		m["NoncurrentVersionExpiration"] = map[string]any{"NoncurrentDays": aws.ToInt32(n.NoncurrentDays)}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		m["AbortIncompleteMultipartUpload"] = map[string]any{"DaysAfterInitiation": aws.ToInt32(a.DaysAfterInitiation)}
	}
	return m
}

// managed reads an attached managed policy at its default version.
func (l *Live) managed(ctx context.Context, c LiveIAM, arn, via string) error {
	p, err := c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("get policy %s: %w", arn, err)
	}
	if p.Policy == nil || p.Policy.DefaultVersionId == nil {
		return fmt.Errorf("get policy %s: no default version", arn)
	}
	v, err := c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return fmt.Errorf("get policy version %s %s: %w", arn, *p.Policy.DefaultVersionId, err)
	}
	if v.PolicyVersion == nil || v.PolicyVersion.Document == nil {
		return fmt.Errorf("get policy version %s: no document", arn)
	}
	name := aws.ToString(p.Policy.PolicyName)
	return l.identity("managed policy "+*p.Policy.DefaultVersionId+via, name, *v.PolicyVersion.Document)
}

func (l *Live) boundary(ctx context.Context, c LiveIAM, arn string) error {
	if arn == "" {
		return nil
	}
	p, err := c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("get permissions boundary %s: %w", arn, err)
	}
	if p.Policy == nil || p.Policy.DefaultVersionId == nil {
		return fmt.Errorf("get permissions boundary %s: no default version", arn)
	}
	v, err := c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return fmt.Errorf("get permissions boundary %s: %w", arn, err)
	}
	if v.PolicyVersion == nil || v.PolicyVersion.Document == nil {
		return fmt.Errorf("get permissions boundary %s: no document", arn)
	}
	doc, err := url.PathUnescape(*v.PolicyVersion.Document)
	if err != nil {
		return fmt.Errorf("permissions boundary %s: %w", arn, err)
	}
	l.Boundary = aws.ToString(p.Policy.PolicyName)
	l.add("permissions boundary (read, not applied: it can only narrow)", l.Boundary, []byte(doc))
	return nil
}

// iamPage is one page of an IAM list call: its items, and where the next
// page starts when it is truncated.
type iamPage[T any] struct {
	Items       []T
	IsTruncated bool
	Marker      *string
}

// maxIAMPages bounds one listing: IAM pages hold up to 100 items by
// default, and no principal has 100,000 policies or groups (the quotas are
// 10 groups per user and 20 managed policies per principal: "IAM and AWS
// STS quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const maxIAMPages = 1000

// iamPages runs an IAM listing to its end: list is called with the marker
// of each page (nil for the first) and each with every item, in order,
// until a page is not truncated. The errors of list and of the paging are
// named by what ("list user policies of db1"); each names its own. IAM's paging ("Using the IAM API: Making
// query requests", each List* page of the IAM API Reference: "IsTruncated
// ... Marker: when IsTruncated is true, this element is present and
// contains the value to use for the Marker parameter in a subsequent
// pagination request") is followed strictly: a truncated page without a
// marker, or a marker seen before, is an error, since reading the first
// page again would loop or silently miss a policy.
func iamPages[T any](what string, list func(marker *string) (iamPage[T], error), each func(T) error) error {
	var marker *string
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n == maxIAMPages {
			return fmt.Errorf("%s: more than %d pages: IAM kept answering IsTruncated", what, maxIAMPages)
		}
		page, err := list(marker)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, it := range page.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if !page.IsTruncated {
			return nil
		}
		m := aws.ToString(page.Marker)
		switch {
		case m == "":
			return fmt.Errorf("%s: a truncated page without a Marker: the rest cannot be read", what)
		case seen[m]:
			return fmt.Errorf("%s: Marker %q came twice: the listing would not end", what, m)
		}
		seen[m] = true
		marker = aws.String(m)
	}
}

func (l *Live) fetchUser(ctx context.Context, c LiveIAM, user string) error {
	u, err := c.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return fmt.Errorf("get user %s: %w", user, err)
	}
	err = iamPages("list user policies of "+user, func(m *string) (iamPage[string], error) {
		out, err := c.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: aws.String(user), Marker: m})
		if err != nil {
			return iamPage[string]{}, err
		}
		return iamPage[string]{out.PolicyNames, out.IsTruncated, out.Marker}, nil
	}, func(name string) error {
		p, err := c.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("get user policy %s of %s: %w", name, user, err)
		}
		return l.identity("inline user policy", "user/"+name, aws.ToString(p.PolicyDocument))
	})
	if err != nil {
		return err
	}
	err = iamPages("list attached user policies of "+user, func(m *string) (iamPage[iamtypes.AttachedPolicy], error) {
		out, err := c.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String(user), Marker: m})
		if err != nil {
			return iamPage[iamtypes.AttachedPolicy]{}, err
		}
		return iamPage[iamtypes.AttachedPolicy]{out.AttachedPolicies, out.IsTruncated, out.Marker}, nil
	}, func(ap iamtypes.AttachedPolicy) error {
		return l.managed(ctx, c, aws.ToString(ap.PolicyArn), " (attached to the user)")
	})
	if err != nil {
		return err
	}
	err = iamPages("list groups of "+user, func(m *string) (iamPage[iamtypes.Group], error) {
		out, err := c.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String(user), Marker: m})
		if err != nil {
			return iamPage[iamtypes.Group]{}, err
		}
		return iamPage[iamtypes.Group]{out.Groups, out.IsTruncated, out.Marker}, nil
	}, func(g iamtypes.Group) error {
		return l.fetchGroup(ctx, c, aws.ToString(g.GroupName))
	})
	if err != nil {
		return err
	}
	if u.User != nil && u.User.PermissionsBoundary != nil {
		return l.boundary(ctx, c, aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn))
	}
	return nil
}

func (l *Live) fetchGroup(ctx context.Context, c LiveIAM, group string) error {
	err := iamPages("list group policies of "+group, func(m *string) (iamPage[string], error) {
		out, err := c.ListGroupPolicies(ctx, &awsiam.ListGroupPoliciesInput{GroupName: aws.String(group), Marker: m})
		if err != nil {
			return iamPage[string]{}, err
		}
		return iamPage[string]{out.PolicyNames, out.IsTruncated, out.Marker}, nil
	}, func(name string) error {
		p, err := c.GetGroupPolicy(ctx, &awsiam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("get group policy %s of %s: %w", name, group, err)
		}
		return l.identity("inline policy of group "+group, "group/"+group+"/"+name, aws.ToString(p.PolicyDocument))
	})
	if err != nil {
		return err
	}
	return iamPages("list attached policies of group "+group, func(m *string) (iamPage[iamtypes.AttachedPolicy], error) {
		out, err := c.ListAttachedGroupPolicies(ctx, &awsiam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group), Marker: m})
		if err != nil {
			return iamPage[iamtypes.AttachedPolicy]{}, err
		}
		return iamPage[iamtypes.AttachedPolicy]{out.AttachedPolicies, out.IsTruncated, out.Marker}, nil
	}, func(ap iamtypes.AttachedPolicy) error {
		return l.managed(ctx, c, aws.ToString(ap.PolicyArn), " (attached to group "+group+")")
	})
}

func (l *Live) fetchRole(ctx context.Context, c LiveIAM, role string) error {
	r, err := c.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		return fmt.Errorf("get role %s: %w", role, err)
	}
	err = iamPages("list role policies of "+role, func(m *string) (iamPage[string], error) {
		out, err := c.ListRolePolicies(ctx, &awsiam.ListRolePoliciesInput{RoleName: aws.String(role), Marker: m})
		if err != nil {
			return iamPage[string]{}, err
		}
		return iamPage[string]{out.PolicyNames, out.IsTruncated, out.Marker}, nil
	}, func(name string) error {
		p, err := c.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("get role policy %s of %s: %w", name, role, err)
		}
		return l.identity("inline role policy", "role/"+name, aws.ToString(p.PolicyDocument))
	})
	if err != nil {
		return err
	}
	err = iamPages("list attached role policies of "+role, func(m *string) (iamPage[iamtypes.AttachedPolicy], error) {
		out, err := c.ListAttachedRolePolicies(ctx, &awsiam.ListAttachedRolePoliciesInput{RoleName: aws.String(role), Marker: m})
		if err != nil {
			return iamPage[iamtypes.AttachedPolicy]{}, err
		}
		return iamPage[iamtypes.AttachedPolicy]{out.AttachedPolicies, out.IsTruncated, out.Marker}, nil
	}, func(ap iamtypes.AttachedPolicy) error {
		return l.managed(ctx, c, aws.ToString(ap.PolicyArn), " (attached to the role)")
	})
	if err != nil {
		return err
	}
	l.Notes = append(l.Notes, "session policies of the role's sessions cannot be read; they can only narrow")
	if r.Role != nil && r.Role.PermissionsBoundary != nil {
		return l.boundary(ctx, c, aws.ToString(r.Role.PermissionsBoundary.PermissionsBoundaryArn))
	}
	return nil
}
