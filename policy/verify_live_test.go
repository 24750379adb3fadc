package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/putonly/putonly/internal/iamfake"
)

// liveS3Good answers the settings calls as a bucket set up by generate
// would (versioned), in memory (the local server lacks encryption, lifecycle and public
// access block; cmd/putonly-policy's TestVerifyLive runs the S3 half
// against it). Its bucket policy is absent.
type liveS3Good struct{ lifecycle []types.LifecycleRule }

func (liveS3Good) GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "NoSuchBucketPolicy", Message: "The bucket policy does not exist"}
}
func (liveS3Good) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	// Versioned: with no bucket policy nothing forces If-None-Match, so an
	// overwrite must keep the old backup.
	return &s3.GetBucketVersioningOutput{Status: types.BucketVersioningStatusEnabled}, nil
}
func (liveS3Good) GetObjectLockConfiguration(context.Context, *s3.GetObjectLockConfigurationInput, ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "ObjectLockConfigurationNotFoundError"}
}
func (liveS3Good) GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
		BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: []types.EncryptionType{"SSE-C"}},
	}}}}, nil
}
func (l liveS3Good) GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: l.lifecycle}, nil
}
func (liveS3Good) GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	t := aws.Bool(true)
	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}}, nil
}
func (liveS3Good) GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}}, nil
}

// TestFetchLiveRole: for an assumed-role session, FetchLive reads the
// role's inline and attached policies and its boundary from IAM (iamfake,
// a FAKE of the IAM query API: no local IAM exists), and the settings; the
// generated user policy on a generated bucket then verifies clean, and the
// lifecycle the fake S3 reports is what the findings rest on.
func TestFetchLiveRole(t *testing.T) {
	const acct = "111122223333"
	o := GenerateOptions{Bucket: "acme-db-backups", Principal: "arn:aws:iam::" + acct + ":user/putonly-db1", Prefix: "db/"}
	userPolicy, err := GenerateUserPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	managed := "arn:aws:iam::" + acct + ":policy/putonly"
	boundary := "arn:aws:iam::" + acct + ":policy/limit"
	fake := iamfake.Start(&iamfake.Account{ID: acct,
		Roles: map[string]*iamfake.Principal{"backup": {
			Inline:   map[string]string{"notify": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:eu-west-1:111122223333:backups"}]}`},
			Attached: []string{managed}, Boundary: boundary}},
		Managed: map[string]*iamfake.Managed{
			managed:  {Name: "putonly", Default: "v1", Versions: map[string]string{"v1": string(userPolicy)}},
			boundary: {Name: "limit", Default: "v1", Versions: map[string]string{"v1": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}},
		}})
	defer fake.Close()
	ic := awsiam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(fake.URL) })
	abort := types.LifecycleRule{ID: aws.String("abort"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("db/")},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)}}
	short := types.LifecycleRule{ID: aws.String("short"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
		Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)}}
	session := "arn:aws:sts::" + acct + ":assumed-role/backup/host1"
	for _, tc := range []struct {
		name    string
		rules   []types.LifecycleRule
		verdict string
	}{
		{"clean", []types.LifecycleRule{abort}, VerdictPass},
		{"lifecycle too short", []types.LifecycleRule{abort, short}, VerdictFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := FetchLive(context.Background(), LiveInput{Bucket: "acme-db-backups", Principal: session, S3: liveS3Good{tc.rules}, IAM: ic})
			if err != nil {
				t.Fatal(err)
			}
			var roles []string
			for _, d := range l.Documents {
				if d.SHA256 == "" {
					t.Errorf("%s has no SHA-256", d.Name)
				}
				roles = append(roles, d.Role+": "+d.Name)
			}
			all := strings.Join(roles, "\n")
			for _, want := range []string{"inline role policy: role/notify", "managed policy v1 (attached to the role): putonly", "permissions boundary (read, not applied: it can only narrow): limit", "bucket settings (get-bucket-encryption): encryption.json"} {
				if !strings.Contains(all, want) {
					t.Errorf("documents lack %q:\n%s", want, all)
				}
			}
			if l.BucketPolicy != nil || l.Boundary != "limit" || len(l.Identity) != 2 {
				t.Errorf("live = %+v", l)
			}
			res, err := Verify(VerifyInput{BucketPolicy: l.BucketPolicy, IdentityPolicies: l.Identity, Settings: l.Settings, Principal: session, Bucket: "acme-db-backups", Prefix: "db/",
				SNSTopics: []string{"arn:aws:sns:eu-west-1:111122223333:backups"}, RetentionDays: 35})
			if err != nil {
				t.Fatal(err)
			}
			// The user policy alone carries no TLS or overwrite rule: those
			// are the bucket policy's, absent here. Only violations count.
			got := VerdictPass
			for _, f := range res.Findings {
				if f.Severity == SeverityViolation {
					got = VerdictFail
				}
			}
			if got != tc.verdict {
				t.Errorf("verdict %s, want %s:\n%s", got, tc.verdict, strings.Join(verLines(res), "\n"))
			}
		})
	}
}
