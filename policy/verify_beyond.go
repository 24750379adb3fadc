package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/putonly/putonly/policy/iam"
)

// The rights outside S3 that a backup key may hold, each confined to its
// resource: sns:Publish on the configured topics (the daemon's job events,
// backup/notify_sns.go), and for SSE-KMS kms:GenerateDataKey and kms:Decrypt
// on the configured key. A multipart upload with SSE-KMS needs both ("Multipart
// upload and permissions", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions:
// "you must have permission to the kms:Decrypt and kms:GenerateDataKey
// actions on the key").
func (v *verifier) permittedRights() []iam.Right {
	var rs []iam.Right
	if len(v.in.SNSTopics) > 0 {
		rs = append(rs, iam.Right{Action: "sns:Publish", Resources: v.in.SNSTopics})
	}
	if v.in.KMSKey != "" {
		rs = append(rs,
			iam.Right{Action: "kms:GenerateDataKey", Resources: []string{v.in.KMSKey}},
			iam.Right{Action: "kms:Decrypt", Resources: []string{v.in.KMSKey}})
	}
	return rs
}

// beyondNoPermission is the one action outside S3 that no policy can grant
// or deny: "No permissions are required to perform this operation. If an
// administrator attaches a policy to your identity that explicitly denies
// access to the sts:GetCallerIdentity action, you can still perform this
// operation" (STS API Reference, GetCallerIdentity,
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
// An Allow naming exactly it is no finding; a pattern that matches it and
// more ("sts:Get*") still is.
const beyondNoPermission = "sts:GetCallerIdentity"

// beyondEscalation names the actions outside S3 that verify looks for by
// name, with why each lets the key get at the backups. They only name what
// the policies grant: the decision comes from the action strings (package
// iam, BeyondS3), and an action named nowhere here is still a violation.
var beyondEscalation = map[string]string{
	"iam:CreateAccessKey":               "mints access keys for another user, an administrator's included",
	"iam:CreateLoginProfile":            "gives a user a console password the key holder chooses",
	"iam:UpdateLoginProfile":            "resets a user's console password",
	"iam:PutUserPolicy":                 "writes an inline policy on a user, itself included, granting anything",
	"iam:AttachUserPolicy":              "attaches any managed policy (AdministratorAccess) to a user, itself included",
	"iam:PutGroupPolicy":                "writes an inline policy on a group it may be in",
	"iam:AttachGroupPolicy":             "attaches any managed policy to a group it may be in",
	"iam:AddUserToGroup":                "joins a group with more rights",
	"iam:PutRolePolicy":                 "writes an inline policy on a role it can assume or pass",
	"iam:AttachRolePolicy":              "attaches any managed policy to a role it can assume or pass",
	"iam:CreatePolicyVersion":           "rewrites a managed policy attached to it, and makes the new version the default",
	"iam:SetDefaultPolicyVersion":       "switches a managed policy to an older, broader version",
	"iam:UpdateAssumeRolePolicy":        "lets itself assume any role",
	"iam:DeleteUserPermissionsBoundary": "removes the boundary that limits a user",
	"iam:DeleteRolePermissionsBoundary": "removes the boundary that limits a role",
	"iam:CreateUser":                    "creates a new identity to give rights to",
	"iam:PassRole":                      "hands a role to a service (Lambda, EC2, ECS, CodeBuild, Glue, CloudFormation) that then acts with the role's rights",
	"sts:AssumeRole":                    "takes on the rights of another role",
	"sts:GetFederationToken":            "mints temporary credentials",
	"lambda:CreateFunction":             "with iam:PassRole, runs code as any role that trusts Lambda",
	"lambda:UpdateFunctionCode":         "replaces the code of a function that runs with its own role",
	"lambda:InvokeFunction":             "runs a function with its role's rights",
	"ec2:RunInstances":                  "with iam:PassRole, starts an instance holding any role's credentials",
	"ecs:RunTask":                       "with iam:PassRole, runs a container with any task role",
	"ecs:RegisterTaskDefinition":        "with iam:PassRole, defines a container with any task role",
	"codebuild:CreateProject":           "with iam:PassRole, defines a build that runs as any role",
	"codebuild:StartBuild":              "runs a build with its project's role",
	"cloudformation:CreateStack":        "with iam:PassRole, creates any resource as the stack's role",
	"glue:CreateDevEndpoint":            "with iam:PassRole, opens a shell as any role that trusts Glue",
	"ssm:SendCommand":                   "runs commands on managed hosts and their roles",
	"organizations:LeaveOrganization":   "takes the account out of its organization and its SCPs",
	"organizations:DetachPolicy":        "removes an SCP that guards the account",
	"kms:PutKeyPolicy":                  "rewrites who may use the encryption key",
	"kms:CreateGrant":                   "lets another principal use the encryption key",
	"kms:ScheduleKeyDeletion":           "deletes the key that encrypts the backups, making them unreadable",
	"kms:DisableKey":                    "disables the key that encrypts the backups",
	"secretsmanager:GetSecretValue":     "reads stored secrets, other credentials among them",
	"s3express:CreateSession":           "opens sessions on directory buckets, which bucket policies on S3 do not govern",
	"s3-object-lambda:GetObject":        "reads objects through an Object Lambda access point",
}

// beyondService says why any action of a service escalates, for actions
// the table above does not name: these services decide who may do what.
var beyondService = map[string]string{
	"iam":           "IAM decides who may do what: its actions read or change the rights of every identity",
	"sts":           "STS hands out credentials of other identities",
	"organizations": "Organizations controls the SCPs that guard the account",
	"sso":           "IAM Identity Center hands out access to accounts",
}

// beyondPassRole are the services that run code or create resources with a
// role passed to them: with iam:PassRole, any of their actions that does
// so is escalation (IAM User Guide, "Grant a user permissions to pass a
// role to an AWS service",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
var beyondPassRole = map[string]string{
	"lambda":         "Lambda",
	"ec2":            "EC2",
	"ecs":            "ECS",
	"codebuild":      "CodeBuild",
	"cloudformation": "CloudFormation",
	"glue":           "Glue",
	"sagemaker":      "SageMaker",
	"batch":          "Batch",
	"states":         "Step Functions",
	"datapipeline":   "Data Pipeline",
}

func beyondNamed() []string {
	out := make([]string, 0, len(beyondEscalation))
	for a := range beyondEscalation {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// beyondFindings reports every action outside S3 the identity policies
// grant: violations (called escalation where the service can reach the
// backups another way), and info for kms:Decrypt on the configured key.
func (v *verifier) beyondFindings() []VerifyFinding {
	rights := v.permittedRights()
	var out []VerifyFinding
	beyond := v.e.BeyondS3(rights, beyondNamed())
	passRole := false
	for _, b := range beyond {
		passRole = passRole || (!b.Unconfined && iam.ActionMatches(b.Action, "iam:PassRole"))
	}
	for _, b := range beyond {
		if !b.Unnamed && !b.Unconfined && strings.EqualFold(b.Action, beyondNoPermission) {
			out = append(out, VerifyFinding{Action: beyondNoPermission, Effect: verEffect(b.Access), Statement: verRefLabels(b.Grants), Severity: SeverityInfo,
				Reason: "sts:GetCallerIdentity needs no permission, so allowing it grants nothing: it only tells the key who it is (the self-test calls it)"})
			continue
		}
		f := VerifyFinding{Action: b.Action, Effect: verEffect(b.Access), Statement: verRefLabels(b.Grants), Severity: SeverityViolation}
		cond := ""
		if b.Access == iam.Conditional {
			cond = " under conditions the caller may meet"
		}
		src := verRefLabels(b.Grants) + " (identity policy)" + cond
		switch {
		case b.Unconfined:
			f.Reason = fmt.Sprintf("beyond its resource: %s is allowed on more than %s (by %s)", b.Action, v.rightText(b.Action), src)
		case b.Unnamed:
			f.Reason = fmt.Sprintf("beyond S3: %s may grant actions of other services, and no Deny without conditions on Resource \"*\" was shown to cover them (by %s)", b.Action, src)
		case v.unconfigured(b.Action) != "":
			f.Reason = fmt.Sprintf("beyond S3: %s is allowed but %s, so it is not a right this key needs (allowed by %s)", b.Action, v.unconfigured(b.Action), src)
		default:
			f.Reason = fmt.Sprintf("%s (allowed by %s)", beyondWhy(b.Action, passRole), src)
		}
		out = append(out, f)
	}
	// kms:Decrypt on the configured key: needed, and harmless here.
	if v.in.KMSKey != "" {
		d := v.e.Evaluate(iam.Request{Action: "kms:Decrypt", Target: iam.Target{ARN: v.in.KMSKey}})
		if d.Access != iam.Denied {
			out = append(out, VerifyFinding{Action: "kms:Decrypt", Effect: verEffect(d.Access), Statement: verGrantLabels(d), Severity: SeverityInfo,
				Reason: "kms:Decrypt on the configured key is what multipart SSE-KMS uploads need; it cannot read a backup: the encrypted data key is stored with the object, which only s3:GetObject returns"})
		}
	}
	return out
}

func (v *verifier) rightText(action string) string {
	switch strings.ToLower(action) {
	case "sns:publish":
		if len(v.in.SNSTopics) == 0 {
			return "nothing (no --sns-topic given)"
		}
		return "the configured topics (" + strings.Join(v.in.SNSTopics, ", ") + ")"
	}
	if v.in.KMSKey == "" {
		return "nothing (no --kms-key given)"
	}
	return "the configured key (" + v.in.KMSKey + ")"
}

// beyondWhy is the one-line reason for an action outside S3 (a concrete
// action, or the policy's pattern); passRole says the key also holds
// iam:PassRole.
func beyondWhy(action string, passRole bool) string {
	for name, why := range beyondEscalation {
		if strings.EqualFold(name, action) {
			return "escalation: " + name + " " + why
		}
	}
	svc, _, _ := strings.Cut(strings.ToLower(action), ":")
	if why, ok := beyondService[svc]; ok {
		return "escalation: " + action + ": " + why
	}
	if name, ok := beyondPassRole[svc]; ok && passRole {
		return "escalation: " + action + " with iam:PassRole: " + name + " can act with the rights of a role the key passes"
	}
	return "beyond S3: " + action + " is not a right putonly uses, and an action outside S3 is not shown harmless by not being known"
}

// unconfigured says which flag would make action a permitted right, when
// it is one of them and the flag was not given.
func (v *verifier) unconfigured(action string) string {
	switch strings.ToLower(action) {
	case "sns:publish":
		if len(v.in.SNSTopics) == 0 {
			return "no --sns-topic was given"
		}
	case "kms:generatedatakey", "kms:decrypt":
		if v.in.KMSKey == "" {
			return "no --kms-key was given"
		}
	}
	return ""
}

// unknownS3 reports an S3 action pattern of an Allow statement that names
// no action of the catalogue: the catalogue cannot say what it grants, and
// an action it does not know is not thereby harmless.
func (v *verifier) unknownS3() []VerifyFinding {
	var out []VerifyFinding
	var ps []*iam.Policy
	if v.in.BucketPolicy != nil {
		ps = append(ps, v.in.BucketPolicy)
	}
	ps = append(ps, v.in.IdentityPolicies...)
	names := Actions()
	for _, p := range ps {
		for _, s := range p.Statements {
			if s.Effect != iam.Allow || s.NotAction {
				continue
			}
			for _, a := range s.Actions {
				if len(a) < 3 || !strings.EqualFold(a[:3], "s3:") {
					continue
				}
				known := false
				for _, n := range names {
					if iam.ActionMatches(a, n.Name) {
						known = true
						break
					}
				}
				if !known {
					out = append(out, VerifyFinding{Action: a, Effect: "allow", Statement: iam.Ref{Policy: p, Statement: s}.Label(), Severity: SeverityViolation,
						Reason: "unknown S3 action: " + a + " names no action of the catalogue (" + CatalogueSource() + "), so what it grants cannot be shown harmless; remove it, or check the spelling"})
				}
			}
		}
	}
	return out
}
