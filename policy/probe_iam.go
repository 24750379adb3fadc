package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The IAM probes of the self-test. S3's answers cannot show that a key may
// also mint access keys or rewrite its own policy; these ask IAM, with the
// key, requests that cannot change anything:
//
//   - CreateAccessKey and PutUserPolicy name a user that cannot exist (a
//     random 128-bit name under putonly-probe-). IAM authorises a request
//     before it performs it: "After your request has been authenticated and
//     authorized, AWS approves the actions or operations in your request"
//     ("How IAM works", IAM User Guide,
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/intro-structure.html).
//     So NoSuchEntity, an answer of performing the operation on the user
//     (IAM API Reference, CreateAccessKey and PutUserPolicy, Errors:
//     "NoSuchEntity ... HTTP Status Code: 404",
//     https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html,
//     https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html),
//     means the key was authorised: allowed. AccessDenied means refused.
//     Anything else could come before authorisation (a parameter or
//     document validation error) and proves nothing: could not tell. The
//     user name is valid for IAM's pattern [\w+=,.@-]+, so no validation
//     error is expected; PutUserPolicy's document is valid and denies
//     everything, so even on a user that did exist it could only narrow.
//   - sts:AssumeRole is not probed: a role that cannot exist has no trust
//     policy, and AssumeRole needs both the caller's permission and the
//     role's trust ("AssumeRole", AWS STS API Reference,
//     https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html),
//     so the answer is AccessDenied whether or not the key holds
//     sts:AssumeRole: ambiguous. verify (and verify --live) decides it from
//     the policies.
//   - sts:GetCallerIdentity needs no permission ("No permissions are
//     required to perform this operation", AWS STS API Reference,
//     https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html);
//     it tells the key's ARN, compared with the one the config expects.
//
// An endpoint without IAM (an S3-compatible store) makes them not
// applicable, never passed.

// ProbeNotApplicable is the verdict of a probe that cannot be asked where
// the key lives (IAM probes against a store without IAM).
const ProbeNotApplicable = "not-applicable"

// IAMProbeAPI is the IAM calls of the IAM probes; *iam.Client has them.
type IAMProbeAPI interface {
	CreateAccessKey(context.Context, *awsiam.CreateAccessKeyInput, ...func(*awsiam.Options)) (*awsiam.CreateAccessKeyOutput, error)
	PutUserPolicy(context.Context, *awsiam.PutUserPolicyInput, ...func(*awsiam.Options)) (*awsiam.PutUserPolicyOutput, error)
}

// STSProbeAPI is the STS call of the IAM probes; *sts.Client has it.
type STSProbeAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// IAMProbeOptions say where IAM is and what the key should be. With IAM
// or STS nil (a store without IAM) the probes are not applicable.
type IAMProbeOptions struct {
	IAM IAMProbeAPI
	STS STSProbeAPI
	// Principal is the ARN the config expects the key to be ("" for no
	// expectation).
	Principal string
	// Why says why there is no IAM, for the report ("an S3-compatible
	// endpoint").
	Why string
}

// probeDenyAll is the document PutUserPolicy sends: valid, and it can only
// take rights away.
const probeDenyAll = `{"Version":"2012-10-17","Statement":[{"Sid":"PutonlyProbe","Effect":"Deny","Action":"*","Resource":"*"}]}`

// ProbeIAM runs the IAM probes and returns their results, to append to a
// ProbeReport.
func ProbeIAM(ctx context.Context, o IAMProbeOptions) []ProbeResult {
	na := iamNotApplicable
	if o.IAM == nil || o.STS == nil {
		why := o.Why
		if why == "" {
			why = "no IAM endpoint"
		}
		return na(why)
	}

	var out []ProbeResult
	id, err := o.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	who := ProbeResult{Probe: "GetCallerIdentity (who the key is)", Operation: "GetCallerIdentity", Actions: []string{"sts:GetCallerIdentity"},
		Class: ClassOther, Expected: ProbeAllowed}
	switch {
	case err == nil:
		arn := aws.ToString(id.Arn)
		who.Got, who.Verdict, who.Severity = "200", ProbeAllowed, SeverityInfo
		who.Note = "the key is " + arn
		if o.Principal != "" && !probeSamePrincipal(arn, o.Principal) {
			who.Severity = SeverityWarning
			who.Note = fmt.Sprintf("the key is %s, but the config expects %s: the policies verified for that principal are not this key's", arn, o.Principal)
			who.Fix = "use the backup user's key, or verify the policies of " + arn
		}
	case probeNoIAM(err):
		return na("the endpoint answered " + probeErrText(err) + " to sts:GetCallerIdentity, which needs no permission: it has no IAM (an S3-compatible store?)")
	case probeNoAnswer(err):
		// A host that reaches S3 through a VPC endpoint may reach no STS:
		// say so loudly, but do not stop its backups for it.
		res := na("STS did not answer (" + probeErrText(err) + "); from a host without a route to IAM, run putonly-policy verify --live from an admin machine instead")
		for i := range res {
			res[i].Severity = SeverityWarning
		}
		return res
	default:
		who.Got, who.Verdict, who.Severity = probeErrText(err), ProbeUnknown, SeverityUnknown
		who.Note = "sts:GetCallerIdentity needs no permission, so this answer says nothing about the key's rights"
	}
	out = append(out, who)

	user := "putonly-probe-" + randomHex(16)
	classify := classifyIAMProbe
	r := ProbeResult{Probe: "CreateAccessKey for a user that cannot exist", Operation: "CreateAccessKey", Actions: []string{"iam:CreateAccessKey"},
		Class: ClassEscalate, Expected: ProbeRefused}
	_, err = o.IAM.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String(user)})
	classify(&r, err, "an access key was created for user "+user+": delete it (aws iam delete-access-key --user-name "+user+")")
	out = append(out, r)

	r = ProbeResult{Probe: "PutUserPolicy on a user that cannot exist", Operation: "PutUserPolicy", Actions: []string{"iam:PutUserPolicy"},
		Class: ClassEscalate, Expected: ProbeRefused}
	_, err = o.IAM.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("putonly-probe"), PolicyDocument: aws.String(probeDenyAll)})
	classify(&r, err, "a deny-everything policy putonly-probe was put on user "+user+": delete it (aws iam delete-user-policy --user-name "+user+" --policy-name putonly-probe)")
	out = append(out, r)

	out = append(out, ProbeResult{Probe: "AssumeRole (not probed)", Operation: "AssumeRole", Actions: []string{"sts:AssumeRole"}, Class: ClassEscalate,
		Expected: ProbeRefused, Got: "-", Verdict: ProbeNotApplicable, Severity: SeverityInfo,
		Note: "not probed: a role that cannot exist refuses everyone, so the answer would not tell; putonly-policy verify --live decides sts:AssumeRole from the policies"})
	return out
}

// iamNotApplicable is the IAM probes' results when they cannot run, and why.
func iamNotApplicable(why string) []ProbeResult {
	var out []ProbeResult
	for _, p := range []struct{ name, op, action string }{
		{"GetCallerIdentity (who the key is)", "GetCallerIdentity", "sts:GetCallerIdentity"},
		{"CreateAccessKey for a user that cannot exist", "CreateAccessKey", "iam:CreateAccessKey"},
		{"PutUserPolicy on a user that cannot exist", "PutUserPolicy", "iam:PutUserPolicy"},
	} {
		out = append(out, ProbeResult{Probe: p.name, Operation: p.op, Actions: []string{p.action}, Class: ClassEscalate,
			Expected: ProbeRefused, Got: "-", Verdict: ProbeNotApplicable, Severity: SeverityInfo,
			Note: "not applicable: " + why + "; the IAM probes were not run (not passed)"})
	}
	return out
}

// classifyIAMProbe reads IAM's answer to a probe on a user that cannot
// exist; created says what a success left behind.
func classifyIAMProbe(r *ProbeResult, err error, created string) {
	var ae smithy.APIError
	switch {
	case err == nil:
		r.Got, r.Verdict, r.Severity = "200", ProbeAllowed, SeverityViolation
		r.Note = "IAM performed it: " + created
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity":
		r.Got, r.Verdict, r.Severity = probeErrText(err), ProbeAllowed, SeverityViolation
		r.Note = "IAM looked for the user, which it does only after authorising the request: the key holds " + r.Actions[0]
	case errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException"):
		r.Got, r.Verdict, r.Severity = probeErrText(err), ProbeRefused, SeverityOK
	default:
		r.Got, r.Verdict, r.Severity = probeErrText(err), ProbeUnknown, SeverityUnknown
		r.Note = "an answer that may come before authorisation proves nothing"
	}
	if r.Severity == SeverityViolation {
		r.Fix = "remove " + r.Actions[0] + " from the key's policies (run putonly-policy verify --live to find the statement)"
	}
}

// probeSamePrincipal compares the caller's ARN with the expected one: an
// assumed-role session matches its role.
func probeSamePrincipal(arn, want string) bool {
	if arn == want {
		return true
	}
	return sessionRole(arn) == want
}

// sessionRole maps arn:aws:sts::ACCT:assumed-role/ROLE/SESSION to
// arn:aws:iam::ACCT:role/ROLE; other ARNs to "".
func sessionRole(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return ""
	}
	rest := strings.SplitN(parts[5], "/", 3)
	if len(rest) != 3 || rest[0] != "assumed-role" {
		return ""
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + rest[1]
}

// probeNoIAM reports an answer that shows the endpoint has no IAM or STS:
// not implemented, not found, or a key STS does not know.
func probeNoIAM(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound, http.StatusNotImplemented, http.StatusMethodNotAllowed:
			return true
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidClientTokenId", "NotImplemented", "UnknownOperationException", "InvalidAction":
			return true
		}
	}
	return false
}

func probeErrText(err error) string {
	var re *smithyhttp.ResponseError
	status := ""
	if errors.As(err, &re) {
		if re.HTTPStatusCode() > 0 {
			status = fmt.Sprintf("%d ", re.HTTPStatusCode())
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return status + ae.ErrorCode()
	}
	if probeNoAnswer(err) {
		return "network: " + err.Error()
	}
	return strings.TrimSpace(status + "no error code")
}

// probeNoAnswer reports a request that got no HTTP answer at all.
func probeNoAnswer(err error) bool {
	var se *smithyhttp.RequestSendError
	var re *smithyhttp.ResponseError
	return errors.As(err, &se) || !errors.As(err, &re) || re.HTTPStatusCode() == 0
}

// IAMProbesFromS3 makes the IAM probes' clients from the S3 client's key,
// Region and HTTP client, so that they ask as the same key. An S3 client
// with its own endpoint is taken to talk to an S3-compatible store without
// IAM, unless AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS say where its
// IAM is. principal is the ARN the config expects ("" for none).
func IAMProbesFromS3(c *s3.Client, principal string) *IAMProbeOptions {
	so := c.Options()
	iamURL, stsURL := os.Getenv("AWS_ENDPOINT_URL_IAM"), os.Getenv("AWS_ENDPOINT_URL_STS")
	if so.BaseEndpoint != nil && *so.BaseEndpoint != "" && (iamURL == "" || stsURL == "") {
		return &IAMProbeOptions{Principal: principal, Why: "the S3 endpoint " + *so.BaseEndpoint + " is not AWS's (an S3-compatible store, which has no IAM; set AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS if it has)"}
	}
	cfg := aws.Config{Region: so.Region, Credentials: so.Credentials, HTTPClient: so.HTTPClient, RetryMaxAttempts: 2}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	ic := awsiam.NewFromConfig(cfg, func(o *awsiam.Options) {
		if iamURL != "" {
			o.BaseEndpoint = aws.String(iamURL)
		}
	})
	sc := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if stsURL != "" {
			o.BaseEndpoint = aws.String(stsURL)
		}
	})
	return &IAMProbeOptions{IAM: ic, STS: sc, Principal: principal}
}
