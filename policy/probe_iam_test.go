package policy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// iamProbeFake is a FAKE of the IAM and STS query APIs (no local IAM
// exists): it answers GetCallerIdentity with arn, and CreateAccessKey and
// PutUserPolicy with the given error code (or success when ""), and
// records each call's parameters.
func iamProbeFake(t *testing.T, arn string, answers map[string]string, calls *[]string) (IAMProbeAPI, STSProbeAPI) {
	t.Helper()
	status := map[string]int{"AccessDenied": 403, "NoSuchEntity": 404, "MalformedPolicyDocument": 400, "InvalidClientTokenId": 403}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		action := r.Form.Get("Action")
		*calls = append(*calls, action+" "+r.Form.Get("UserName")+" "+r.Form.Get("PolicyDocument"))
		ns := "https://iam.amazonaws.com/doc/2010-05-08/"
		if action == "GetCallerIdentity" {
			ns = "https://sts.amazonaws.com/doc/2011-06-15/"
		}
		w.Header().Set("Content-Type", "text/xml")
		code := answers[action]
		if action == "GetCallerIdentity" && code == "" {
			fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="%s"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AIDAFAKE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, ns, arn)
			return
		}
		if code == "" {
			fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult><AccessKey><UserName>x</UserName><AccessKeyId>AKIAFAKE</AccessKeyId><Status>Active</Status><SecretAccessKey>fake</SecretAccessKey></AccessKey></%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`, action, ns, action, action, action)
			return
		}
		if code == "404" {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(status[code])
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>fake</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, ns, code)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	return awsiam.NewFromConfig(cfg, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

const probeIAMUser = "arn:aws:iam::111122223333:user/putonly-db1"

func TestProbeIAM(t *testing.T) {
	const user = probeIAMUser
	cases := []struct {
		name      string
		arn       string
		answers   map[string]string
		expect    string
		verdicts  []string // GetCallerIdentity, CreateAccessKey, PutUserPolicy, AssumeRole: "verdict/severity"
		noteParts []string
	}{
		{"refused", user, map[string]string{"CreateAccessKey": "AccessDenied", "PutUserPolicy": "AccessDenied"}, user,
			[]string{"allowed/info", "refused/ok", "refused/ok", "not-applicable/info"}, []string{"the key is " + user}},
		{"escalates", user, map[string]string{"CreateAccessKey": "NoSuchEntity", "PutUserPolicy": "NoSuchEntity"}, user,
			[]string{"allowed/info", "allowed/violation", "allowed/violation", "not-applicable/info"}, []string{"only after authorising"}},
		{"validation answer proves nothing", user, map[string]string{"CreateAccessKey": "AccessDenied", "PutUserPolicy": "MalformedPolicyDocument"}, user,
			[]string{"allowed/info", "refused/ok", "could-not-tell/unknown", "not-applicable/info"}, nil},
		{"another key than the config's", "arn:aws:iam::111122223333:user/admin", map[string]string{"CreateAccessKey": "AccessDenied", "PutUserPolicy": "AccessDenied"}, user,
			[]string{"allowed/warning", "refused/ok", "refused/ok", "not-applicable/info"}, []string{"but the config expects " + user}},
		{"a session of the expected role", "arn:aws:sts::111122223333:assumed-role/backup/host1", map[string]string{"CreateAccessKey": "AccessDenied", "PutUserPolicy": "AccessDenied"}, "arn:aws:iam::111122223333:role/backup",
			[]string{"allowed/info", "refused/ok", "refused/ok", "not-applicable/info"}, nil},
		{"store without IAM: 404", user, map[string]string{"GetCallerIdentity": "404"}, user,
			[]string{"not-applicable/info", "not-applicable/info", "not-applicable/info"}, []string{"it has no IAM"}},
		{"key unknown to STS", user, map[string]string{"GetCallerIdentity": "InvalidClientTokenId"}, user,
			[]string{"not-applicable/info", "not-applicable/info", "not-applicable/info"}, []string{"not passed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			ic, sc := iamProbeFake(t, tc.arn, tc.answers, &calls)
			res := ProbeIAM(context.Background(), IAMProbeOptions{IAM: ic, STS: sc, Principal: tc.expect})
			var got []string
			notes := ""
			for _, r := range res {
				got = append(got, r.Verdict+"/"+r.Severity)
				notes += r.Note + "\n"
			}
			if strings.Join(got, " ") != strings.Join(tc.verdicts, " ") {
				t.Errorf("verdicts %v, want %v", got, tc.verdicts)
			}
			for _, n := range tc.noteParts {
				if !strings.Contains(notes, n) {
					t.Errorf("notes lack %q:\n%s", n, notes)
				}
			}
			for _, c := range calls {
				f := strings.Fields(c)
				if f[0] == "GetCallerIdentity" {
					continue
				}
				if len(f) < 2 || !strings.HasPrefix(f[1], "putonly-probe-") || len(f[1]) != len("putonly-probe-")+32 {
					t.Errorf("%s named user %q, not a random putonly-probe- name", f[0], c)
				}
				if f[0] == "PutUserPolicy" && !strings.Contains(c, `"Effect":"Deny"`) {
					t.Errorf("PutUserPolicy sent a document that is not deny-only: %s", c)
				}
				if f[0] != "CreateAccessKey" && f[0] != "PutUserPolicy" {
					t.Errorf("unexpected call %s", f[0])
				}
			}
		})
	}
	// STS unreachable (a host with only an S3 route): not applicable, and a
	// warning, never a pass.
	var calls []string
	ic, sc := iamProbeFake(t, user, nil, &calls)
	dead := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}, func(o *sts.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	for _, r := range ProbeIAM(context.Background(), IAMProbeOptions{IAM: ic, STS: dead}) {
		if r.Verdict != ProbeNotApplicable || r.Severity != SeverityWarning {
			t.Errorf("unreachable STS: %+v", r)
		}
	}
	_ = sc
	// An S3 client with its own endpoint talks to a store without IAM.
	t.Setenv("AWS_ENDPOINT_URL_IAM", "")
	o := IAMProbesFromS3(s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:9000")}), user)
	if o.IAM != nil || !strings.Contains(o.Why, "S3-compatible") {
		t.Errorf("custom endpoint: %+v", o)
	}
	if o := IAMProbesFromS3(s3.New(s3.Options{Region: "eu-west-1"}), user); o.IAM == nil || o.STS == nil {
		t.Errorf("AWS endpoint: %+v", o)
	}

	// No IAM at all (an S3-compatible endpoint): not applicable, never passed.
	res := ProbeIAM(context.Background(), IAMProbeOptions{Why: "the S3 endpoint is an S3-compatible store"})
	for _, r := range res {
		if r.Verdict != ProbeNotApplicable || r.Severity != SeverityInfo || !strings.Contains(r.Note, "S3-compatible") {
			t.Errorf("%+v", r)
		}
	}
}
