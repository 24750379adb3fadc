package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// GenerateTerraform returns a Terraform configuration (plain HCL for the
// hashicorp/aws provider) that creates what GenerateSetup creates: the
// bucket with its defences (Block Public Access, ACLs off, default
// encryption, object lock, lifecycle), the backup user with no console
// password (or, with Fleet, one user per host of var.hosts), its managed
// policy and the bucket policy. The two policies are the documents
// GenerateBucketPolicy and GenerateUserPolicy return, byte for byte, in
// heredocs ("$${" keeps IAM's own "${aws:username}" from Terraform's
// interpolation).
//
// No access key is created unless var.create_access_key is set: Terraform
// keeps a resource's attributes, the secret included, in its state, in
// plain text unless encrypted to a PGP key, and whoever reads the state
// could then write backups as that host. The comment in the output says
// how to make the key with the AWS CLI instead.
//
// The bucket has lifecycle { prevent_destroy = true } and no force_destroy:
// "terraform destroy" must never delete backups.
func GenerateTerraform(o GenerateOptions, commandLine string) ([]byte, error) {
	return o.terraform(commandLine, func(w func(string, ...any), bp, up []byte) {

		w("# 1. The bucket and its defences.\n")
		w("resource \"aws_s3_bucket\" \"backups\" {\n")
		w("  bucket = %s\n", hclString(o.Bucket))
		if o.ObjectLockDays > 0 {
			w("  # Object lock (which turns versioning on): every backup is kept %d days.\n", o.ObjectLockDays)
			w("  object_lock_enabled = true\n")
		}
		w("  # Deleting this configuration must never delete backups.\n")
		w("  force_destroy = false\n")
		w("  lifecycle {\n")
		w("    prevent_destroy = true\n")
		w("  }\n")
		w("}\n\n")

		w("# Nothing in it is ever public, and ACLs play no part in access.\n")
		w("resource \"aws_s3_bucket_public_access_block\" \"backups\" {\n")
		w("  bucket                  = aws_s3_bucket.backups.id\n")
		w("  block_public_acls       = true\n")
		w("  ignore_public_acls      = true\n")
		w("  block_public_policy     = true\n")
		w("  restrict_public_buckets = true\n")
		w("}\n\n")
		w("resource \"aws_s3_bucket_ownership_controls\" \"backups\" {\n")
		w("  bucket = aws_s3_bucket.backups.id\n")
		w("  rule {\n")
		w("    object_ownership = \"BucketOwnerEnforced\"\n")
		w("  }\n")
		w("}\n\n")

		o.writeTerraformEncryption(w)

		o.writeTerraformLifecycle(w)

		o.writeTerraformIAM(w, bp, up, false)
	})
}

// writeTerraformEncryption writes the bucket's default encryption and, with
// object lock, its versioning and lock configuration.
func (o GenerateOptions) writeTerraformEncryption(w func(string, ...any)) {
	w("# Default encryption: what S3 applies to every upload, multipart parts included.\n")
	w("resource \"aws_s3_bucket_server_side_encryption_configuration\" \"backups\" {\n")
	w("  bucket = aws_s3_bucket.backups.id\n")
	w("  rule {\n")
	o.writeEncryptionRule(w, "    ", " ")
	w("  }\n")
	w("}\n\n")

	if o.ObjectLockDays > 0 {
		w("resource \"aws_s3_bucket_versioning\" \"backups\" {\n")
		w("  bucket = aws_s3_bucket.backups.id\n")
		w("  versioning_configuration {\n")
		w("    status = \"Enabled\"\n")
		w("  }\n")
		w("}\n\n")
		w("# Object lock: every new backup is locked for %d days (%s mode).\n", o.ObjectLockDays, strings.ToLower(o.objectLockMode()))
		w("resource \"aws_s3_bucket_object_lock_configuration\" \"backups\" {\n")
		w("  bucket = aws_s3_bucket.backups.id\n")
		w("  rule {\n")
		w("    default_retention {\n")
		w("      mode = %s\n", hclString(o.objectLockMode()))
		w("      days = %d\n", o.ObjectLockDays)
		w("    }\n")
		w("  }\n")
		w("}\n\n")
	}
}

// writeTerraformIAM writes the backup user (or the fleet's users), its
// managed policy, the bucket policy (unless module: the bucket module
// attaches it) and the optional access key.
func (o GenerateOptions) writeTerraformIAM(w func(string, ...any), bp, up []byte, module bool) {
	w("# 2. The policy for the backup user: write-only, identity side.\n")
	w("resource \"aws_iam_policy\" \"backup\" {\n")
	w("  name        = %s\n", hclString(o.genPolicyName()))
	w("  description = %s\n", hclString("putonly: write-only backups to s3://"+o.Bucket+"/"+o.Prefix))
	w("  policy      = %s\n", hclHeredoc(up))
	w("}\n\n")

	if o.Fleet {
		w("# 3. One user per host, under the path %s: no console password (no\n", o.fleetPath())
		w("#    aws_iam_user_login_profile). The bucket policy names the account and the\n")
		w("#    path, so it does not wait for the users.\n")
		w("resource \"aws_iam_user\" \"host\" {\n")
		w("  for_each = var.hosts\n")
		w("  name     = each.key\n")
		w("  path     = %s\n", hclString(o.fleetPath()))
		w("}\n\n")
		w("resource \"aws_iam_user_policy_attachment\" \"host\" {\n")
		w("  for_each   = var.hosts\n")
		w("  user       = aws_iam_user.host[each.key].name\n")
		w("  policy_arn = aws_iam_policy.backup.arn\n")
		w("}\n\n")
		if !module {
			w("resource \"aws_s3_bucket_policy\" \"backups\" {\n")
			w("  bucket = aws_s3_bucket.backups.id\n")
			w("  policy = %s\n", hclHeredoc(bp))
			w("  depends_on = [aws_s3_bucket_public_access_block.backups]\n")
			w("}\n\n")
		}
		writeTerraformAccessKey(w, "  for_each = var.create_access_key ? var.hosts : toset([])\n", "aws_iam_user.host[each.key].name",
			"aws iam create-access-key --user-name HOST")
		return
	}

	w("# 3. The backup user: no console password (no aws_iam_user_login_profile).\n")
	w("resource \"aws_iam_user\" \"backup\" {\n")
	w("  name = %s\n", hclString(o.userName()))
	w("  path = %s\n", hclString(o.userPath()))
	w("}\n\n")
	w("resource \"aws_iam_user_policy_attachment\" \"backup\" {\n")
	w("  user       = aws_iam_user.backup.name\n")
	w("  policy_arn = aws_iam_policy.backup.arn\n")
	w("}\n\n")
	if !module {
		w("# 4. The bucket policy, once the user exists (S3 rejects a policy naming an\n")
		w("#    unknown principal).\n")
		w("resource \"aws_s3_bucket_policy\" \"backups\" {\n")
		w("  bucket = aws_s3_bucket.backups.id\n")
		w("  policy = %s\n", hclHeredoc(bp))
		w("  depends_on = [aws_iam_user.backup, aws_s3_bucket_public_access_block.backups]\n")
		w("}\n\n")
	}
	writeTerraformAccessKey(w, "  count = var.create_access_key ? 1 : 0\n", "aws_iam_user.backup.name",
		"aws iam create-access-key --user-name "+o.userName())
}

// writeTerraformHeader writes the provider requirements, the variables,
// the provider and the account check.
func (o GenerateOptions) writeTerraformHeader(w func(string, ...any), commandLine string) {
	w("# Terraform configuration for putonly's write-only backup bucket %s.\n", o.Bucket)
	w("# Made by: %s\n", commandLine)
	w("#\n")
	w("#   terraform init && terraform plan -out putonly.plan && terraform apply putonly.plan\n")
	w("#\n")
	w("# The two policies are the documents 'putonly-policy generate --output bucket-policy'\n")
	w("# and '--output user-policy' print; verify them with 'putonly-policy verify'.\n\n")

	w("terraform {\n")
	w("  required_version = \">= 1.5\"\n")
	w("  required_providers {\n")
	w("    aws = {\n")
	w("      source  = \"hashicorp/aws\"\n")
	w("      # 6.x: blocked_encryption_types (SSE-C blocked) needs a 2026 release of\n")
	w("      # the provider; an older one says \"Unsupported argument\": upgrade it.\n")
	w("      version = \">= 6.0\"\n")
	w("    }\n")
	w("  }\n")
	w("}\n\n")

	w("variable \"region\" {\n")
	w("  description = \"The bucket's Region.\"\n")
	w("  type        = string\n")
	if o.Region != "" {
		w("  default     = %s\n", hclString(o.Region))
	}
	w("}\n\n")
	if o.Fleet {
		w("variable \"hosts\" {\n")
		w("  description = \"One IAM user per database host, under the path %s; each writes only under %s<user name>/.\"\n", o.fleetPath(), o.Prefix)
		w("  type        = set(string)\n")
		w("  default     = []\n")
		w("}\n\n")
	}
	w("variable \"create_access_key\" {\n")
	w("  description = \"Create the access key in Terraform. Off by default: its secret would be kept in the state.\"\n")
	w("  type        = bool\n")
	w("  default     = false\n")
	w("}\n\n")
	w("variable \"access_key_pgp_key\" {\n")
	w("  description = \"With create_access_key: a PGP public key (or keybase:NAME) the secret is encrypted to in the state.\"\n")
	w("  type        = string\n")
	w("  default     = null\n")
	w("}\n\n")

	w("provider \"aws\" {\n")
	w("  region = var.region\n")
	w("}\n\n")

	w("# Refuse to apply in the wrong account.\n")
	w("data \"aws_caller_identity\" \"current\" {\n")
	w("  lifecycle {\n")
	w("    postcondition {\n")
	w("      condition     = self.account_id == %s\n", hclString(o.account()))
	w("      error_message = \"This configuration is for account %s.\"\n", o.account())
	w("    }\n")
	w("  }\n")
	w("}\n\n")
}

// terraform validates o, makes the two policies, writes the header every
// Terraform form shares, and then the form's own body.
func (o GenerateOptions) terraform(commandLine string, body func(w func(string, ...any), bp, up []byte)) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	bp, err := GenerateBucketPolicy(o)
	if err != nil {
		return nil, err
	}
	up, err := GenerateUserPolicy(o)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	o.writeTerraformHeader(w, commandLine)
	body(w, bp, up)
	return []byte(b.String()), nil
}

// writeTerraformAccessKey writes the optional access key and why it is off.
func writeTerraformAccessKey(w func(string, ...any), repeat, user, cli string) {
	w("# 5. The access key. Off by default: Terraform stores the secret in its state\n")
	w("#    (plain text unless var.access_key_pgp_key is set), and whoever can read the\n")
	w("#    state could write backups as the host. Without it, make the one key with\n")
	w("#      %s\n", cli)
	w("#    and copy it to the host's ~/.aws/credentials (mode 600).\n")
	w("resource \"aws_iam_access_key\" \"backup\" {\n")
	w("%s", repeat)
	w("  user    = %s\n", user)
	w("  pgp_key = var.access_key_pgp_key\n")
	w("}\n")
}

// writeTerraformLifecycle writes the lifecycle rules GenerateLifecycle
// returns, in the provider's block syntax.
func (o GenerateOptions) writeTerraformLifecycle(w func(string, ...any)) {
	w("# Retention: the backup key can delete nothing; these rules expire old backups.\n")
	w("resource \"aws_s3_bucket_lifecycle_configuration\" \"backups\" {\n")
	w("  bucket = aws_s3_bucket.backups.id\n")
	if o.ObjectLockDays > 0 {
		w("  depends_on = [aws_s3_bucket_versioning.backups]\n")
	}
	for _, r := range o.lifecycle().Rules {
		w("\n  rule {\n")
		w("    id     = %s\n", hclString(r.ID))
		w("    status = %s\n", hclString(r.Status))
		w("    filter {\n")
		w("      prefix = %s\n", hclString(r.Filter.Prefix))
		w("    }\n")
		if e := r.Expiration; e != nil {
			w("    expiration {\n")
			if e.Days > 0 {
				w("      days = %d\n", e.Days)
			}
			if e.ExpiredObjectDeleteMarker {
				w("      expired_object_delete_marker = true\n")
			}
			w("    }\n")
		}
		for _, t := range r.Transitions {
			w("    transition {\n")
			w("      days          = %d\n", t.Days)
			w("      storage_class = %s\n", hclString(t.StorageClass))
			w("    }\n")
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			w("    noncurrent_version_expiration {\n")
			w("      noncurrent_days = %d\n", n.NoncurrentDays)
			w("    }\n")
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			w("    abort_incomplete_multipart_upload {\n")
			w("      days_after_initiation = %d\n", a.DaysAfterInitiation)
			w("    }\n")
		}
		w("  }\n")
	}
	w("}\n\n")
}

// hclStringList is a list of strings as an HCL tuple.
func hclStringList(vs []any) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = hclString(v.(string))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// hclString quotes s as an HCL string literal: JSON-style escapes, plus
// "$${" and "%%{" so that no template sequence is interpolated.
func hclString(s string) string {
	q := strconv.Quote(s)
	return hclEscapeTemplate(q)
}

func hclEscapeTemplate(s string) string {
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}

// hclHeredoc is doc as an HCL heredoc whose value is doc byte for byte: a
// heredoc's value ends with the newline before its closing marker, and
// template sequences are escaped.
func hclHeredoc(doc []byte) string {
	s := string(doc)
	if !strings.HasSuffix(s, "\n") {
		s += "\n" // GenerateBucketPolicy's documents end in one; keep the shape
	}
	return "<<PUTONLY_EOT\n" + hclEscapeTemplate(s) + "PUTONLY_EOT"
}

// GenerateTerraformModule returns the same set-up as GenerateTerraform for
// a configuration that makes its buckets with the community module
// terraform-aws-modules/s3-bucket/aws: one module block with putonly's
// bucket policy (attach_policy, policy: the GenerateBucketPolicy document
// byte for byte), its defences, object lock and lifecycle rules as that
// module's inputs, then the same IAM resources as GenerateTerraform.
func GenerateTerraformModule(o GenerateOptions, commandLine string) ([]byte, error) {
	return o.terraform(commandLine, func(w func(string, ...any), bp, up []byte) {

		w("# 1. The bucket, with the module most Terraform users make buckets with.\n")
		w("module \"putonly_backups\" {\n")
		w("  source  = \"terraform-aws-modules/s3-bucket/aws\"\n")
		w("  version = \">= 4.0\"\n\n")
		w("  bucket        = %s\n", hclString(o.Bucket))
		w("  force_destroy = false\n\n")
		w("  # Nothing in it is ever public, and ACLs play no part in access.\n")
		w("  block_public_acls        = true\n")
		w("  ignore_public_acls       = true\n")
		w("  block_public_policy      = true\n")
		w("  restrict_public_buckets  = true\n")
		w("  control_object_ownership = true\n")
		w("  object_ownership         = \"BucketOwnerEnforced\"\n\n")
		o.writeModuleEncryption(w)
		if o.ObjectLockDays > 0 {
			w("  # Object lock: every new backup is locked for %d days (%s mode).\n", o.ObjectLockDays, strings.ToLower(o.objectLockMode()))
			w("  object_lock_enabled = true\n")
			w("  versioning = {\n")
			w("    enabled = true\n")
			w("  }\n")
			w("  object_lock_configuration = {\n")
			w("    rule = {\n")
			w("      default_retention = {\n")
			w("        mode = %s\n", hclString(o.objectLockMode()))
			w("        days = %d\n", o.ObjectLockDays)
			w("      }\n")
			w("    }\n")
			w("  }\n\n")
		}
		o.writeModuleLifecycle(w)
		w("  # The write-only bucket policy ('putonly-policy generate --output bucket-policy').\n")
		w("  attach_policy = true\n")
		w("  policy        = %s\n", hclHeredoc(bp))
		if !o.Fleet {
			w("\n  # S3 rejects a policy naming a principal that does not exist yet.\n")
			w("  depends_on = [aws_iam_user.backup]\n")
		}
		w("}\n\n")
		o.writeTerraformIAM(w, bp, up, true)
	})
}

// writeEncryptionRule writes the body of the default-encryption rule at
// indent ind: SSE-S3 or SSE-KMS with a bucket key, and SSE-C blocked. sep is
// what joins a nested name to its braces: " " for the provider's blocks,
// " = " for the module's objects.
func (o GenerateOptions) writeEncryptionRule(w func(string, ...any), ind, sep string) {
	w("%sapply_server_side_encryption_by_default%s{\n", ind, sep)
	if o.KMSKeyARN != "" {
		w("%s  sse_algorithm     = \"aws:kms\"\n", ind)
		w("%s  kms_master_key_id = %s\n", ind, hclString(o.KMSKeyARN))
		w("%s}\n", ind)
		w("%sbucket_key_enabled = true\n", ind)
	} else {
		w("%s  sse_algorithm = \"AES256\"\n", ind)
		w("%s}\n", ind)
	}
	w("%s# No uploads with customer-provided keys (SSE-C): such an upload stores a\n", ind)
	w("%s# backup only the key's holder can decrypt.\n", ind)
	w("%sblocked_encryption_types = %s\n", ind, hclStringList(genBlockSSEC["EncryptionType"].([]any)))
}

// writeModuleEncryption writes the module's default encryption.
func (o GenerateOptions) writeModuleEncryption(w func(string, ...any)) {
	w("  # Default encryption: what S3 applies to every upload, multipart parts included.\n")
	w("  server_side_encryption_configuration = {\n")
	w("    rule = {\n")
	o.writeEncryptionRule(w, "      ", " = ")
	w("    }\n")
	w("  }\n\n")
}

// writeModuleLifecycle writes the module's lifecycle rules.
func (o GenerateOptions) writeModuleLifecycle(w func(string, ...any)) {
	w("  # Retention: the backup key can delete nothing; these rules expire old backups.\n")
	w("  lifecycle_rule = [\n")
	for _, r := range o.lifecycle().Rules {
		w("    {\n")
		w("      id      = %s\n", hclString(r.ID))
		w("      enabled = %v\n", r.Status == "Enabled")
		w("      filter = {\n")
		w("        prefix = %s\n", hclString(r.Filter.Prefix))
		w("      }\n")
		if e := r.Expiration; e != nil {
			w("      expiration = {\n")
			if e.Days > 0 {
				w("        days = %d\n", e.Days)
			}
			if e.ExpiredObjectDeleteMarker {
				w("        expired_object_delete_marker = true\n")
			}
			w("      }\n")
		}
		if len(r.Transitions) > 0 {
			w("      transition = [\n")
			for _, t := range r.Transitions {
				w("        {\n")
				w("          days          = %d\n", t.Days)
				w("          storage_class = %s\n", hclString(t.StorageClass))
				w("        },\n")
			}
			w("      ]\n")
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			w("      noncurrent_version_expiration = {\n")
			w("        noncurrent_days = %d\n", n.NoncurrentDays)
			w("      }\n")
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			w("      abort_incomplete_multipart_upload_days = %d\n", a.DaysAfterInitiation)
		}
		w("    },\n")
	}
	w("  ]\n\n")
}
