package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Terraform itself is not installable on this machine (no HashiCorp
// download reachable), so 'terraform validate' and 'plan' cannot run here:
// these tests parse the output with HashiCorp's own HCL parser
// (hashicorp/hcl/v2), evaluate its literal attributes, and check them
// against the documents the other outputs print.

// tfBlocks parses doc and returns its top-level blocks by "type.label...".
func tfParse(t *testing.T, doc []byte) *hclsyntax.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(doc, "putonly.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("the Terraform output does not parse: %v\n%s", diags, doc)
	}
	return f.Body.(*hclsyntax.Body)
}

func tfBlock(body *hclsyntax.Body, typ string, labels ...string) *hclsyntax.Block {
	for _, b := range body.Blocks {
		if b.Type == typ && slices.Equal(b.Labels, labels) {
			return b
		}
	}
	return nil
}

// tfLiteral evaluates a literal attribute (no references): what Terraform
// would pass to the provider.
func tfLiteral(t *testing.T, b *hclsyntax.Block, name string) cty.Value {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no attribute %s", b.Type, b.Labels, name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s %v: %s is not a literal: %v", b.Type, b.Labels, name, diags)
	}
	return v
}

func tfOptions() []GenerateOptions {
	const (
		user  = "arn:aws:iam::111122223333:user/putonly-db1"
		fleet = "arn:aws:iam::111122223333:user/putonly/*"
		kms   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	var opts []GenerateOptions
	for _, prefix := range []string{"", "db1/"} {
		for _, list := range []bool{false, true} {
			for _, key := range []string{"", kms} {
				for _, lock := range []int{0, 35} {
					for _, fl := range []bool{false, true} {
						o := GenerateOptions{Bucket: "acme-db-backups", Principal: user, Prefix: prefix,
							AllowList: list, KMSKeyARN: key, ObjectLockDays: lock, Fleet: fl, Region: "eu-west-1",
							SNSTopics: []string{"arn:aws:sns:eu-west-1:111122223333:backups"}}
						if fl {
							o.Principal = fleet
						}
						if lock > 0 {
							o.ObjectLockMode = "compliance"
							o.Lifecycle.Expire = []ExpireRule{{Job: "daily", Days: 40}, {Job: "monthly", Days: 400}}
							if fl {
								o.Lifecycle.Expire = []ExpireRule{{Days: 400}}
							}
							o.Lifecycle.NoncurrentDays = 3
						} else {
							o.Lifecycle.Expire = []ExpireRule{{Days: 35}}
							o.Lifecycle.Transition = &Transition{StorageClass: "GLACIER_IR", Days: 30}
						}
						opts = append(opts, o)
					}
				}
			}
		}
	}
	return opts
}

// TestTerraformMatchesJSON: for every combination of generate's options,
// the Terraform output parses, its two policies are byte for byte what
// --output bucket-policy and user-policy print, its lifecycle rules are
// those of --output lifecycle, and each option shows up.
func TestTerraformMatchesJSON(t *testing.T) {
	for _, o := range tfOptions() {
		name := fmt.Sprintf("prefix=%q list=%v kms=%v lock=%d fleet=%v", o.Prefix, o.AllowList, o.KMSKeyARN != "", o.ObjectLockDays, o.Fleet)
		t.Run(name, func(t *testing.T) {
			doc, err := GenerateTerraform(o, "putonly-policy generate --output terraform")
			if err != nil {
				t.Fatal(err)
			}
			body := tfParse(t, doc)
			bp, _ := GenerateBucketPolicy(o)
			up, _ := GenerateUserPolicy(o)

			res := func(typ, name string) *hclsyntax.Block {
				t.Helper()
				b := tfBlock(body, "resource", typ, name)
				if b == nil {
					t.Fatalf("no resource %s.%s", typ, name)
				}
				return b
			}
			if got := tfLiteral(t, res("aws_s3_bucket_policy", "backups"), "policy").AsString(); got != string(bp) {
				t.Errorf("bucket policy differs from --output bucket-policy:\n%s\nwant\n%s", got, bp)
			}
			if got := tfLiteral(t, res("aws_iam_policy", "backup"), "policy").AsString(); got != string(up) {
				t.Errorf("user policy differs from --output user-policy:\n%s\nwant\n%s", got, up)
			}
			bucket := res("aws_s3_bucket", "backups")
			if got := tfLiteral(t, bucket, "bucket").AsString(); got != o.Bucket {
				t.Errorf("bucket %q, want %q", got, o.Bucket)
			}
			if tfLiteral(t, bucket, "force_destroy").True() {
				t.Error("force_destroy: terraform destroy would delete backups")
			}

			// Object lock: the bucket, versioning and the default retention.
			lock := tfBlock(body, "resource", "aws_s3_bucket_object_lock_configuration", "backups")
			if (lock != nil) != (o.ObjectLockDays > 0) {
				t.Errorf("object lock configuration present=%v with --object-lock %d", lock != nil, o.ObjectLockDays)
			}
			if lock != nil {
				ret := lock.Body.Blocks[0].Body.Blocks[0]
				if d := tfLiteral(t, ret, "days"); !d.Equals(cty.NumberIntVal(int64(o.ObjectLockDays))).True() {
					t.Errorf("default retention %v days, want %d", d.GoString(), o.ObjectLockDays)
				}
				if m := tfLiteral(t, ret, "mode").AsString(); m != o.objectLockMode() {
					t.Errorf("retention mode %s, want %s", m, o.objectLockMode())
				}
				if !tfLiteral(t, bucket, "object_lock_enabled").True() {
					t.Error("object lock configured on a bucket created without it")
				}
				if tfBlock(body, "resource", "aws_s3_bucket_versioning", "backups") == nil {
					t.Error("object lock without versioning")
				}
			}

			// Encryption: SSE-KMS with the key, or SSE-S3.
			enc := res("aws_s3_bucket_server_side_encryption_configuration", "backups").Body.Blocks[0].Body.Blocks[0]
			alg := tfLiteral(t, enc, "sse_algorithm").AsString()
			if o.KMSKeyARN != "" {
				if alg != "aws:kms" || tfLiteral(t, enc, "kms_master_key_id").AsString() != o.KMSKeyARN {
					t.Errorf("with --kms-key: sse_algorithm %s", alg)
				}
			} else if alg != "AES256" {
				t.Errorf("sse_algorithm %s, want AES256", alg)
			}

			// SSE-C blocked, as --output setup blocks it.
			encRule := res("aws_s3_bucket_server_side_encryption_configuration", "backups").Body.Blocks[0]
			blocked := tfLiteral(t, encRule, "blocked_encryption_types")
			if blocked.LengthInt() != 1 || blocked.Index(cty.NumberIntVal(0)).AsString() != "SSE-C" {
				t.Errorf("blocked_encryption_types %s, want [\"SSE-C\"]", blocked.GoString())
			}

			// The defences of --output setup.
			pab := res("aws_s3_bucket_public_access_block", "backups")
			for _, a := range []string{"block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"} {
				if !tfLiteral(t, pab, a).True() {
					t.Errorf("public access block: %s is not true", a)
				}
			}
			own := res("aws_s3_bucket_ownership_controls", "backups").Body.Blocks[0]
			if got := tfLiteral(t, own, "object_ownership").AsString(); got != "BucketOwnerEnforced" {
				t.Errorf("object ownership %s: ACLs stay on", got)
			}

			// Lifecycle: the same rules, in the same order.
			var ids []string
			for _, r := range res("aws_s3_bucket_lifecycle_configuration", "backups").Body.Blocks {
				if r.Type == "rule" {
					ids = append(ids, tfLiteral(t, r, "id").AsString())
				}
			}
			var want []string
			for _, r := range o.lifecycle().Rules {
				want = append(want, r.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("lifecycle rules %v, want %v (as --output lifecycle)", ids, want)
			}

			// Users: one, or one per var.hosts; never a console password.
			if o.Fleet {
				host := res("aws_iam_user", "host")
				if got := tfLiteral(t, host, "path").AsString(); got != o.fleetPath() {
					t.Errorf("fleet users' path %s, want %s", got, o.fleetPath())
				}
				if tfBlock(body, "variable", "hosts") == nil {
					t.Error("--fleet without a hosts variable")
				}
			} else if got := tfLiteral(t, res("aws_iam_user", "backup"), "name").AsString(); got != o.userName() {
				t.Errorf("user %s, want %s", got, o.userName())
			}
			for _, b := range body.Blocks {
				if b.Type == "resource" && b.Labels[0] == "aws_iam_user_login_profile" {
					t.Error("a console password (aws_iam_user_login_profile)")
				}
			}
			// The access key only when asked: count or for_each off by default.
			key := res("aws_iam_access_key", "backup")
			if _, ok := key.Body.Attributes["count"]; !ok {
				if _, ok := key.Body.Attributes["for_each"]; !ok {
					t.Error("the access key is created unconditionally: its secret would be in the state")
				}
			}
			def := tfLiteral(t, tfBlock(body, "variable", "create_access_key"), "default")
			if def.True() {
				t.Error("create_access_key defaults to true")
			}
			if got := tfLiteral(t, tfBlock(body, "variable", "region"), "default").AsString(); got != o.Region {
				t.Errorf("region default %s, want %s", got, o.Region)
			}
		})
	}
}

// TestTerraformEscapesInterpolation: IAM's policy variables survive
// Terraform's template syntax ("${aws:username}" in a fleet's policy would
// otherwise be a Terraform reference).
func TestTerraformEscapesInterpolation(t *testing.T) {
	o := GenerateOptions{Bucket: "acme-db-backups", Principal: "arn:aws:iam::111122223333:user/putonly/*", Prefix: "db/", Fleet: true}
	up, err := GenerateUserPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(up), "${aws:username}") {
		t.Fatal("the fleet policy no longer uses ${aws:username}: this test checks nothing")
	}
	doc, err := GenerateTerraform(o, "x")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ReplaceAll(string(doc), "$${", ""), "${aws:") {
		t.Error("an unescaped ${aws:...} in the Terraform output")
	}
	got := tfLiteral(t, tfBlock(tfParse(t, doc), "resource", "aws_iam_policy", "backup"), "policy").AsString()
	if got != string(up) {
		t.Errorf("the fleet policy, after HCL evaluation:\n%s\nwant\n%s", got, up)
	}
}

func TestTerraformValidates(t *testing.T) {
	if _, err := GenerateTerraform(GenerateOptions{Bucket: "Bad_Bucket"}, "x"); err == nil {
		t.Error("GenerateTerraform accepted a bad bucket and no principal")
	}
}

// TestTerraformModuleMatchesJSON: the form for terraform-aws-modules/
// s3-bucket passes putonly's bucket policy byte for byte as the module's
// policy input, with the same lifecycle rules and options.
func TestTerraformModuleMatchesJSON(t *testing.T) {
	for _, o := range tfOptions() {
		name := fmt.Sprintf("prefix=%q list=%v kms=%v lock=%d fleet=%v", o.Prefix, o.AllowList, o.KMSKeyARN != "", o.ObjectLockDays, o.Fleet)
		t.Run(name, func(t *testing.T) {
			doc, err := GenerateTerraformModule(o, "x")
			if err != nil {
				t.Fatal(err)
			}
			body := tfParse(t, doc)
			bp, _ := GenerateBucketPolicy(o)
			up, _ := GenerateUserPolicy(o)
			mod := tfBlock(body, "module", "putonly_backups")
			if mod == nil {
				t.Fatal("no module block")
			}
			if got := tfLiteral(t, mod, "source").AsString(); got != "terraform-aws-modules/s3-bucket/aws" {
				t.Errorf("module source %s", got)
			}
			if got := tfLiteral(t, mod, "policy").AsString(); got != string(bp) {
				t.Errorf("module policy differs from --output bucket-policy:\n%s", got)
			}
			if !tfLiteral(t, mod, "attach_policy").True() {
				t.Error("attach_policy is not true: the module would drop the policy")
			}
			if got := tfLiteral(t, tfBlock(body, "resource", "aws_iam_policy", "backup"), "policy").AsString(); got != string(up) {
				t.Errorf("user policy differs from --output user-policy")
			}
			if tfBlock(body, "resource", "aws_s3_bucket_policy", "backups") != nil {
				t.Error("a second bucket policy beside the module's")
			}
			rules := tfLiteral(t, mod, "lifecycle_rule")
			var ids []string
			for it := rules.ElementIterator(); it.Next(); {
				_, r := it.Element()
				ids = append(ids, r.GetAttr("id").AsString())
			}
			var want []string
			for _, r := range o.lifecycle().Rules {
				want = append(want, r.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("lifecycle rules %v, want %v", ids, want)
			}
			_, locked := mod.Body.Attributes["object_lock_configuration"]
			if locked != (o.ObjectLockDays > 0) {
				t.Errorf("object_lock_configuration present=%v with --object-lock %d", locked, o.ObjectLockDays)
			}
			enc := tfLiteral(t, mod, "server_side_encryption_configuration").GetAttr("rule")
			if got := enc.GetAttr("apply_server_side_encryption_by_default").GetAttr("sse_algorithm").AsString(); (got == "aws:kms") != (o.KMSKeyARN != "") {
				t.Errorf("sse_algorithm %s with kms=%v", got, o.KMSKeyARN != "")
			}
		})
	}
}
