package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/policy"
	"github.com/putonly/putonly/policy/iam"
)

const verifyUsage = `Usage:
  putonly-policy verify --bucket-policy FILE --principal ARN --bucket NAME \
      [--prefix P] [--identity-policy FILE ...] [--bucket-account ID] \
      [--sns-topic ARN ...] [--kms-key ARN] [--bucket-settings DIR [--retention-days N]] \
      [--format text|json|markdown] [--strict]
  putonly-policy verify --live --principal ARN --bucket NAME [--prefix P] \
      [--profile PROFILE] [--region R] [--endpoint URL] [--path-style] [options above]

Proves offline, from the policy documents alone, that the backup key cannot
read, delete or re-permission the backups: for every S3 action of the
catalogue it evaluates the bucket policy and the key's identity policies as
AWS IAM would, soundly (an Allow whose conditions the key could meet counts);
and for every action of every other service the identity policies can grant
(wildcards, NotAction and unknown services included): outside S3 the key may
hold only sns:Publish on the --sns-topic topics and, for SSE-KMS,
kms:GenerateDataKey and kms:Decrypt on the --kms-key key. Anything else (IAM,
STS, iam:PassRole with Lambda or EC2, ...) is a violation naming the statement.

Options:
  --bucket-policy FILE     the bucket policy, bare or as 'aws s3api get-bucket-policy'
                           prints it ({"Policy": "..."}); - reads stdin
                           e.g. --bucket-policy policy.json
  --principal ARN          the backup key's IAM user
                           e.g. --principal arn:aws:iam::123456789012:user/putonly-db1
  --bucket NAME            the bucket, e.g. --bucket acme-db-backups
  --prefix P               the key prefix of the backups (default: the whole bucket)
                           e.g. --prefix db1/
  --identity-policy FILE ...
                           the policies attached to the user and its groups, one or
                           more files (or repeat the flag; - reads stdin). Without
                           any, the user is assumed to have none.
                           e.g. --identity-policy user-policy.json group-ops.json
  --bucket-account ID      the account that owns the bucket (default: the
                           principal's); another account means both sides must allow
                           e.g. --bucket-account 210987654321
  --sns-topic ARN          a topic the daemon publishes job events to (repeatable):
                           sns:Publish on it is allowed, on anything else a violation
  --kms-key ARN            the SSE-KMS key: kms:GenerateDataKey and kms:Decrypt on it
                           are allowed, on any other key a violation
  --bucket-settings DIR    the bucket's own configuration, one file per AWS CLI command
                           (a file absent or empty: not configured):
                             for c in versioning encryption lifecycle-configuration ownership-controls; do
                               aws s3api get-bucket-$c --bucket B > DIR/$c.json; done
                             aws s3api get-object-lock-configuration --bucket B > DIR/object-lock-configuration.json
                             aws s3api get-public-access-block --bucket B > DIR/public-access-block.json
                           Checked: without versioning or object lock a policy that lets
                           uploads overwrite is a violation; SSE-C must be blocked, default
                           encryption set, ACLs disabled, public access blocked; lifecycle
                           rules must not expire backups sooner than --retention-days and
                           should abort incomplete multipart uploads
  --retention-days N       how long backups must be kept (with --bucket-settings)
  --live                   fetch instead of reading files: the bucket policy and settings
                           (S3) and the principal's identity policies (IAM: inline,
                           attached managed at their default version, its groups',
                           and the permissions boundary), with read-only calls from an
                           admin's credentials (--profile, or the standard chain); the
                           report lists every document with its SHA-256. The admin
                           needs the bucket's s3:Get* configuration rights and IAM
                           read (IAMReadOnlyAccess). AWS_ENDPOINT_URL_IAM and
                           AWS_ENDPOINT_URL_S3 point the calls elsewhere.
  --profile, --region, --endpoint URL, --path-style
                           with --live: the AWS profile, region, S3 endpoint and
                           path-style addressing (S3-compatible stores)
  --format F               text (default), json, or markdown (a dated report with
                           the SHA-256 of each input, to file as audit evidence)
  --strict                 exit 1 on warnings too

Exit status: 0 the key cannot read, destroy or escalate (warnings may be
printed); 1 it can or might (or, with --strict, a warning), or --live could
not fetch the documents (the network, the credentials, S3's or IAM's answer:
the cause is printed, with its fix); 2 bad arguments, a document that cannot
be read or is not a valid policy, or an AWS config or profile that does not
load; 130 interrupted.
`

// verifyNow and verifyVersion are replaced by the golden tests.
var (
	verifyNow = time.Now
	// The same version 'putonly-policy version' prints: the auditor's
	// report names the release, not the module's pseudo-version.
	verifyVersion = func() string {
		return cli.Build{Version: version, Commit: commit, Date: date}.Resolve().Version
	}
)

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

var reAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// verifyDoc is one input document as read.
type verifyDoc struct {
	role   string // "bucket policy" or "identity policy"
	file   string // as given; "-" is stdin
	label  string // the name findings use
	sha256 string
	policy *iam.Policy // nil for a settings document
}

// verifyFlags are verify's flags.
type verifyFlags struct {
	bucketPolicy, principal, bucket, prefix, bucketAccount string
	identity, topics                                       stringsFlag
	kmsKey, settingsDir                                    string
	retention                                              int
	live, pathStyle                                        bool
	profile, region, endpoint                              string
	format                                                 string
	strict                                                 bool
}

// runVerify implements 'putonly-policy verify'.
func runVerify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var v verifyFlags
	v.register(fs)
	if err := fs.Parse(verifyExpandIdentity(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, verifyUsage)
			return nil
		}
		return verifyUsageError("%v", err)
	}
	if fs.NArg() > 0 {
		return verifyUsageError("unexpected argument %q", fs.Arg(0))
	}
	if err := v.check(); err != nil {
		return err
	}
	in, docs, fetched, err := v.load(ctx, stdin)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := policy.Verify(in)
	if err != nil {
		return cli.Usage(err) // only the input is checked: principal, bucket
	}
	if fetched != nil {
		res.Assumptions = append(res.Assumptions, verifyLiveAssumptions(fetched, res)...)
	}
	code := res.Exit(v.strict)
	switch v.format {
	case "json":
		err = verifyJSON(stdout, in, res, code)
	case "markdown":
		err = verifyMarkdown(stdout, in, res, docs, code, v.strict)
	default:
		err = verifyText(stdout, in, res, v.strict, docs, v.live)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if code != 0 {
		return &exitError{Code: code}
	}
	return nil
}

// register adds the flags to fs (their help is verifyUsage).
func (v *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&v.bucketPolicy, "bucket-policy", "", "")
	fs.StringVar(&v.principal, "principal", "", "")
	fs.StringVar(&v.bucket, "bucket", "", "")
	fs.StringVar(&v.prefix, "prefix", "", "")
	fs.Var(&v.identity, "identity-policy", "")
	fs.StringVar(&v.bucketAccount, "bucket-account", "", "")
	fs.Var(&v.topics, "sns-topic", "")
	fs.StringVar(&v.kmsKey, "kms-key", "", "")
	fs.StringVar(&v.settingsDir, "bucket-settings", "", "")
	fs.IntVar(&v.retention, "retention-days", 0, "")
	fs.StringVar(&v.format, "format", "text", "")
	fs.BoolVar(&v.live, "live", false, "")
	fs.StringVar(&v.profile, "profile", "", "")
	fs.StringVar(&v.region, "region", "", "")
	fs.StringVar(&v.endpoint, "endpoint", "", "")
	fs.BoolVar(&v.pathStyle, "path-style", false, "")
	fs.BoolVar(&v.strict, "strict", false, "")
}

// check refuses flags that do not go together or do not parse.
func (v *verifyFlags) check() error {
	switch {
	case v.live && (v.bucketPolicy != "" || len(v.identity) > 0 || v.settingsDir != ""):
		return verifyUsageError("--live fetches the bucket policy, the identity policies and the bucket settings itself: drop --bucket-policy, --identity-policy and --bucket-settings")
	case !v.live && (v.profile != "" || v.region != "" || v.endpoint != "" || v.pathStyle):
		return verifyUsageError("--profile, --region, --endpoint and --path-style go with --live")
	case v.bucketPolicy == "" && !v.live:
		return verifyUsageError("--bucket-policy is required (or --live to fetch it)")
	case v.principal == "":
		return verifyUsageError("--principal is required")
	case v.bucket == "":
		return verifyUsageError("--bucket is required")
	case v.bucketAccount != "" && !reAccountID.MatchString(v.bucketAccount):
		return verifyUsageError("--bucket-account %q: an AWS account id is 12 digits", v.bucketAccount)
	case strings.HasPrefix(v.prefix, "/"):
		return verifyUsageError("--prefix %q: S3 keys do not begin with /", v.prefix)
	case v.kmsKey != "" && !strings.HasPrefix(v.kmsKey, "arn:"):
		return verifyUsageError("--kms-key %q: give the key's ARN (aws kms describe-key --key-id KEY --query KeyMetadata.Arn)", v.kmsKey)
	case v.retention < 0 || v.retention > 36500:
		return verifyUsageError("--retention-days %d: want 1 to 36500 days", v.retention)
	case v.retention > 0 && v.settingsDir == "" && !v.live:
		return verifyUsageError("--retention-days needs --bucket-settings: it is checked against the bucket's lifecycle rules")
	case v.format != "text" && v.format != "json" && v.format != "markdown":
		return verifyUsageError("--format %q: want text, json or markdown", v.format)
	}
	if _, err := iam.ParseCaller(v.principal); err != nil {
		return verifyUsageError("--principal: %v", err)
	}
	for _, t := range v.topics {
		if !strings.HasPrefix(t, "arn:") || !strings.Contains(t, ":sns:") {
			return verifyUsageError("--sns-topic %q: give the topic's ARN, e.g. arn:aws:sns:eu-west-1:123456789012:backups", t)
		}
	}
	return nil
}

// load reads (or, with --live, fetches) the documents verify judges.
func (v *verifyFlags) load(ctx context.Context, stdin io.Reader) (policy.VerifyInput, []*verifyDoc, *policy.Live, error) {
	stdinUsed := false
	read := func(role, file string, kind iam.Kind) (*verifyDoc, error) {
		var data []byte
		var err error
		if file == "-" {
			if stdinUsed {
				return nil, errors.New("only one document can be read from stdin (-)")
			}
			stdinUsed = true
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", role, file, err)
		}
		p, err := iam.Parse(data, kind)
		if err != nil {
			return nil, fmt.Errorf("%s %s is not a valid policy: %w", role, verifyFileName(file), err)
		}
		sum := sha256.Sum256(data)
		return &verifyDoc{role: role, file: file, sha256: hex.EncodeToString(sum[:]), policy: p}, nil
	}
	in := policy.VerifyInput{Principal: v.principal, Bucket: v.bucket, Prefix: v.prefix, BucketAccount: v.bucketAccount,
		SNSTopics: v.topics, KMSKey: v.kmsKey, RetentionDays: v.retention}
	var docs []*verifyDoc
	var fetched *policy.Live
	if v.live {
		l, err := verifyFetchLive(ctx, verifyLiveOptions{profile: v.profile, region: v.region, endpoint: v.endpoint, pathStyle: v.pathStyle}, v.bucket, v.principal)
		if err != nil {
			return in, nil, nil, err // the AWS config is a usage error, a failed fetch exit 1
		}
		fetched = l
		in.BucketPolicy, in.IdentityPolicies, in.Settings = l.BucketPolicy, l.Identity, l.Settings
		for _, d := range l.Documents {
			docs = append(docs, &verifyDoc{role: d.Role, file: d.Name, label: d.Name, sha256: d.SHA256})
		}
	} else {
		bp, err := read("bucket policy", v.bucketPolicy, iam.ResourceBased)
		if err != nil {
			return in, nil, nil, cli.Usage(err)
		}
		bp.policy.Name = "bucket"
		bp.label = "bucket"
		docs = append(docs, bp)
		in.BucketPolicy = bp.policy
	}
	names := map[string]bool{"bucket": true}
	for _, f := range v.identity {
		d, err := read("identity policy", f, iam.IdentityBased)
		if err != nil {
			return in, nil, nil, cli.Usage(err)
		}
		name := verifyFileName(f)
		if names[name] {
			name = f
		}
		names[name] = true
		d.policy.Name = name
		d.label = name
		docs = append(docs, d)
		in.IdentityPolicies = append(in.IdentityPolicies, d.policy)
	}
	if v.settingsDir != "" {
		st, err := policy.ReadBucketSettings(v.settingsDir)
		if err != nil {
			return in, nil, nil, cli.Usage(err)
		}
		in.Settings = st
		for _, d := range st.Documents {
			if d.SHA256 != "" {
				docs = append(docs, &verifyDoc{role: "bucket settings", file: filepath.Join(v.settingsDir, d.Name), label: "bucket-settings", sha256: d.SHA256})
			}
		}
	}
	return in, docs, fetched, nil
}

// verifyExpandIdentity lets --identity-policy take several files, as the
// synopsis writes it (--identity-policy a.json b.json), as well as the flag
// repeated: the files after it up to the next flag become one flag each.
func verifyExpandIdentity(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if a != "--identity-policy" && a != "-identity-policy" {
			continue
		}
		if i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
		for i+1 < len(args) && (args[i+1] == "-" || !strings.HasPrefix(args[i+1], "-")) {
			out = append(out, a, args[i+1])
			i++
		}
	}
	return out
}

func verifyUsageError(format string, args ...any) error {
	return cli.Usage(fmt.Errorf("verify: "+format+"\n\trun 'putonly-policy verify --help' for the options", args...))
}

func verifyFileName(f string) string {
	if f == "-" {
		return "stdin"
	}
	return filepath.Base(f)
}

func verifyTarget(in policy.VerifyInput) string {
	return "s3://" + in.Bucket + "/" + in.Prefix
}

// verifyText prints one line per finding, then the verdict.
func verifyText(w io.Writer, in policy.VerifyInput, res *policy.VerifyResult, strict bool, docs []*verifyDoc, live bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s for %s\n", verifyTarget(in), in.Principal)
	if live {
		// Fetched, so the reader cannot know what was evaluated otherwise.
		for _, d := range docs {
			fmt.Fprintf(&b, "evaluated %s: %s sha256:%s\n", d.role, d.label, d.sha256)
		}
		for _, a := range res.Assumptions {
			if strings.HasPrefix(a, "live: ") {
				fmt.Fprintf(&b, "%s\n", a)
			}
		}
	}
	for _, f := range res.Findings {
		stmt := f.Statement
		if stmt == "" {
			stmt = "-"
		}
		fmt.Fprintf(&b, "%-9s %s %s %s: %s\n", strings.ToUpper(f.Severity), f.Action, f.Effect, stmt, f.Reason)
	}
	b.WriteString(verifySummary(res, strict))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func verifySummary(res *policy.VerifyResult, strict bool) string {
	var nv, nw int
	for _, f := range res.Findings {
		switch f.Severity {
		case policy.SeverityViolation:
			nv++
		case policy.SeverityWarning:
			nw++
		}
	}
	switch res.Verdict {
	case policy.VerdictFail:
		return fmt.Sprintf("verdict: fail: the key can or might read, destroy or escalate (%s, %s)", verifyCount(nv, "violation"), verifyCount(nw, "warning"))
	case policy.VerdictWarn:
		s := fmt.Sprintf("verdict: warn: the key cannot read, destroy or escalate, but see the %s", verifyCount(nw, "warning"))
		if strict {
			s += " (--strict: exit 1)"
		}
		return s
	}
	return "verdict: pass: the key cannot read, destroy or escalate"
}

func verifyCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

type verifyJSONReport struct {
	Verdict       string                 `json:"verdict"`
	Exit          int                    `json:"exit"`
	Principal     string                 `json:"principal"`
	Bucket        string                 `json:"bucket"`
	Prefix        string                 `json:"prefix"`
	BucketAccount string                 `json:"bucket_account"`
	Findings      []policy.VerifyFinding `json:"findings"`
	Assumptions   []string               `json:"assumptions"`
}

func verifyJSON(w io.Writer, in policy.VerifyInput, res *policy.VerifyResult, code int) error {
	r := verifyJSONReport{
		Verdict: res.Verdict, Exit: code, Principal: in.Principal, Bucket: in.Bucket, Prefix: in.Prefix,
		BucketAccount: res.BucketAccount, Findings: res.Findings, Assumptions: res.Assumptions,
	}
	if r.Findings == nil {
		r.Findings = []policy.VerifyFinding{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// verifyMarkdown writes a report an auditor can file as evidence.
func verifyMarkdown(w io.Writer, in policy.VerifyInput, res *policy.VerifyResult, docs []*verifyDoc, code int, strict bool) error {
	var b strings.Builder
	cell := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		return strings.ReplaceAll(s, "\n", " ")
	}
	prefix := "`" + in.Prefix + "`"
	if in.Prefix == "" {
		prefix = "(whole bucket)"
	}
	b.WriteString("# putonly-policy verify report\n\n")
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Date | %s |\n", verifyNow().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "| Tool | putonly-policy %s |\n", cell(verifyVersion()))
	fmt.Fprintf(&b, "| Principal | `%s` |\n", cell(in.Principal))
	fmt.Fprintf(&b, "| Bucket | `%s` |\n", cell(in.Bucket))
	fmt.Fprintf(&b, "| Prefix | %s |\n", cell(prefix))
	fmt.Fprintf(&b, "| Bucket account | %s |\n", res.BucketAccount)
	fmt.Fprintf(&b, "| Mode | %s |\n", map[bool]string{true: "strict (warnings fail)", false: "default (warnings do not fail)"}[strict])
	fmt.Fprintf(&b, "| Verdict | **%s** (exit %d) |\n\n", strings.ToUpper(res.Verdict), code)
	b.WriteString(verifySummary(res, strict) + ".\n\n")

	b.WriteString("## Input documents\n\n| Role | File | Label | SHA-256 |\n|---|---|---|---|\n")
	for _, d := range docs {
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` |\n", d.role, cell(verifyFileName(d.file)), cell(d.label), d.sha256)
	}
	if in.Settings != nil {
		for _, d := range in.Settings.Documents {
			if d.SHA256 == "" {
				fmt.Fprintf(&b, "| bucket settings | `%s` | bucket-settings | absent (not configured) |\n", cell(d.Name))
			}
		}
	}
	b.WriteString("\n## Findings\n\n")
	if len(res.Findings) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Severity | Action | Effect | Statement | Reason |\n|---|---|---|---|---|\n")
		for _, f := range res.Findings {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", f.Severity, cell(f.Action), f.Effect, cell(f.Statement), cell(f.Reason))
		}
	}
	b.WriteString("\n## Assumptions\n\n")
	for _, a := range res.Assumptions {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
