package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestFetchLivePaginates: every IAM listing of FetchLive is read to its
// end, whatever the page size: against iamfake (a FAKE of the IAM query
// API, no local IAM exists) cutting each list into pages of 1, 2 or 3
// items, a user with 0 to 4 inline policies, attached policies and groups
// (each group with as many of its own) yields every document exactly once,
// in order, with one list call per page.
func TestFetchLivePaginates(t *testing.T) {
	const acct = "111122223333"
	doc := func(sid string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-db-backups/db/*"}]}`
	}
	for n := 0; n <= 4; n++ {
		for _, size := range []int{0, 1, 2, 3} {
			t.Run(fmt.Sprintf("%d items, pages of %d", n, size), func(t *testing.T) {
				a := &iamfake.Account{ID: acct, PageSize: size, Managed: map[string]*iamfake.Managed{},
					Users: map[string]*iamfake.Principal{"putonly-db1": {Inline: map[string]string{}}}, Groups: map[string]*iamfake.Principal{}}
				u := a.Users["putonly-db1"]
				var want []string
				for i := range n {
					name := fmt.Sprintf("p%d", i)
					u.Inline[name] = doc("U" + name)
					want = append(want, "user/"+name)
				}
				for i := range n {
					arn := fmt.Sprintf("arn:aws:iam::%s:policy/m%d", acct, i)
					a.Managed[arn] = &iamfake.Managed{Name: fmt.Sprintf("m%d", i), Default: "v1", Versions: map[string]string{"v1": doc(fmt.Sprintf("M%d", i))}}
					u.Attached = append(u.Attached, arn)
					want = append(want, fmt.Sprintf("m%d", i))
				}
				for g := range n {
					group := fmt.Sprintf("g%d", g)
					gp := &iamfake.Principal{Inline: map[string]string{}}
					for i := range n {
						gp.Inline[fmt.Sprintf("q%d", i)] = doc(fmt.Sprintf("G%dQ%d", g, i))
						want = append(want, fmt.Sprintf("group/%s/q%d", group, i))
					}
					a.Groups[group] = gp
					u.Groups = append(u.Groups, group)
				}
				fake := iamfake.Start(a)
				defer fake.Close()
				ic := awsiam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(fake.URL) })
				l, err := FetchLive(context.Background(), LiveInput{Bucket: "acme-db-backups", Principal: "arn:aws:iam::" + acct + ":user/putonly-db1", S3: liveS3Good{}, IAM: ic})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range l.Identity {
					got = append(got, p.Name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("identity policies read:\n got %v\nwant %v", got, want)
				}
				pages := 1
				if size > 0 && n > 0 {
					pages = (n + size - 1) / size
				}
				calls := map[string]int{}
				for _, c := range fake.Calls() {
					calls[c]++
				}
				for call, want := range map[string]int{"ListUserPolicies": pages, "ListAttachedUserPolicies": pages, "ListGroupsForUser": pages,
					"ListGroupPolicies": n * pages, "ListAttachedGroupPolicies": n, "GetUserPolicy": n, "GetGroupPolicy": n * n} {
					if calls[call] != want {
						t.Errorf("%s called %d times, want %d", call, calls[call], want)
					}
				}
			})
		}
	}
}

// TestIAMPagesRefusesBrokenPaging: a listing that could not end, or would
// silently skip a page, is an error naming the listing; an error of a
// list call is named by the listing, one of an item is passed on as it is.
func TestIAMPagesRefusesBrokenPaging(t *testing.T) {
	errItem := errors.New("item refused")
	errCall := errors.New("throttled")
	for _, tc := range []struct {
		name  string
		list  func(m *string) (iamPage[string], error)
		each  func(string) error
		want  string
		is    error
		items int
	}{
		{"truncated without a marker", func(m *string) (iamPage[string], error) {
			return iamPage[string]{Items: []string{"a"}, IsTruncated: true}, nil
		}, nil, "list things: a truncated page without a Marker", nil, 1},
		{"marker repeated", func(m *string) (iamPage[string], error) {
			return iamPage[string]{Items: []string{"a"}, IsTruncated: true, Marker: aws.String("same")}, nil
		}, nil, `list things: Marker "same" came twice`, nil, 2},
		{"endless", func() func(m *string) (iamPage[string], error) {
			n := 0
			return func(m *string) (iamPage[string], error) {
				n++
				return iamPage[string]{IsTruncated: true, Marker: aws.String(fmt.Sprint(n))}, nil
			}
		}(), nil, "list things: more than 1000 pages", nil, 0},
		{"list call fails", func(m *string) (iamPage[string], error) {
			if m == nil {
				return iamPage[string]{Items: []string{"a"}, IsTruncated: true, Marker: aws.String("next")}, nil
			}
			return iamPage[string]{}, errCall
		}, nil, "list things: throttled", errCall, 1},
		{"item fails", func(m *string) (iamPage[string], error) {
			return iamPage[string]{Items: []string{"a", "b"}}, nil
		}, func(string) error { return errItem }, "item refused", errItem, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := 0
			each := tc.each
			if each == nil {
				each = func(string) error { return nil }
			}
			err := iamPages("list things", tc.list, func(s string) error { items++; return each(s) })
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if items != tc.items {
				t.Errorf("%d items handed on, want %d", items, tc.items)
			}
		})
	}
}
