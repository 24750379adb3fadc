package policy

import (
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// TestVerifyBeyondS3: each escalation class of issue 13 fails verify with
// the statement that grants it named; the rights putonly uses outside S3
// pass on their own resources only.
func TestVerifyBeyondS3(t *testing.T) {
	const (
		topic = "arn:aws:sns:eu-west-1:111122223333:backups"
		key   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	stmt := func(sid, action, resource string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Action":` + action + `,"Resource":"` + resource + `"}`
	}
	write := stmt("Write", `["s3:PutObject","s3:AbortMultipartUpload"]`, "arn:aws:s3:::bk/db/*")
	self := "arn:aws:iam::111122223333:user/backup"
	cases := []struct {
		name    string
		extra   []string // statements beside Write in the identity policy
		verdict string
		want    []string // "ACTION SID" findings that must be violations, "~TEXT" a reason substring
	}{
		{"CreateAccessKey", []string{stmt("Keys", `"iam:CreateAccessKey"`, "*")}, VerdictFail, []string{"iam:CreateAccessKey identity/Keys", "~escalation: iam:CreateAccessKey mints access keys"}},
		{"PutUserPolicy on itself", []string{stmt("Inline", `"iam:PutUserPolicy"`, self)}, VerdictFail, []string{"iam:PutUserPolicy identity/Inline", "~escalation"}},
		{"AttachUserPolicy on itself", []string{stmt("Attach", `"iam:AttachUserPolicy"`, self)}, VerdictFail, []string{"iam:AttachUserPolicy identity/Attach"}},
		{"CreatePolicyVersion", []string{stmt("Version", `"iam:CreatePolicyVersion"`, "arn:aws:iam::111122223333:policy/putonly-backup")}, VerdictFail, []string{"iam:CreatePolicyVersion identity/Version"}},
		{"PassRole and lambda:CreateFunction", []string{stmt("Pass", `"iam:PassRole"`, "*"), stmt("Lambda", `"lambda:CreateFunction"`, "*")}, VerdictFail,
			[]string{"iam:PassRole identity/Pass", "lambda:CreateFunction identity/Lambda", "~hands a role to a service"}},
		{"sts:AssumeRole on *", []string{stmt("Assume", `"sts:AssumeRole"`, "*")}, VerdictFail, []string{"sts:AssumeRole identity/Assume"}},
		{"NotAction s3:* on *", []string{`{"Sid":"AllButS3","Effect":"Allow","NotAction":"s3:*","Resource":"*"}`}, VerdictFail,
			[]string{"iam:CreateAccessKey identity/AllButS3", "iam:AttachUserPolicy identity/AllButS3", "sts:AssumeRole identity/AllButS3", "putonly-unknown-service:UnknownAction identity/AllButS3"}},
		{"i*:*", []string{stmt("I", `"i*:*"`, "*")}, VerdictFail, []string{"iam:CreateAccessKey identity/I", "iam:PassRole identity/I"}},
		{"*", []string{stmt("All", `"*"`, "*")}, VerdictFail, []string{"iam:CreateAccessKey identity/All", "sts:AssumeRole identity/All", "s3:GetObject identity/All"}},
		{"mixed case", []string{stmt("Case", `"IaM:cReAtEaCcEsSkEy"`, "*")}, VerdictFail, []string{"iam:CreateAccessKey identity/Case"}},
		{"organizations", []string{stmt("Org", `"organizations:*"`, "*")}, VerdictFail, []string{"organizations:LeaveOrganization identity/Org", "~escalation"}},
		{"KMS key policy write", []string{stmt("KeyPolicy", `"kms:PutKeyPolicy"`, key)}, VerdictFail, []string{"kms:PutKeyPolicy identity/KeyPolicy", "~rewrites who may use the encryption key"}},
		{"unknown service", []string{stmt("New", `"newservice2027:DoAnything"`, "*")}, VerdictFail, []string{"newservice2027:DoAnything identity/New", "~not shown harmless"}},
		{"harmless-looking read", []string{stmt("Describe", `"ec2:DescribeInstances"`, "*")}, VerdictFail, []string{"ec2:DescribeInstances identity/Describe"}},
		{"unknown S3 action", []string{stmt("Future", `"s3:FutureReadEverything"`, "arn:aws:s3:::bk/*")}, VerdictFail, []string{"s3:FutureReadEverything identity/Future", "~unknown S3 action"}},
		{"condition the caller may meet", []string{`{"Sid":"FromOffice","Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`}, VerdictFail, []string{"iam:CreateAccessKey identity/FromOffice"}},
		{"condition false for this key", []string{`{"Sid":"AdminOnly","Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"admin"}}}`}, VerdictPass, nil},
		{"allowed rights on their resources", []string{stmt("Notify", `"sns:Publish"`, topic), `{"Sid":"Encrypt","Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"` + key + `","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}`}, VerdictPass, nil},
		{"sns:Publish on every topic", []string{stmt("Notify", `"sns:Publish"`, "*")}, VerdictFail, []string{"sns:Publish identity/Notify", "~beyond its resource"}},
		{"sns:*", []string{stmt("Notify", `"sns:*"`, topic)}, VerdictFail, []string{"~sns:"}},
		{"kms:Decrypt on every key", []string{stmt("Decrypt", `"kms:Decrypt"`, "*")}, VerdictFail, []string{"kms:Decrypt identity/Decrypt"}},
		{"deny of everything else", []string{stmt("All", `"*"`, "*"), `{"Effect":"Deny","NotAction":["s3:PutObject","s3:AbortMultipartUpload","sns:Publish"],"Resource":"*"}`, stmt("Notify", `"sns:Publish"`, topic)}, VerdictFail, []string{"sns:Publish identity/All"}},
		{"a Deny with NotResource is not read as confining (conservative)", []string{stmt("Most", `["iam:*","sts:*","sns:Publish"]`, "*"), `{"Effect":"Deny","NotAction":["s3:*","sns:Publish"],"Resource":"*"}`, `{"Effect":"Deny","Action":"sns:Publish","NotResource":"` + topic + `"}`}, VerdictFail, []string{"sns:Publish identity/Most"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := iam.Parse([]byte(verDoc(append([]string{write}, tc.extra...)...)), iam.IdentityBased)
			if err != nil {
				t.Fatal(err)
			}
			id.Name = "identity"
			bp, err := iam.Parse([]byte(verHardenedWith()), iam.ResourceBased)
			if err != nil {
				t.Fatal(err)
			}
			bp.Name = "bucket"
			res, err := Verify(VerifyInput{BucketPolicy: bp, IdentityPolicies: []*iam.Policy{id}, Principal: verUser, Bucket: "bk", Prefix: "db/",
				SNSTopics: []string{topic}, KMSKey: key})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", res.Verdict, tc.verdict)
			}
			for _, w := range tc.want {
				found := false
				for _, f := range res.Findings {
					if f.Severity != SeverityViolation {
						continue
					}
					if r, ok := strings.CutPrefix(w, "~"); ok {
						found = found || strings.Contains(f.Reason, r)
						continue
					}
					action, sid, _ := strings.Cut(w, " ")
					found = found || (f.Action == action && strings.Contains(f.Statement, sid))
				}
				if !found {
					t.Errorf("no violation %q", w)
				}
			}
			if t.Failed() {
				t.Logf("findings:\n%s", strings.Join(verLines(res), "\n"))
			}
		})
	}
}
