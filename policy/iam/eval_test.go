package iam

import (
	"strings"
	"testing"
)

const (
	acct      = "111122223333"
	otherAcct = "999988887777"
	user      = "arn:aws:iam::111122223333:user/backup"
)

var (
	objects = Target{ARN: "arn:aws:s3:::bk/db/", Prefix: true}
	bucket  = Target{ARN: "arn:aws:s3:::bk"}
)

// doc wraps statements into a 2012-10-17 policy.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// allowUser is a bucket-policy statement allowing the backup user.
func allowUser(action, resource string) string {
	return `{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"` + action + `","Resource":"` + resource + `"}`
}

type evalCase struct {
	name     string
	bucket   string   // bucket policy; "" for none
	identity []string // identity policies
	caller   string   // default user
	owner    string   // bucket account; default acct
	action   string
	target   Target
	ctx      Context
	want     Access
}

func runEval(t *testing.T, tc evalCase) Decision {
	t.Helper()
	callerARN := tc.caller
	if callerARN == "" {
		callerARN = user
	}
	c, err := ParseCaller(callerARN)
	if err != nil {
		t.Fatal(err)
	}
	e := &Evaluator{Caller: c, ResourceAccount: tc.owner}
	if e.ResourceAccount == "" {
		e.ResourceAccount = acct
	}
	if tc.bucket != "" {
		p, err := Parse([]byte(tc.bucket), ResourceBased)
		if err != nil {
			t.Fatalf("bucket policy: %v", err)
		}
		p.Name = "bucket"
		e.Resource = p
	}
	for _, s := range tc.identity {
		p, err := Parse([]byte(s), IdentityBased)
		if err != nil {
			t.Fatalf("identity policy: %v", err)
		}
		p.Name = "identity"
		e.Identity = append(e.Identity, p)
	}
	return e.Evaluate(Request{Action: tc.action, Target: tc.target, Context: tc.ctx})
}

func TestEvaluate(t *testing.T) {
	seed := doc(
		`{"Effect":"Allow","Principal":{"AWS":"`+user+`"},"Action":["s3:GetBucketLocation","s3:ListBucket"],"Resource":"arn:aws:s3:::bk"}`,
		allowUser("s3:PutObject", "arn:aws:s3:::bk/*"),
	)
	idAllow := func(action, resource string) string {
		return doc(`{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}`)
	}
	tls := Context{}.With("aws:SecureTransport", Present("false"))
	cases := []evalCase{
		// The seed post's policy.
		{name: "seed/get", bucket: seed, action: "s3:GetObject", target: objects, want: Denied},
		{name: "seed/put", bucket: seed, action: "s3:PutObject", target: objects, want: Allowed},
		{name: "seed/list", bucket: seed, action: "s3:ListBucket", target: bucket, want: Allowed},
		{name: "seed/delete", bucket: seed, action: "s3:DeleteObject", target: objects, want: Denied},
		{name: "seed/putpolicy", bucket: seed, action: "s3:PutBucketPolicy", target: bucket, want: Denied},

		// Action and NotAction: wildcards, case.
		{name: "action/exact", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/Get*", bucket: doc(allowUser("s3:Get*", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/*Object get", bucket: doc(allowUser("s3:*Object", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/*Object delete", bucket: doc(allowUser("s3:*Object", "arn:aws:s3:::bk/*")), action: "s3:DeleteObject", target: objects, want: Allowed},
		{name: "action/*Object not version", bucket: doc(allowUser("s3:*Object", "arn:aws:s3:::bk/*")), action: "s3:GetObjectVersion", target: objects, want: Denied},
		{name: "action/case", bucket: doc(allowUser("S3:GETOBJECT", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/?", bucket: doc(allowUser("s3:GetObjec?", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/star", bucket: doc(allowUser("*", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "action/other service", bucket: doc(allowUser("s3express:*", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "notaction/allows the rest", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"NotAction":"s3:DeleteObject","Resource":"*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "notaction/excludes", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"NotAction":["s3:Get*","s3:Delete*"],"Resource":"*"}`), action: "s3:GetObject", target: objects, want: Denied},

		// Resource and NotResource: overlap, not equality; case-sensitive.
		{name: "resource/*", bucket: doc(allowUser("s3:GetObject", "*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "resource/all buckets", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "resource/?x* overlaps prefix", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/db/?x*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "resource/shorter prefix", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/d*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "resource/deeper prefix", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/db/2024/*")), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "resource/other prefix", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/web/*")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "resource/case-sensitive", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::BK/*")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "resource/bucket is not objects", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "resource/other bucket", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk2/*")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "notresource/excludes prefix", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "notresource/excludes other", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/web/*"}`), action: "s3:GetObject", target: objects, want: Allowed},

		// Principal forms.
		{name: "principal/*", bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "principal/AWS *", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "principal/array", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/admin","` + user + `"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "principal/other user", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "principal/account id delegates, no identity", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "principal/account root delegates, identity allows", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), identity: []string{idAllow("s3:GetObject", "arn:aws:s3:::bk/*")}, action: "s3:GetObject", target: objects, want: Allowed},
		// A service principal is a confused deputy any account can direct at the
		// bucket (see Deputy): conditional, not denied.
		{name: "principal/service", bucket: doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Conditional},
		{name: "principal/service denied to *", bucket: doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "principal/service, deny NotPrincipal of the service", bucket: doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`, `{"Effect":"Deny","NotPrincipal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Conditional},
		{name: "principal/unique id is conditional", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Conditional},
		{name: "principal/role session", caller: "arn:aws:sts::111122223333:assumed-role/backup/host1", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},

		// Same account: bucket policy OR identity policy.
		{name: "same/identity only", identity: []string{idAllow("s3:GetObject", "*")}, bucket: seed, action: "s3:GetObject", target: objects, want: Allowed},
		{name: "same/identity s3:*", identity: []string{idAllow("s3:*", "arn:aws:s3:::bk/*")}, bucket: seed, action: "s3:DeleteObject", target: objects, want: Allowed},
		{name: "same/identity other bucket", identity: []string{idAllow("s3:*", "arn:aws:s3:::logs/*")}, bucket: seed, action: "s3:GetObject", target: objects, want: Denied},
		{name: "same/no bucket policy", identity: []string{idAllow("s3:GetObject", "arn:aws:s3:::bk/*")}, action: "s3:GetObject", target: objects, want: Allowed},

		// Cross account: both sides.
		{name: "cross/bucket only", owner: otherAcct, bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects, want: Denied},
		{name: "cross/both", owner: otherAcct, bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), identity: []string{idAllow("s3:Get*", "*")}, action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cross/account grant and identity", owner: otherAcct, bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), identity: []string{idAllow("s3:GetObject", "*")}, action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cross/identity only", owner: otherAcct, bucket: seed, identity: []string{idAllow("s3:GetObject", "*")}, action: "s3:GetObject", target: objects, want: Denied},
		{name: "cross/public needs no identity", owner: otherAcct, bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cross/public limited to an account", owner: otherAcct, bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`), action: "s3:GetObject", target: objects, want: Denied},

		// Explicit deny.
		{name: "deny/bucket beats identity", bucket: doc(`{"Effect":"Deny","Principal":{"AWS":"` + user + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), identity: []string{idAllow("s3:*", "*")}, action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/identity beats bucket", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), identity: []string{doc(`{"Effect":"Deny","Action":"s3:Get*","Resource":"*"}`)}, action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/account principal", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/only without TLS", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "deny/without TLS, request without TLS", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"aws:SecureTransport":false}}}`), action: "s3:GetObject", target: objects, ctx: tls, want: Denied},
		{name: "deny/narrower than prefix", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/db/secret/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "deny/covers what the allow reaches", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/db/x*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/db/x*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/NotAction", bucket: doc(allowUser("s3:*", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":{"AWS":"`+user+`"},"NotAction":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/NotAction spares put", bucket: doc(allowUser("s3:*", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":{"AWS":"`+user+`"},"NotAction":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"*"}`), action: "s3:PutObject", target: objects, want: Allowed},
		{name: "deny/NotResource elsewhere", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/db/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "deny/NotResource here", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::bk/web/*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/conditional allow still denied", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"`+user+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, `{"Effect":"Deny","Principal":{"AWS":"`+user+`"},"Action":"s3:GetObject","Resource":"*"}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "deny/wildcard arn", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}`), action: "s3:GetObject", target: objects, want: Denied},

		// NotPrincipal (Deny only).
		{name: "notprincipal/other listed", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/admin","arn:aws:iam::111122223333:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), owner: acct, caller: "arn:aws:iam::444455556666:user/backup", identity: []string{idAllow("s3:*", "*")}, action: "s3:GetObject", target: objects, want: Denied},
		{name: "notprincipal/caller listed", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","NotPrincipal":{"AWS":"`+user+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		// Listing the account exempts the account principal, not its users
		// (AWS's example: all principals except Bob are denied).
		{name: "notprincipal/account listed", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), action: "s3:GetObject", target: objects, want: Denied},

		// Conditions.
		{name: "cond/unknown key makes allow conditional", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`), action: "s3:GetObject", target: objects, want: Conditional},
		{name: "cond/username resolved true", bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:username":"backup"}}}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cond/username resolved false", bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:username":"admin"}}}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "cond/everyone but us", bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"` + user + `"},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "cond/deny all but admin", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/admin*"}}}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "cond/ArnLike user wildcard", bucket: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cond/deny on unknown key is partial", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "cond/deny Null on caller-controlled key", bucket: doc(allowUser("s3:PutObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`), action: "s3:PutObject", target: objects, want: Allowed},
		{name: "cond/deny Null, header absent", bucket: doc(allowUser("s3:PutObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"Null":{"s3:if-none-match":"true"}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("s3:if-none-match", Absent), want: Denied},
		{name: "cond/negated absent is true", bucket: doc(allowUser("s3:PutObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("s3:x-amz-server-side-encryption", Absent), want: Denied},
		{name: "cond/IfExists absent is true", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEqualsIfExists":{"s3:x-amz-server-side-encryption":"AES256"}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("s3:x-amz-server-side-encryption", Absent), want: Allowed},
		{name: "cond/positive absent is false", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("s3:x-amz-server-side-encryption", Absent), want: Denied},
		{name: "cond/ForAllValues empty set is true", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("aws:TagKeys", Absent), want: Allowed},
		{name: "cond/ForAnyValue empty set is false", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}}`), action: "s3:PutObject", target: objects, ctx: Context{}.With("aws:TagKeys", Absent), want: Denied},
		{name: "cond/ForAllValues unknown is conditional", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}`), action: "s3:PutObject", target: objects, want: Conditional},
		{name: "cond/resource account", bucket: doc(`{"Effect":"Allow","Principal":{"AWS":"` + user + `"},"Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:ResourceAccount":"999988887777"}}}`), action: "s3:GetObject", target: objects, want: Denied},

		// Policy variables only under 2012-10-17.
		{name: "vars/2012 resource", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/${aws:username}/*")), action: "s3:GetObject", target: Target{ARN: "arn:aws:s3:::bk/backup/", Prefix: true}, want: Allowed},
		{name: "vars/2008 resource is literal", bucket: `{"Version":"2008-10-17","Statement":[` + allowUser("s3:GetObject", "arn:aws:s3:::bk/${aws:username}/*") + `]}`, action: "s3:GetObject", target: Target{ARN: "arn:aws:s3:::bk/backup/", Prefix: true}, want: Denied},
		{name: "vars/no Version is 2008", bucket: `{"Statement":[` + allowUser("s3:GetObject", "arn:aws:s3:::bk/${aws:username}/*") + `]}`, action: "s3:GetObject", target: Target{ARN: "arn:aws:s3:::bk/backup/", Prefix: true}, want: Denied},
		{name: "vars/2012 deny condition", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/${aws:username}"}}}`), action: "s3:GetObject", target: objects, want: Denied},
		{name: "vars/2008 deny condition is literal", bucket: `{"Version":"2008-10-17","Statement":[` + allowUser("s3:GetObject", "arn:aws:s3:::bk/*") + `,{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/${aws:username}"}}}]}`, action: "s3:GetObject", target: objects, want: Allowed},
		{name: "vars/unknown variable in deny resource", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*"), `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/${aws:userid}*"}`), action: "s3:GetObject", target: objects, want: Allowed},
		{name: "vars/escaped star is literal", bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/${*}")), action: "s3:GetObject", target: objects, want: Denied},

		// Shapes.
		{name: "shape/statement object", bucket: `{"Version":"2012-10-17","Statement":` + allowUser("s3:GetObject", "arn:aws:s3:::bk/*") + `}`, action: "s3:GetObject", target: objects, want: Allowed},
		{name: "shape/CLI wrapper", bucket: `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"` + user + `\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bk/*\"}]}"}`, action: "s3:GetObject", target: objects, want: Allowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := runEval(t, tc)
			if d.Access != tc.want {
				t.Errorf("Access = %v, want %v (grants %v, partial %v, note %q)", d.Access, tc.want, labels(d.Grants), d.Partial, d.Note)
			}
		})
	}
	if len(cases) < 60 {
		t.Errorf("only %d cases", len(cases))
	}
}

func labels(gs []Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Label())
	}
	return out
}

func TestDecisionNamesStatements(t *testing.T) {
	d := runEval(t, evalCase{
		bucket: doc(`{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"`+user+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`,
			`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bk/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
		action: "s3:GetObject", target: objects,
	})
	if got := labels(d.Grants); len(got) != 1 || got[0] != "bucket/Read" {
		t.Errorf("grants = %v, want [bucket/Read]", got)
	}
	if len(d.Partial) != 1 || d.Partial[0].Label() != "bucket/#2" {
		t.Errorf("partial = %v, want bucket/#2", d.Partial)
	}
	d = runEval(t, evalCase{owner: otherAcct, bucket: doc(allowUser("s3:GetObject", "arn:aws:s3:::bk/*")), action: "s3:GetObject", target: objects})
	if d.Note == "" {
		t.Error("cross-account denial has no note")
	}
}
