package iam

import (
	"sort"
	"strings"
	"testing"
)

func TestBeyondS3(t *testing.T) {
	const (
		topic = "arn:aws:sns:eu-west-1:111122223333:backups"
		key   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	permitted := []Right{{Action: "sns:Publish", Resources: []string{topic}}, {Action: "kms:GenerateDataKey", Resources: []string{key}}, {Action: "kms:Decrypt", Resources: []string{key}}}
	named := []string{"iam:CreateAccessKey", "iam:PassRole", "sts:AssumeRole", "lambda:CreateFunction", "kms:PutKeyPolicy", "s3:GetObject"}
	stmt := func(action, resource string) string {
		return `{"Effect":"Allow","Action":` + action + `,"Resource":"` + resource + `"}`
	}
	write := stmt(`["s3:PutObject","s3:AbortMultipartUpload"]`, "arn:aws:s3:::bk/*")
	cases := []struct {
		name   string
		policy string
		want   []string // Beyond actions, sorted; "~TEXT" for an unnamed one, "!ACTION" for unconfined
	}{
		{"s3 only", doc(write), nil},
		{"permitted rights on their resources", doc(write, stmt(`"sns:Publish"`, topic), stmt(`["kms:GenerateDataKey","kms:Decrypt"]`, key)), nil},
		{"permitted right, mixed case", doc(stmt(`"SNS:publish"`, topic)), nil},
		{"sns:Publish on *", doc(stmt(`"sns:Publish"`, "*")), []string{"!sns:Publish"}},
		{"kms:Decrypt on any key", doc(stmt(`"kms:Decrypt"`, "arn:aws:kms:*:111122223333:key/*")), []string{"!kms:Decrypt"}},
		{"CreateAccessKey", doc(stmt(`"iam:CreateAccessKey"`, "*")), []string{"iam:CreateAccessKey"}},
		{"mixed case", doc(stmt(`"IAM:createACCESSkey"`, "*")), []string{"iam:CreateAccessKey"}},
		{"i*:*", doc(stmt(`"i*:*"`, "*")), []string{"i*:*", "iam:CreateAccessKey", "iam:PassRole"}},
		{"iam:Create?ccessKey", doc(stmt(`"iam:Create?ccessKey"`, "*")), []string{"iam:CreateAccessKey", "iam:Create?ccessKey"}},
		{"*", doc(stmt(`"*"`, "*")), []string{"!kms:Decrypt", "!kms:GenerateDataKey", "!sns:Publish", "*", "iam:CreateAccessKey", "iam:PassRole", "kms:PutKeyPolicy", "lambda:CreateFunction", "sts:AssumeRole"}},
		{"unknown service", doc(stmt(`"frobnicate:Everything"`, "*")), []string{"frobnicate:Everything"}},
		{"s3 look-alike service", doc(stmt(`"s3*:*"`, "*")), []string{"s3*:*"}},
		{"NotAction s3:*", doc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`), []string{"!kms:Decrypt", "!kms:GenerateDataKey", "!sns:Publish", "iam:CreateAccessKey", "iam:PassRole", "kms:PutKeyPolicy", "lambda:CreateFunction", "putonly-unknown-service:UnknownAction", "sts:AssumeRole"}},
		{"NotAction *", doc(`{"Effect":"Allow","NotAction":"*","Resource":"*"}`), nil},
		{"NotAction *:*", doc(`{"Effect":"Allow","NotAction":["s3:*","*:*"],"Resource":"*"}`), nil},
		{"NotAction of all but one service", doc(`{"Effect":"Allow","NotAction":["s3:*","i*:*","sts:*","lambda:*","kms:*","sns:*"],"Resource":"*"}`), []string{"putonly-unknown-service:UnknownAction"}},
		{"NotResource still reaches", doc(`{"Effect":"Allow","Action":"iam:CreateAccessKey","NotResource":"arn:aws:iam::111122223333:user/admin"}`), []string{"iam:CreateAccessKey"}},
		{"condition false for the caller", doc(`{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"admin"}}}`), nil},
		{"condition unknown", doc(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), []string{"iam:PassRole"}},
		{"deny all but the rights", doc(stmt(`"*"`, "*"), `{"Effect":"Deny","NotAction":["s3:*","sns:Publish"],"Resource":"*"}`), []string{"!sns:Publish"}},
		{"deny covers the pattern", doc(stmt(`"iam:*"`, "*"), `{"Effect":"Deny","Action":"IAM:*","Resource":"*"}`), nil},
		{"deny with a condition covers nothing", doc(stmt(`"iam:*"`, "*"), `{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), []string{"iam:*", "iam:CreateAccessKey", "iam:PassRole"}},
		{"deny of the named only", doc(stmt(`"iam:*"`, "*"), `{"Effect":"Deny","Action":["iam:CreateAccessKey","iam:PassRole","iam:Z"],"Resource":"*"}`), []string{"~iam:*"}},
		{"own resource only is still beyond", doc(stmt(`"iam:CreateAccessKey"`, "arn:aws:iam::111122223333:user/${aws:username}")), []string{"iam:CreateAccessKey"}},
	}
	c, err := ParseCaller(user)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.policy), IdentityBased)
			if err != nil {
				t.Fatal(err)
			}
			p.Name = "user"
			e := &Evaluator{Caller: c, ResourceAccount: acct, Identity: []*Policy{p}}
			var got []string
			for _, b := range e.BeyondS3(permitted, named) {
				if len(b.Grants) == 0 {
					t.Errorf("%s: no statement named", b.Action)
				}
				switch {
				case b.Unnamed:
					got = append(got, "~"+b.Action)
				case b.Unconfined:
					got = append(got, "!"+b.Action)
				default:
					got = append(got, b.Action)
				}
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("beyond = %v, want %v", got, want)
			}
		})
	}
}
