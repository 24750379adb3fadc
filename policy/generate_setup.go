package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// genPolicyName is the name of the customer managed policy for the backup
// user (or the fleet): at most 128 characters of [\w+=,.@-].
func (o GenerateOptions) genPolicyName() string {
	name := "putonly-" + o.Bucket
	if !o.Fleet {
		name += "-" + o.userName()
	} else {
		name += "-fleet"
	}
	if len(name) > 128 {
		name = name[:128]
	}
	return name
}

// fleetPath is the IAM path of the fleet's users: user/putonly/* -> /putonly/.
func (o GenerateOptions) fleetPath() string {
	_, rest, _ := strings.Cut(o.Principal, ":user/")
	return "/" + strings.TrimSuffix(rest, "*")
}

// genBlockSSEC blocks uploads with customer-provided keys (SSE-C): such an
// upload stores a backup only the key's holder can decrypt. Same shape in
// the S3 API and CloudFormation ("BlockedEncryptionTypes", Amazon S3 API
// Reference, https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html;
// AWS::S3::Bucket BlockedEncryptionTypes,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-blockedencryptiontypes.html).
var genBlockSSEC = map[string]any{"EncryptionType": []any{"SSE-C"}}

// genEncryptionConfig is the bucket's default encryption, which is what
// requires encryption (see genWriteConditionStatements).
func (o GenerateOptions) genEncryptionConfig() map[string]any {
	def := map[string]any{"SSEAlgorithm": "AES256"}
	rule := map[string]any{"ApplyServerSideEncryptionByDefault": def, "BlockedEncryptionTypes": genBlockSSEC}
	if o.KMSKeyARN != "" {
		def["SSEAlgorithm"] = "aws:kms"
		def["KMSMasterKeyID"] = o.KMSKeyARN
		// An S3 Bucket Key cuts the KMS requests (and their cost) per
		// object: "Reducing the cost of SSE-KMS with Amazon S3 Bucket
		// Keys", S3 User Guide.
		rule["BucketKeyEnabled"] = true
	}
	return map[string]any{"Rules": []any{rule}}
}

func (o GenerateOptions) genObjectLockConfig() map[string]any {
	return map[string]any{
		"ObjectLockEnabled": "Enabled",
		"Rule":              map[string]any{"DefaultRetention": map[string]any{"Mode": o.objectLockMode(), "Days": o.ObjectLockDays}},
	}
}

// genCompact marshals v on one line, for a shell argument.
func genCompact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only maps, slices, strings and ints
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// GenerateSetup returns a POSIX shell script of AWS CLI commands that
// create the bucket with its defences (Block Public Access, ACLs off,
// default encryption, object lock, lifecycle), the backup user with no
// console password, its managed policy, the bucket policy, and exactly one
// access key, written to a file only the admin can read. The documents it
// applies are the ones the other --output kinds print, embedded.
//
// commandLine is the generate command that produced it, recorded in the
// header so the script can be re-made.
func GenerateSetup(o GenerateOptions, commandLine string) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	bp, err := genJSON(o.bucketPolicy())
	if err != nil {
		return nil, err
	}
	up, err := genJSON(o.userPolicy())
	if err != nil {
		return nil, err
	}
	lc, err := genJSON(o.lifecycle())
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	lock := ""
	if o.ObjectLockDays > 0 {
		lock = " --object-lock-enabled-for-bucket"
	}

	setupHeader(w, o, commandLine, bp, up, lc)
	setupBucket(w, o, lock)
	if o.Fleet {
		setupFleet(w, o)
	} else {
		setupUser(w, o)
	}
	return []byte(b.String()), nil
}

// setupHeader writes the script's variables, its account check and the
// documents it applies.
func setupHeader(w func(string, ...any), o GenerateOptions, commandLine string, bp, up, lc []byte) {
	w("#!/bin/sh\n")
	w("# Sets up the S3 bucket %s and its backup user for putonly.\n", o.Bucket)
	w("# Made by: %s\n", commandLine)
	w("#\n")
	w("# Run it once, as an administrator of account %s, with the AWS CLI v2, in an\n", o.account())
	w("# empty directory: it writes the documents it applies (and the access key) there.\n")
	w("# It stops at the first error; every step is printed before it runs.\n")
	w("set -eux\n")
	w("umask 077\n\n")
	w("BUCKET='%s'\n", o.Bucket)
	w("ACCOUNT='%s'\n", o.account())
	if o.Region != "" {
		w("REGION='%s'\n", o.Region)
	} else {
		w("REGION=\"${AWS_REGION:-$(aws configure get region)}\"\n")
	}
	w("POLICY_NAME='%s'\n", o.genPolicyName())
	w("POLICY_ARN=\"arn:%s:iam::$ACCOUNT:policy/$POLICY_NAME\"\n\n", o.partition())

	w("test -n \"$REGION\"\n")
	w("# Refuse to run against the wrong account.\n")
	w("test \"$(aws sts get-caller-identity --query Account --output text)\" = \"$ACCOUNT\"\n\n")

	w("# The documents.\n")
	for _, d := range []struct {
		file string
		doc  []byte
	}{{"putonly-bucket-policy.json", bp}, {"putonly-user-policy.json", up}, {"putonly-lifecycle.json", lc}} {
		w("cat > %s <<'PUTONLY_EOF'\n%sPUTONLY_EOF\n", d.file, d.doc)
	}
	w("\n")
}

// setupBucket writes steps 1 and 2: the bucket and the backup user's policy.
func setupBucket(w func(string, ...any), o GenerateOptions, lock string) {
	w("# 1. The bucket. us-east-1 takes no LocationConstraint.\n")
	w("if [ \"$REGION\" = us-east-1 ]; then\n")
	w("  aws s3api create-bucket --bucket \"$BUCKET\" --region \"$REGION\"%s\n", lock)
	w("else\n")
	w("  aws s3api create-bucket --bucket \"$BUCKET\" --region \"$REGION\" --create-bucket-configuration \"LocationConstraint=$REGION\"%s\n", lock)
	w("fi\n")
	w("# Nothing in it is ever public, and ACLs play no part in access.\n")
	w("aws s3api put-public-access-block --bucket \"$BUCKET\" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true\n")
	w("aws s3api put-bucket-ownership-controls --bucket \"$BUCKET\" --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'\n")
	w("# Default encryption: what S3 applies to every upload, multipart parts included.\n")
	w("aws s3api put-bucket-encryption --bucket \"$BUCKET\" --server-side-encryption-configuration '%s'\n", genCompact(o.genEncryptionConfig()))
	if o.ObjectLockDays > 0 {
		w("# Object lock: every new backup is locked for %d days (%s mode).\n", o.ObjectLockDays, strings.ToLower(o.objectLockMode()))
		w("aws s3api put-object-lock-configuration --bucket \"$BUCKET\" --object-lock-configuration '%s'\n", genCompact(o.genObjectLockConfig()))
	}
	w("# Retention: the backup key can delete nothing; these rules expire old backups.\n")
	w("aws s3api put-bucket-lifecycle-configuration --bucket \"$BUCKET\" --lifecycle-configuration file://putonly-lifecycle.json\n\n")

	w("# 2. The policy for the backup user: write-only, identity side.\n")
	w("aws iam create-policy --policy-name \"$POLICY_NAME\" --policy-document file://putonly-user-policy.json \\\n")
	w("  --description 'putonly: write-only backups to s3://%s/%s'\n\n", o.Bucket, o.Prefix)
}

// setupFleet writes steps 3 and 4 for a fleet: the bucket policy, then one
// user per host.
func setupFleet(w func(string, ...any), o GenerateOptions) {
	w("# 3. The bucket policy. It names the account and the users' path, so no user\n")
	w("#    has to exist yet.\n")
	w("aws s3api put-bucket-policy --bucket \"$BUCKET\" --policy file://putonly-bucket-policy.json\n\n")
	w("# 4. One user per host, under the path %s: no console password (never run\n", o.fleetPath())
	w("#    create-login-profile for it) and exactly one access key, written to NAME.key.\n")
	w("#    Copy that file to the host's ~/.aws/credentials, then delete it here.\n")
	w("add_host() {\n")
	w("  aws iam create-user --user-name \"$1\" --path '%s'\n", o.fleetPath())
	w("  aws iam attach-user-policy --user-name \"$1\" --policy-arn \"$POLICY_ARN\"\n")
	w("  test \"$(aws iam list-access-keys --user-name \"$1\" --query 'length(AccessKeyMetadata)' --output text)\" = 0\n")
	w("  set +x\n")
	genWriteKey(w, "  ", "1")
	w("  set -x\n")
	w("}\n")
	w("# The hosts named on the command line: sh setup.sh db1 db2. Add one later with\n")
	w("# the commands of add_host.\n")
	w("for host in \"$@\"; do\n")
	w("  add_host \"$host\"\n")
	w("done\n")
}

// setupUser writes steps 3 to 6 for one backup user and its access key.
func setupUser(w func(string, ...any), o GenerateOptions) {
	w("# 3. The backup user: no console password (never run create-login-profile for it).\n")
	w("USER_NAME='%s'\n", o.userName())
	w("aws iam create-user --user-name \"$USER_NAME\" --path '%s'\n", o.userPath())
	w("aws iam attach-user-policy --user-name \"$USER_NAME\" --policy-arn \"$POLICY_ARN\"\n\n")
	w("# 4. The bucket policy, now that the user exists (S3 rejects a policy naming an\n")
	w("#    unknown principal).\n")
	w("aws s3api put-bucket-policy --bucket \"$BUCKET\" --policy file://putonly-bucket-policy.json\n\n")
	w("# 5. Check: no console password, no access key yet.\n")
	w("if aws iam get-login-profile --user-name \"$USER_NAME\" >/dev/null 2>&1; then\n")
	w("  echo \"$USER_NAME has a console password: delete it with aws iam delete-login-profile\" >&2\n")
	w("  exit 1\n")
	w("fi\n")
	w("test \"$(aws iam list-access-keys --user-name \"$USER_NAME\" --query 'length(AccessKeyMetadata)' --output text)\" = 0\n\n")
	w("# 6. Exactly one access key, written as a credentials file only you can read.\n")
	w("#    Copy it to the database host's ~/.aws/credentials (mode 600), then delete it here.\n")
	w("set +x\n")
	genWriteKey(w, "", "USER_NAME")
	w("echo \"access key written to $USER_NAME.key\"\n")
}

// GenerateCloudFormation returns a CloudFormation template (JSON) that
// creates the same as GenerateSetup, except the access key: a key created
// by CloudFormation puts its secret in the stack (outputs or a secret
// store the host would then need rights to read), so the template creates
// the user without keys and the description says how to make the one key.
//
// The bucket is retained when the stack is deleted or the bucket replaced:
// deleting a stack must never delete backups.
func GenerateCloudFormation(o GenerateOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	bucket := map[string]any{
		"BucketName": o.Bucket,
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true,
		},
		"OwnershipControls": map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		"BucketEncryption":  o.genCFNEncryption(),
		"LifecycleConfiguration": map[string]any{
			"Rules": o.genCFNLifecycleRules(),
		},
	}
	if o.ObjectLockDays > 0 {
		bucket["ObjectLockEnabled"] = true
		bucket["ObjectLockConfiguration"] = o.genObjectLockConfig()
		bucket["VersioningConfiguration"] = map[string]any{"Status": "Enabled"}
	}
	res := map[string]any{
		"BackupBucket": map[string]any{
			"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": bucket,
		},
		"BackupPolicy": map[string]any{
			"Type": "AWS::IAM::ManagedPolicy",
			"Properties": map[string]any{
				"ManagedPolicyName": o.genPolicyName(),
				"Description":       "putonly: write-only backups to s3://" + o.Bucket + "/" + o.Prefix,
				"PolicyDocument":    o.userPolicy(),
			},
		},
		"BackupBucketPolicy": map[string]any{
			"Type": "AWS::S3::BucketPolicy",
			"Properties": map[string]any{
				"Bucket":         map[string]any{"Ref": "BackupBucket"},
				"PolicyDocument": o.bucketPolicy(),
			},
		},
	}
	outputs := map[string]any{
		"BucketName": map[string]any{"Value": map[string]any{"Ref": "BackupBucket"}},
		"PolicyArn":  map[string]any{"Value": map[string]any{"Ref": "BackupPolicy"}},
	}
	desc := "putonly: the write-only backup bucket s3://" + o.Bucket + "/" + o.Prefix
	if o.Fleet {
		desc += " and the policy for its fleet of users under " + o.fleetPath() + ". Add a host: aws iam create-user --user-name NAME --path " +
			o.fleetPath() + "; aws iam attach-user-policy --user-name NAME --policy-arn POLICYARN; aws iam create-access-key --user-name NAME (once)."
	} else {
		// No LoginProfile: the user has no console password.
		res["BackupUser"] = map[string]any{
			"Type": "AWS::IAM::User",
			"Properties": map[string]any{
				"UserName":          o.userName(),
				"Path":              o.userPath(),
				"ManagedPolicyArns": []any{map[string]any{"Ref": "BackupPolicy"}},
			},
		}
		// The bucket policy names the user's ARN: S3 rejects it until the
		// user exists.
		res["BackupBucketPolicy"].(map[string]any)["DependsOn"] = "BackupUser"
		outputs["UserName"] = map[string]any{"Value": map[string]any{"Ref": "BackupUser"}}
		desc += " and its backup user " + o.userName() + " (no console password). After the stack is created, make its one access key: aws iam create-access-key --user-name " + o.userName() + "."
	}
	tmpl := struct {
		Version     string         `json:"AWSTemplateFormatVersion"`
		Description string         `json:"Description"`
		Resources   map[string]any `json:"Resources"`
		Outputs     map[string]any `json:"Outputs"`
	}{"2010-09-09", desc, res, outputs}
	return genJSON(tmpl)
}

// genWriteKey writes the commands that create the access key of the user
// named by the shell variable v and store it as the credentials file
// "$v.key", never on the terminal.
func genWriteKey(w func(string, ...any), indent, v string) {
	w("%saws iam create-access-key --user-name \"${%s}\" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text |\n", indent, v)
	w("%s  { read -r id secret; printf '[default]\\naws_access_key_id = %%s\\naws_secret_access_key = %%s\\n' \"$id\" \"$secret\"; } >\"${%s}.key\"\n", indent, v)
}

func (o GenerateOptions) genCFNEncryption() map[string]any {
	def := map[string]any{"SSEAlgorithm": "AES256"}
	rule := map[string]any{"ServerSideEncryptionByDefault": def, "BlockedEncryptionTypes": genBlockSSEC}
	if o.KMSKeyARN != "" {
		def["SSEAlgorithm"] = "aws:kms"
		def["KMSMasterKeyID"] = o.KMSKeyARN
		rule["BucketKeyEnabled"] = true
	}
	return map[string]any{"ServerSideEncryptionConfiguration": []any{rule}}
}

// genCFNLifecycleRules are the lifecycle rules in CloudFormation's own
// property names (AWS::S3::Bucket Rule), which differ from the S3 API's.
func (o GenerateOptions) genCFNLifecycleRules() []any {
	var out []any
	for _, r := range o.lifecycle().Rules {
		m := map[string]any{"Id": r.ID, "Status": r.Status, "Prefix": r.Filter.Prefix}
		if r.Filter.Prefix == "" {
			delete(m, "Prefix")
		}
		if e := r.Expiration; e != nil {
			if e.Days > 0 {
				m["ExpirationInDays"] = e.Days
			}
			if e.ExpiredObjectDeleteMarker {
				m["ExpiredObjectDeleteMarker"] = true
			}
		}
		for _, t := range r.Transitions {
			m["Transitions"] = []any{map[string]any{"StorageClass": t.StorageClass, "TransitionInDays": t.Days}}
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			m["NoncurrentVersionExpiration"] = map[string]any{"NoncurrentDays": n.NoncurrentDays}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			m["AbortIncompleteMultipartUpload"] = map[string]any{"DaysAfterInitiation": a.DaysAfterInitiation}
		}
		out = append(out, m)
	}
	return out
}
