package policy

import (
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// TestVerifyTraps is the attacker's table: policies a write-only backup key
// must fail on (it could read, delete, overwrite or escalate), and safe
// ones it must not fail on. Each trap is one way a policy can look
// write-only and not be.
func TestVerifyTraps(t *testing.T) {
	user := `{"AWS":"` + verUser + `"}`
	idWrite := `{"Sid":"Write","Effect":"Allow","Action":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/db/*"]}`
	id := func(stmts ...string) string { return verDoc(append([]string{idWrite}, stmts...)...) }
	allowID := func(sid, action, resource string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}`
	}
	unversioned := func() map[string]string {
		m := verGoodSettings()
		delete(m, "versioning.json")
		return m
	}
	suspended := func() map[string]string {
		m := verGoodSettings()
		m["versioning.json"] = `{"Status":"Suspended"}`
		return m
	}
	seedBucket := verDoc(
		`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::bk"}`,
		`{"Effect":"Allow","Principal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*"}`,
	)
	type trap struct {
		name      string
		bucket    string // "" = the hardened bucket policy
		identity  []string
		principal string
		owner     string
		prefix    string // "" = db/
		settings  map[string]string
		fail      bool
		want      string // an action that must be a violation ("" any)
	}
	traps := []trap{
		// Wildcards in odd places.
		{name: "*:Put*", identity: []string{id(allowID("P", `"*:Put*"`, `"*"`))}, fail: true, want: "s3:PutBucketPolicy"},
		{name: "s3:?etObject", identity: []string{id(allowID("G", `"s3:?etObject"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "S3:GETOBJECT", identity: []string{id(allowID("G", `"S3:GETOBJECT"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:*Object", identity: []string{id(allowID("G", `"s3:*Object"`, `"arn:aws:s3:::bk/db/*"`))}, fail: true, want: "s3:DeleteObject"},
		{name: "s3:Get*", identity: []string{id(allowID("G", `"s3:Get*"`, `"*"`))}, fail: true, want: "s3:GetObjectVersion"},
		{name: "i?m:*", identity: []string{id(allowID("I", `"i?m:*"`, `"*"`))}, fail: true, want: "iam:CreateAccessKey"},
		{name: "s3*:*", identity: []string{id(allowID("S", `"s3*:*"`, `"*"`))}, fail: true},
		{name: "*", identity: []string{id(allowID("A", `"*"`, `"*"`))}, fail: true},
		{name: "*:*", identity: []string{id(allowID("A", `"*:*"`, `"*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:* on arn:aws:s3:::bk*", identity: []string{id(allowID("A", `"s3:*"`, `"arn:aws:s3:::bk*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on arn:aws:s3:::b?/*", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::b?/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on arn:aws:s3:*:*:bk/*", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:*:*:bk/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on arn:*:s3:::*", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:*:s3:::*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on arn:aws:s3:::*/*", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::*/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on a bare *", identity: []string{id(allowID("A", `"s3:GetObject"`, `"*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on arn:aws:*", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject on one backup", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/db/2026/full.dump.zst.age"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject via ${aws:username}", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/${aws:username}/*"`))}, fail: false},
		{name: "s3:GetObject on bk/${aws:username} when prefix is the user", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/d${aws:username}*"`))}, fail: false},
		{name: "s3:GetObject via ${aws:username} when the user is named as the prefix", principal: "arn:aws:iam::111122223333:user/ops/db", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/${aws:username}/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject via ${aws:PrincipalAccount}", prefix: "111122223333/", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/${aws:PrincipalAccount}/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "s3:GetObject with unknown variable", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::bk/${aws:PrincipalTag/team}/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "service segment in upper case", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:S3:::bk/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "partition segment in upper case", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:AWS:s3:::bk/*"`))}, fail: true, want: "s3:GetObject"},
		{name: "short ARN in upper case", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:AWS:*"`))}, fail: true, want: "s3:GetObject"},
		{name: "bucket name in upper case is another bucket", identity: []string{id(allowID("A", `"s3:GetObject"`, `"arn:aws:s3:::BK/*"`))}, fail: false},
		{name: "other bucket only", identity: []string{id(allowID("A", `"s3:*"`, `["arn:aws:s3:::bk-restore","arn:aws:s3:::bk-restore/*"]`))}, fail: false},
		{name: "other partition only", identity: []string{id(allowID("A", `"s3:*"`, `"arn:aws-cn:s3:::bk/*"`))}, fail: false},

		// Reads by other names.
		{name: "GetObjectVersion", identity: []string{id(allowID("A", `"s3:GetObjectVersion"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:GetObjectVersion"},
		{name: "GetObjectTorrent", identity: []string{id(allowID("A", `"s3:GetObjectTorrent"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:GetObjectTorrent"},
		{name: "RestoreObject", identity: []string{id(allowID("A", `"s3:RestoreObject"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:RestoreObject"},
		{name: "GetObjectForReplication", identity: []string{id(allowID("A", `"s3:GetObjectVersionForReplication"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "GetObjectAttributes", identity: []string{id(allowID("A", `"s3:GetObjectAttributes"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "s3-object-lambda:GetObject", identity: []string{id(allowID("A", `"s3-object-lambda:*"`, `"*"`))}, fail: true},
		{name: "s3express:CreateSession", identity: []string{id(allowID("A", `"s3express:CreateSession"`, `"*"`))}, fail: true},

		// Destroy by other names.
		{name: "DeleteObjectVersion with DeleteObject denied", bucket: verHardenedWith(`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bk/*"}`),
			identity: []string{id(allowID("A", `"s3:Delete*"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:DeleteObjectVersion"},
		{name: "PutObjectAcl", identity: []string{id(allowID("A", `"s3:PutObjectAcl"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:PutObjectAcl"},
		{name: "PutObjectRetention", identity: []string{id(allowID("A", `"s3:PutObjectRetention"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "BypassGovernanceRetention", identity: []string{id(allowID("A", `"s3:BypassGovernanceRetention"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "PutLifecycleConfiguration", identity: []string{id(allowID("A", `"s3:PutLifecycleConfiguration"`, `"arn:aws:s3:::bk"`))}, fail: true},
		{name: "PutBucketVersioning", identity: []string{id(allowID("A", `"s3:PutBucketVersioning"`, `"arn:aws:s3:::bk"`))}, fail: true},
		{name: "PutReplicationConfiguration", identity: []string{id(allowID("A", `"s3:PutReplicationConfiguration"`, `"arn:aws:s3:::bk"`))}, fail: true},
		{name: "ReplicateObject", identity: []string{id(allowID("A", `"s3:ReplicateObject"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "PutObjectTagging", identity: []string{id(allowID("A", `"s3:PutObjectTagging"`, `"arn:aws:s3:::bk/*"`))}, fail: true},
		{name: "PutEncryptionConfiguration", identity: []string{id(allowID("A", `"s3:PutEncryptionConfiguration"`, `"arn:aws:s3:::bk"`))}, fail: true},
		{name: "PutBucketPolicy via NotAction", identity: []string{id(`{"Effect":"Allow","NotAction":["s3:GetObject*","s3:Delete*"],"Resource":"arn:aws:s3:::bk"}`)}, fail: true, want: "s3:PutBucketPolicy"},
		{name: "NotAction with NotResource", identity: []string{id(`{"Effect":"Allow","NotAction":"s3:PutObject","NotResource":"arn:aws:s3:::bk/db/*"}`)}, fail: true},
		{name: "NotAction s3 reads only, on the bucket", identity: []string{id(`{"Effect":"Allow","NotAction":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::bk/*"}`)}, fail: true, want: "s3:DeleteObject"},
		{name: "seed on unversioned bucket", bucket: seedBucket, settings: unversioned(), fail: true, want: "s3:PutObject"},
		{name: "seed on suspended versioning", bucket: seedBucket, settings: suspended(), fail: true, want: "s3:PutObject"},
		{name: "overwrite deny on the wrong bucket", settings: unversioned(), fail: true, want: "s3:PutObject",
			bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE, strings.Replace(verNoRepl, "arn:aws:s3:::bk/*", "arn:aws:s3:::bk-old/*", 1))},
		{name: "overwrite deny on another principal", settings: unversioned(), fail: true, want: "s3:PutObject",
			bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE, strings.Replace(verNoRepl, verUser, "arn:aws:iam::111122223333:user/other", 1))},
		{name: "overwrite deny with an attacker-chosen condition", settings: unversioned(), fail: true, want: "s3:PutObject",
			bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringNotEquals":{"s3:if-none-match":"*"},"StringEquals":{"s3:x-amz-storage-class":"STANDARD"}}}`)},
		{name: "overwrite: deny with NotPrincipal listing the key", settings: unversioned(), fail: true, want: "s3:PutObject",
			bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE, `{"Effect":"Deny","NotPrincipal":`+user+`,"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"true"}}}`)},
		{name: "overwrite: deny with ForAllValues the caller can defeat (a tag key not listed)", settings: unversioned(), fail: true,
			bucket: verDoc(verLocate, verWrite, verNoHTTP, verSSE, `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"true"},"ForAllValues:StringEquals":{"aws:TagKeys":["x"]}}}`)},

		// Conditions.
		{name: "iam:* if SecureTransport", identity: []string{id(`{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`)}, fail: true, want: "iam:CreateAccessKey"},
		{name: "iam:* if username like *", identity: []string{id(`{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringLike":{"aws:username":"*"}}}`)}, fail: true, want: "iam:CreateAccessKey"},
		{name: "iam:* if username present (Null false)", identity: []string{id(`{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Null":{"aws:username":"false"}}}`)}, fail: true, want: "iam:CreateAccessKey"},
		{name: "GetObject if IfExists", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject if ForAllValues on absent tag keys", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["backup"]}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject if SSE header", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject from the host's IP", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.5/32"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject by the principal's own ARN", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject for the account", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject only for another account (false)", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}}`)}, fail: false},
		{name: "GetObject only for roles (false for a user)", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}}`)}, fail: false},
		{name: "GetObject if time", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject if ViaAWSService", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"true"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "GetObject if ForAnyValue on absent key (false)", identity: []string{id(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:username":["nobody"]}}}`)}, fail: false},

		// Denies that look protective.
		{name: "deny reads under a condition the caller controls", identity: []string{id(allowID("A", `"s3:*"`, `"*"`), `{"Effect":"Deny","Action":"s3:Get*","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`)}, fail: true, want: "s3:GetObject"},
		{name: "deny on the wrong ARN", identity: []string{id(allowID("A", `"s3:*"`, `"*"`), `{"Effect":"Deny","Action":"s3:Get*","Resource":"arn:aws:s3:::bk"}`)}, fail: true, want: "s3:GetObject"},
		{name: "deny in the bucket policy with NotPrincipal of the key", bucket: verHardenedWith(`{"Effect":"Deny","NotPrincipal":` + user + `,"Action":"s3:*","Resource":"arn:aws:s3:::bk/*"}`),
			identity: []string{id(allowID("A", `"s3:*"`, `"*"`))}, fail: true, want: "s3:GetObject"},
		{name: "deny to the account is a deny to the key", bucket: verHardenedWith(`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/*"]}`),
			identity: []string{id(allowID("A", `"s3:*"`, `"arn:aws:s3:::bk*"`))}, fail: false},
		{name: "deny with a Service principal protects nothing", bucket: verHardenedWith(`{"Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"NotAction":["s3:PutObject"],"Resource":["arn:aws:s3:::bk","arn:aws:s3:::bk/*"]}`),
			identity: []string{id(allowID("A", `"s3:*"`, `"arn:aws:s3:::bk*"`))}, fail: true, want: "s3:GetObject"},
		{name: "deny everything but putonly's, in the identity policy", identity: []string{id(allowID("A", `"*"`, `"*"`), `{"Effect":"Deny","NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"Resource":"*"}`)}, fail: false},
		{name: "deny everything but putonly's, NotResource the backups", identity: []string{id(allowID("A", `"*"`, `"*"`), `{"Effect":"Deny","NotAction":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation"],"NotResource":"arn:aws:s3:::bk/db/*"}`)}, fail: true},

		// Escalation outside S3.
		{name: "PassRole + ec2:RunInstances", identity: []string{id(allowID("P", `"iam:PassRole"`, `"*"`), allowID("E", `"ec2:RunInstances"`, `"*"`))}, fail: true, want: "ec2:RunInstances"},
		{name: "PassRole + ecs", identity: []string{id(allowID("P", `"iam:PassRole"`, `"*"`), allowID("E", `["ecs:RegisterTaskDefinition","ecs:RunTask"]`, `"*"`))}, fail: true, want: "ecs:RunTask"},
		{name: "PassRole + codebuild", identity: []string{id(allowID("P", `"iam:PassRole"`, `"*"`), allowID("E", `"codebuild:*"`, `"*"`))}, fail: true, want: "codebuild:CreateProject"},
		{name: "PassRole + glue", identity: []string{id(allowID("P", `"iam:PassRole"`, `"*"`), allowID("E", `"glue:CreateDevEndpoint"`, `"*"`))}, fail: true, want: "glue:CreateDevEndpoint"},
		{name: "PassRole + cloudformation", identity: []string{id(allowID("P", `"iam:PassRole"`, `"*"`), allowID("E", `"cloudformation:CreateStack"`, `"*"`))}, fail: true, want: "cloudformation:CreateStack"},
		{name: "ssm:SendCommand", identity: []string{id(allowID("S", `"ssm:SendCommand"`, `"*"`))}, fail: true, want: "ssm:SendCommand"},
		{name: "organizations", identity: []string{id(allowID("O", `"organizations:LeaveOrganization"`, `"*"`))}, fail: true, want: "organizations:LeaveOrganization"},
		{name: "kms:CreateGrant on the key", identity: []string{id(allowID("K", `"kms:CreateGrant"`, `"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"`))}, fail: true, want: "kms:CreateGrant"},
		{name: "kms:PutKeyPolicy", identity: []string{id(allowID("K", `"kms:PutKeyPolicy"`, `"*"`))}, fail: true, want: "kms:PutKeyPolicy"},
		{name: "secretsmanager:GetSecretValue", identity: []string{id(allowID("S", `"secretsmanager:GetSecretValue"`, `"*"`))}, fail: true, want: "secretsmanager:GetSecretValue"},
		{name: "sts:AssumeRole on one role", identity: []string{id(allowID("S", `"sts:AssumeRole"`, `"arn:aws:iam::111122223333:role/admin"`))}, fail: true, want: "sts:AssumeRole"},
		{name: "sts:* via NotAction iam", identity: []string{id(`{"Effect":"Allow","NotAction":["iam:*","s3:*"],"Resource":"*"}`)}, fail: true, want: "sts:AssumeRole"},
		{name: "iam:CreateAccessKey on the key itself", identity: []string{id(allowID("K", `"iam:CreateAccessKey"`, `"arn:aws:iam::111122223333:user/${aws:username}"`))}, fail: true, want: "iam:CreateAccessKey"},
		{name: "iam:Put* NotResource", identity: []string{id(`{"Effect":"Allow","Action":"iam:Put*","NotResource":"arn:aws:iam::111122223333:user/admin"}`)}, fail: true, want: "iam:PutUserPolicy"},
		{name: "lambda:InvokeFunction", identity: []string{id(allowID("L", `"lambda:InvokeFunction"`, `"*"`))}, fail: true, want: "lambda:InvokeFunction"},
		{name: "an unknown service", identity: []string{id(allowID("U", `"bedrock:InvokeModel"`, `"*"`))}, fail: true},

		// Principals in the bucket policy.
		{name: "Principal * with PrincipalAccount condition", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`), fail: true, want: "s3:GetObject"},
		{name: "Principal * with PrincipalOrgID condition", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`), fail: true, want: "s3:GetObject"},
		{name: "Principal AWS * with a source IP", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`), fail: true, want: "s3:GetObject"},
		{name: "Principal account id, identity s3:*", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::bk/*"}`),
			identity: []string{id(allowID("A", `"s3:GetObject"`, `"*"`))}, fail: true, want: "s3:GetObject"},
		{name: "Principal account id alone does not reach the user", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::bk/*"}`),
			identity: []string{id()}, fail: false},
		{name: "Principal another account", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: false},
		{name: "Principal Federated", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: false},
		{name: "Principal Service", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/logs/*"}`), fail: false},
		{name: "Principal the role of a session", principal: "arn:aws:sts::111122223333:assumed-role/backup/host1",
			bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:GetObject"},
		{name: "Principal the role with a path", principal: "arn:aws:sts::111122223333:assumed-role/backup/host1",
			bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ops/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:GetObject"},
		{name: "Principal the user with a path", principal: "arn:aws:iam::111122223333:user/svc/backup",
			bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/svc/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:GetObject"},
		{name: "cross-account: grant to the key's account root and identity allows", owner: verOther,
			bucket:   verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`),
			identity: []string{id(allowID("A", `"s3:GetObject"`, `"*"`))}, fail: true, want: "s3:GetObject"},
		{name: "Principal CanonicalUser", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:GetObject"},

		// Unsigned requests: aws:PrincipalType and aws:userid are in the
		// request context of every request, anonymous ones included.
		{name: "public read for anonymous callers by PrincipalType", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalType":"Anonymous"}}}`), fail: true, want: "s3:GetObject"},
		{name: "public read when aws:userid is present", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"aws:userid":"false"}}}`), fail: true, want: "s3:GetObject"},
		{name: "public read by userid pattern", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringLike":{"aws:userid":"anon*"}}}`), fail: true, want: "s3:GetObject"},
		{name: "read for signed callers of another account only", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}}`), fail: false},

		// Service principals: a service acts for whoever configures it, and
		// any account can point CloudFront (or another service) at the
		// bucket: the confused deputy.
		{name: "read by a service principal", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:GetObject"},
		{name: "read by a service principal, pinned to a distribution", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1"}}}`), fail: true, want: "s3:GetObject"},
		{name: "delete by a service principal", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":["s3.amazonaws.com"]},"Action":"s3:Delete*","Resource":"arn:aws:s3:::bk/*"}`), fail: true, want: "s3:DeleteObject"},
		{name: "public read by PrincipalAccount anonymous", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"anonymous"}}}`), fail: true, want: "s3:GetObject"},
		{name: "read to * for services only", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"aws:PrincipalIsAWSService":"true"}}}`), fail: true, want: "s3:GetObject"},
		{name: "read to * limited to the account is not the services'", bucket: verHardenedWith(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333","aws:PrincipalArn":"arn:aws:iam::111122223333:user/restore"}}}`), fail: false},
		{name: "service read denied to everyone", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), fail: false},
		{name: "service read outside the backups", bucket: verHardenedWith(`{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/web/*"}`), fail: false},

		// Overwrite through the identity side alone.
		{name: "identity-only upload on an unversioned bucket", bucket: verDoc(verNoHTTP), identity: []string{id()}, settings: unversioned(), fail: true, want: "s3:PutObject"},
		{name: "identity-only upload with If-None-Match forced", bucket: verDoc(verNoHTTP, verSSE), settings: unversioned(), fail: false,
			identity: []string{id(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"s3:ObjectCreationOperation":"true"},"Null":{"s3:if-none-match":"true"}}}`)}},
		{name: "If-None-Match forced only on .age keys", bucket: verDoc(verNoHTTP, verSSE), settings: unversioned(), fail: true, want: "s3:PutObject",
			identity: []string{id(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/db/*.age","Condition":{"Bool":{"s3:ObjectCreationOperation":"true"},"Null":{"s3:if-none-match":"true"}}}`)}},
		{name: "If-None-Match deny misspells the action", bucket: verDoc(verNoHTTP, verSSE), settings: unversioned(), fail: true, want: "s3:PutObject",
			identity: []string{id(`{"Effect":"Deny","Action":"s3:PutObjects","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"true"}}}`)}},
		{name: "assumed-role session, role's policy grants reads", principal: "arn:aws:sts::111122223333:assumed-role/backup/host1", bucket: verDoc(verNoHTTP),
			identity: []string{id(allowID("R", `"s3:GetObject*"`, `"arn:aws:s3:::bk/*"`))}, fail: true, want: "s3:GetObjectVersion"},

		// Safe policies.
		{name: "sts:GetCallerIdentity needs no permission", identity: []string{id(allowID("Who", `"sts:GetCallerIdentity"`, `"*"`))}, fail: false},
		{name: "sts:Get* is more than GetCallerIdentity", identity: []string{id(allowID("Who", `"sts:Get*"`, `"*"`))}, fail: true, want: "sts:Get*"},
		{name: "hardened, identity write only", identity: []string{id()}, settings: verGoodSettings(), fail: false},
		{name: "hardened on unversioned bucket (If-None-Match forced)", identity: []string{id()}, settings: unversioned(), fail: false},
		{name: "Statement as an object", bucket: `{"Version":"2012-10-17","Statement":` + verWrite + `}`, fail: false},
		{name: "no Version: variables literal", bucket: `{"Statement":[` + verWrite + `,` + verAllow(user, `"s3:GetObject"`, "arn:aws:s3:::bk/${aws:username}/*") + `]}`, fail: false},
	}
	for _, tc := range traps {
		t.Run(tc.name, func(t *testing.T) {
			bucket := tc.bucket
			if bucket == "" {
				bucket = verHardenedWith()
			}
			in := VerifyInput{Principal: verUser, Bucket: "bk", Prefix: "db/", BucketAccount: tc.owner}
			if tc.prefix != "" {
				in.Prefix = tc.prefix
			}
			if tc.principal != "" {
				in.Principal = tc.principal
			}
			bp, err := iam.Parse([]byte(bucket), iam.ResourceBased)
			if err != nil {
				t.Fatalf("bucket policy: %v", err)
			}
			bp.Name = "bucket"
			in.BucketPolicy = bp
			for _, s := range tc.identity {
				p, err := iam.Parse([]byte(s), iam.IdentityBased)
				if err != nil {
					t.Fatalf("identity policy: %v", err)
				}
				p.Name = "identity"
				in.IdentityPolicies = append(in.IdentityPolicies, p)
			}
			if tc.settings != nil {
				in.Settings = verSettings(t, tc.settings)
			}
			res, err := Verify(in)
			if err != nil {
				t.Fatal(err)
			}
			failed := res.Verdict == VerdictFail
			if failed != tc.fail {
				t.Errorf("verdict %s, want fail=%v", res.Verdict, tc.fail)
			}
			if tc.want != "" {
				found := false
				for _, f := range res.Findings {
					found = found || f.Severity == SeverityViolation && strings.EqualFold(f.Action, tc.want)
				}
				if !found {
					t.Errorf("no violation for %s", tc.want)
				}
			}
			if t.Failed() {
				t.Logf("findings:\n%s", strings.Join(verLines(res), "\n"))
			}
		})
	}
}
