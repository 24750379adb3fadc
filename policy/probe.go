package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3err"
)

// The live self-test. Verify answers "does the policy say the key cannot
// read?"; Probe answers "does S3 actually refuse?", by asking S3 with the
// key itself. Every probe that could change something either targets a
// canary the run has just written under SelftestPrefix, or sends a body S3
// must reject, so that nothing a backup or the bucket depends on can change
// even when the key has far too many rights.

// SelftestPrefix is appended to the backup prefix for the self-test's
// canaries: <prefix>_putonly-selftest/<time>-<random>/... It lies under the
// prefix the policy grants, and a lifecycle rule should expire it.
const SelftestPrefix = layout.SelftestPrefix

// Verdicts of one probe: what S3 did with the request.
const (
	ProbeRefused = "refused"        // 403, 412 or a call the store lacks (501, 405)
	ProbeAllowed = "allowed"        // 2xx, or an error S3 only gives once authorised (400 on a bad body)
	ProbeUnknown = "could-not-tell" // network error, 5xx, or an answer that proves neither
)

// SeverityOK marks a probe whose outcome is the expected one; the other
// severities are those of Verify (violation, warning, info), plus
// SeverityUnknown for a probe that could not tell.
const (
	SeverityOK      = "ok"
	SeverityUnknown = "unknown"
)

// ProbeOptions say where to probe and how the agent writes.
type ProbeOptions struct {
	Bucket string
	Prefix string // the backup prefix; the canaries go under Prefix + SelftestPrefix
	// SSE is the server-side encryption of the canaries: AES256 (default) or
	// aws:kms with KMSKeyID, as the agent writes backups.
	SSE      string
	KMSKeyID string
	// Checksum of the canaries: CRC64NVME (default) or SHA256, as the agent
	// writes backups.
	Checksum string
	// PartSize of the multipart canary (default and minimum 5 MiB, S3's
	// minimum for every part but the last); it has two parts, the second
	// of 1 KiB.
	PartSize int64
	// Now names the canaries' directory; default time.Now.
	Now func() time.Time
	// IAMProbes, if set, adds the IAM probes (probe_iam.go) after S3's:
	// whether the key may mint access keys or rewrite a user's policy, and
	// who it is. Set it with nil clients for a store without IAM: the
	// probes are then reported not applicable.
	IAMProbes *IAMProbeOptions
}

// ProbeResult is one probe and what S3 answered.
type ProbeResult struct {
	Probe     string   `json:"probe"`     // what was tried, e.g. "GetObject canary (range 0-0)"
	Operation string   `json:"operation"` // the S3 API call
	Actions   []string `json:"actions"`   // the IAM actions that authorise it (from the catalogue)
	Class     Class    `json:"class"`     // what an allowed outcome means for a backup key
	Expected  string   `json:"expected"`  // "allowed" or "refused"
	Got       string   `json:"got"`       // "403 AccessDenied", "200", "network: ..."
	Verdict   string   `json:"verdict"`   // ProbeRefused, ProbeAllowed or ProbeUnknown
	Severity  string   `json:"severity"`  // SeverityOK, SeverityViolation, SeverityWarning, SeverityInfo or SeverityUnknown
	Note      string   `json:"note,omitempty"`
	// Fix says how to change the policy (or the bucket) when the outcome is
	// not the expected one.
	Fix string `json:"fix,omitempty"`
}

// ProbeReport is the outcome of Probe.
type ProbeReport struct {
	Bucket  string        `json:"bucket"`
	Prefix  string        `json:"prefix"`
	Canary  string        `json:"canary_prefix"` // where this run wrote
	Results []ProbeResult `json:"results"`
	// Cause is why the self-test could not run: a cause of set-up the
	// store or the network named (s3err: refused, no such bucket, wrong
	// credentials...), not a verdict on the key. CauseText is its message.
	Cause     error  `json:"-"`
	CauseText string `json:"cause,omitempty"`
}

// VerdictError: the self-test could not run for a cause of set-up
// (ProbeReport.Cause); it says nothing about the key.
const VerdictError = "error"

// Verdict of the whole report: "error" if it could not run (Cause);
// "fail" if a write was refused or a read,
// destroy or escalate probe was allowed; else "could-not-tell" if a probe
// could not tell; else "warn" with warnings; else "pass".
func (r *ProbeReport) Verdict() string {
	switch {
	case r.Cause != nil:
		return VerdictError
	case r.count(SeverityViolation) > 0:
		return VerdictFail
	case r.count(SeverityUnknown) > 0:
		return ProbeUnknown
	case r.count(SeverityWarning) > 0:
		return VerdictWarn
	}
	return VerdictPass
}

// Exit is the command's exit status: 1 if the self-test could not run
// (Cause), if the key can read, delete or escalate, or cannot write (or, with strict, has a warning); 2 if a probe
// could not tell; else 0.
func (r *ProbeReport) Exit(strict bool) int {
	switch r.Verdict() {
	case VerdictFail, VerdictError:
		return 1
	case ProbeUnknown:
		return 2
	case VerdictWarn:
		if strict {
			return 1
		}
	}
	return 0
}

// Violations returns the probes with severity violation.
func (r *ProbeReport) Violations() []ProbeResult { return r.with(SeverityViolation) }

// Warnings returns the probes with severity warning.
func (r *ProbeReport) Warnings() []ProbeResult { return r.with(SeverityWarning) }

// Unknown returns the probes that could not tell.
func (r *ProbeReport) Unknown() []ProbeResult { return r.with(SeverityUnknown) }

func (r *ProbeReport) with(sev string) []ProbeResult {
	var out []ProbeResult
	for _, p := range r.Results {
		if p.Severity == sev {
			out = append(out, p)
		}
	}
	return out
}

func (r *ProbeReport) count(sev string) int { return len(r.with(sev)) }

// ProbeAPI is the part of the S3 API the probes call; *s3.Client has it.
type ProbeAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObjectAttributes(context.Context, *s3.GetObjectAttributesInput, ...func(*s3.Options)) (*s3.GetObjectAttributesOutput, error)
	GetObjectAcl(context.Context, *s3.GetObjectAclInput, ...func(*s3.Options)) (*s3.GetObjectAclOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	PutObjectAcl(context.Context, *s3.PutObjectAclInput, ...func(*s3.Options)) (*s3.PutObjectAclOutput, error)
	PutObjectTagging(context.Context, *s3.PutObjectTaggingInput, ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketAcl(context.Context, *s3.GetBucketAclInput, ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	PutBucketAcl(context.Context, *s3.PutBucketAclInput, ...func(*s3.Options)) (*s3.PutBucketAclOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	PutBucketReplication(context.Context, *s3.PutBucketReplicationInput, ...func(*s3.Options)) (*s3.PutBucketReplicationOutput, error)
}

// The mitigations printed with warnings and violations.
const (
	fixOverwrite = "require If-None-Match on object creation (putonly-policy generate does); where the store cannot enforce s3:if-none-match, only versioning with object lock (putonly-policy generate --object-lock DAYS) keeps the old versions of a backup safe"
	fixSSE       = "deny s3:PutObject without the SSE header in the bucket policy (putonly-policy generate does, in a form that keeps multipart uploads working) and set default bucket encryption; many S3-compatible stores do not evaluate SSE conditions, so rely on default encryption there"
	fixList      = "remove s3:ListBucket (and the other list actions) from the backup key's policy: the agent never lists, and a key that may list learns which backups exist (putonly-policy generate without --allow-list)"
	fixDeny      = "remove %s from every policy that grants it to the backup key (bucket policy, user/role policies, groups), or add an explicit Deny: putonly-policy generate writes one for every read, destroy and escalate action; check with putonly-policy verify"
	fixWrite     = "grant s3:PutObject on arn:aws:s3:::%s/%s* to the backup key; if it already is, a Deny on a missing SSE header also denies UploadPart (which carries none): use the form putonly-policy generate writes"
	fixAbort     = "grant s3:AbortMultipartUpload on the backup prefix so a failed upload is cleaned up at once; an incomplete-upload lifecycle rule removes the parts otherwise"
)

// Probe runs the whole self-test with api, which holds the key under test,
// and returns the report. The error is non-nil only for bad options; what S3
// answered, network errors included, is in the report.
//
// Order matters: the canaries are written first (a read probe on a missing
// canary proves nothing, so without one those probes could not tell), the
// reads and lists run before the probes that may change the canary, and the
// deletes target a key that was never written.
func Probe(ctx context.Context, api ProbeAPI, o ProbeOptions) (*ProbeReport, error) {
	if o.Bucket == "" {
		return nil, errors.New("probe: no bucket")
	}
	switch o.SSE {
	case "":
		o.SSE = "AES256"
	case "AES256", "aws:kms":
	default:
		return nil, fmt.Errorf("probe: sse %q: use AES256 or aws:kms", o.SSE)
	}
	if o.PartSize < 5<<20 {
		o.PartSize = 5 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &prober{api: api, o: o}
	p.dir = o.Prefix + SelftestPrefix + o.Now().UTC().Format("20060102T150405Z") + "-" + randomHex(4) + "/"
	p.report = &ProbeReport{Bucket: o.Bucket, Prefix: o.Prefix, Canary: p.dir}
	p.run(ctx)
	if o.IAMProbes != nil {
		p.report.Results = append(p.report.Results, ProbeIAM(ctx, *o.IAMProbes)...)
	}
	return p.report, nil
}

type prober struct {
	api    ProbeAPI
	o      ProbeOptions
	dir    string // the run's canary directory
	canary string // key of the single-part canary, "" if it could not be written
	report *ProbeReport
	// cause is set by the first probe that failed for a cause of set-up
	// (s3err: network, TLS, credentials, region, bucket); the rest are not
	// run, rather than each waiting out the retries, and the report names
	// the cause instead of a verdict on the key.
	cause error
	// unreachable is set by the first probe that got no HTTP answer that
	// s3err could name; the rest are not run either.
	unreachable string
}

// outcome is what a probe's classifier makes of S3's answer.
type outcome struct {
	got     string
	verdict string
	detail  string // the error, when the answer proves nothing
}

// probe describes one probe before it runs.
type probe struct {
	name, op string
	class    Class  // from the catalogue unless set
	expect   string // ProbeAllowed or ProbeRefused
	// bodyCodes: the request carries a body S3 must reject, and these are
	// the 400 codes that reject it; S3 sends them only once it has
	// authorised the request, so one of them means the key has the right.
	// Any other 400 (InvalidBucketName, AuthorizationHeaderMalformed, ...)
	// proves nothing about the key.
	bodyCodes []string
	// needsCanary: the probe targets the single-part canary.
	needsCanary bool
	// onAllowed and onRefused override the severity of the outcome.
	onAllowed, onRefused string
	note, fix            string
	call                 func(ctx context.Context) error
}

func (p *prober) run(ctx context.Context) {
	p.probeWrites(ctx)
	p.probeReads(ctx)
	p.probeListings(ctx)
	p.probeChanges(ctx)
	p.probeBucketWrites(ctx)
}

// probeWrites runs the writes the agent makes, which must succeed.
func (p *prober) probeWrites(ctx context.Context) {
	bucket := aws.String(p.o.Bucket)
	key := func(name string) *string { return aws.String(p.dir + name) }
	// 1. The writes the agent makes must succeed.
	p.do(ctx, probe{name: "PutObject canary (SSE, If-None-Match, CRC64NVME)", op: "PutObject", expect: ProbeAllowed,
		fix: fmt.Sprintf(fixWrite, p.o.Bucket, p.o.Prefix),
		call: func(ctx context.Context) error {
			body := []byte("putonly self-test canary " + p.dir + "\n")
			// The first request: a cause of set-up is not retried (s3err.FailFast).
			_, err := p.api.PutObject(ctx, p.putInput(p.dir+"canary", body, true, true), s3err.FailFast(s3err.Where{Bucket: p.o.Bucket}))
			if err == nil {
				p.canary = p.dir + "canary"
			}
			return err
		}})
	p.do(ctx, probe{name: "multipart canary, 2 parts (SSE, If-None-Match, CRC64NVME)", op: "UploadPart", expect: ProbeAllowed,
		fix:  fmt.Sprintf(fixWrite, p.o.Bucket, p.o.Prefix),
		call: func(ctx context.Context) error { return p.multipartCanary(ctx, p.dir+"multipart") }})
	p.do(ctx, probe{name: "AbortMultipartUpload of an upload of its own", op: "AbortMultipartUpload", expect: ProbeAllowed,
		onRefused: SeverityWarning, fix: fixAbort,
		call: func(ctx context.Context) error {
			out, err := p.api.CreateMultipartUpload(ctx, p.createInput(p.dir+"aborted"))
			if err != nil {
				return fmt.Errorf("create multipart upload: %w", err)
			}
			_, err = p.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key("aborted"), UploadId: out.UploadId})
			return err
		}})
}

// probeReads runs reads of the canary: object data or metadata leaving S3.
func (p *prober) probeReads(ctx context.Context) {
	bucket := aws.String(p.o.Bucket)
	key := func(name string) *string { return aws.String(p.dir + name) }
	canary := func() *string { return aws.String(p.canary) }
	// 2. Reads of the canary: object data or metadata leaving S3.
	p.do(ctx, probe{name: "GetObject canary", op: "GetObject", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			return getObject(ctx, p.api, &s3.GetObjectInput{Bucket: bucket, Key: canary()})
		}})
	p.do(ctx, probe{name: "GetObject canary, range bytes=0-0", op: "GetObject", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			return getObject(ctx, p.api, &s3.GetObjectInput{Bucket: bucket, Key: canary(), Range: aws.String("bytes=0-0")})
		}})
	p.do(ctx, probe{name: "HeadObject canary", op: "HeadObject", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: canary()})
			return err
		}})
	p.do(ctx, probe{name: "GetObjectAttributes canary", op: "GetObjectAttributes", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: canary(),
				ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize}})
			return err
		}})
	p.do(ctx, probe{name: "GetObjectAcl canary", op: "GetObjectAcl", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: bucket, Key: canary()})
			return err
		}})
	p.do(ctx, probe{name: "GetObjectTagging canary", op: "GetObjectTagging", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: bucket, Key: canary()})
			return err
		}})
	// A copy reads the source with the key's rights and writes a new
	// object the key's owner could then be granted: it is a read.
	p.do(ctx, probe{name: "CopyObject from the canary", op: "CopyObject", class: ClassRead, expect: ProbeRefused, needsCanary: true,
		note: "a copy reads the source: it needs s3:GetObject on the canary",
		call: func(ctx context.Context) error {
			in := &s3.CopyObjectInput{Bucket: bucket, Key: key("copy"), CopySource: aws.String(p.o.Bucket + "/" + p.canary),
				IfNoneMatch: aws.String("*"), TaggingDirective: types.TaggingDirectiveReplace}
			in.ServerSideEncryption, in.SSEKMSKeyId = p.sse()
			_, err := p.api.CopyObject(ctx, in)
			return err
		}})
	p.do(ctx, probe{name: "UploadPartCopy from the canary", op: "UploadPartCopy", class: ClassRead, expect: ProbeRefused, needsCanary: true,
		note: "a part copy reads the source: it needs s3:GetObject on the canary",
		call: func(ctx context.Context) error { return p.uploadPartCopy(ctx) }})
}

// probeListings runs the existence oracle, listings and bucket configuration reads.
func (p *prober) probeListings(ctx context.Context) {
	bucket := aws.String(p.o.Bucket)
	never := aws.String(p.dir + "never-written")
	// 3. Existence oracle: reported, never a failure.
	p.do(ctx, probe{name: "GetObject of a missing key (existence oracle)", op: "GetObject", expect: ProbeRefused,
		onAllowed: SeverityInfo, onRefused: SeverityInfo,
		call: func(ctx context.Context) error {
			return getObject(ctx, p.api, &s3.GetObjectInput{Bucket: bucket, Key: never})
		}})

	// 4. Listing: a warning, as in verify.
	p.do(ctx, probe{name: "ListObjectsV2", op: "ListObjectsV2", expect: ProbeRefused, fix: fixList,
		call: func(ctx context.Context) error {
			_, err := p.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(p.o.Prefix), MaxKeys: aws.Int32(1)})
			return err
		}})
	p.do(ctx, probe{name: "ListObjectVersions", op: "ListObjectVersions", expect: ProbeRefused, fix: fixList,
		call: func(ctx context.Context) error {
			_, err := p.api.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: aws.String(p.o.Prefix), MaxKeys: aws.Int32(1)})
			return err
		}})
	p.do(ctx, probe{name: "ListMultipartUploads", op: "ListMultipartUploads", expect: ProbeRefused, fix: fixList,
		call: func(ctx context.Context) error {
			_, err := p.api.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String(p.o.Prefix), MaxUploads: aws.Int32(1)})
			return err
		}})

	// 5. Bucket configuration reads.
	p.do(ctx, probe{name: "GetBucketPolicy", op: "GetBucketPolicy", expect: ProbeRefused,
		call: func(ctx context.Context) error {
			_, err := p.api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			return err
		}})
	p.do(ctx, probe{name: "GetBucketAcl", op: "GetBucketAcl", expect: ProbeRefused,
		call: func(ctx context.Context) error {
			_, err := p.api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: bucket})
			return err
		}})
}

// probeChanges runs writes that may change only the canary, and deletes of a key never written.
func (p *prober) probeChanges(ctx context.Context) {
	bucket := aws.String(p.o.Bucket)
	never := aws.String(p.dir + "never-written")
	canary := func() *string { return aws.String(p.canary) }
	// 6. Writes that may change only the canary, or a key never written.
	p.do(ctx, probe{name: "overwrite the canary with If-None-Match: *", op: "PutObject", class: ClassNeeded, expect: ProbeRefused, needsCanary: true,
		onAllowed: SeverityWarning, fix: fixOverwrite,
		note: "412 is the expected refusal; success means the store ignores If-None-Match, so even the agent's own upload could replace a backup",
		call: func(ctx context.Context) error {
			_, err := p.api.PutObject(ctx, p.putInput(p.canary, []byte("putonly self-test overwrite\n"), true, true))
			return err
		}})
	p.do(ctx, probe{name: "overwrite the canary without If-None-Match", op: "PutObject", class: ClassNeeded, expect: ProbeRefused, needsCanary: true,
		onAllowed: SeverityWarning, fix: fixOverwrite,
		note: "success means a stolen key can replace any backup it can name",
		call: func(ctx context.Context) error {
			_, err := p.api.PutObject(ctx, p.putInput(p.canary, []byte("putonly self-test overwrite\n"), true, false))
			return err
		}})
	p.do(ctx, probe{name: "PutObject without SSE", op: "PutObject", class: ClassNeeded, expect: ProbeRefused,
		onAllowed: SeverityWarning, fix: fixSSE,
		note: "success means the policy does not require server-side encryption (AWS still applies the bucket's default encryption)",
		call: func(ctx context.Context) error {
			_, err := p.api.PutObject(ctx, p.putInput(p.dir+"no-sse", []byte("putonly self-test without SSE\n"), false, true))
			return err
		}})
	p.do(ctx, probe{name: "PutObjectTagging canary", op: "PutObjectTagging", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: bucket, Key: canary(),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("putonly-selftest"), Value: aws.String("1")}}}})
			return err
		}})
	p.do(ctx, probe{name: "PutObjectAcl canary (canned private)", op: "PutObjectAcl", expect: ProbeRefused, needsCanary: true,
		call: func(ctx context.Context) error {
			_, err := p.api.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: bucket, Key: canary(), ACL: types.ObjectCannedACLPrivate})
			return err
		}})
	// Deleting a key that does not exist succeeds (204) when the key has
	// the right and is refused (403) when it has not; nothing is removed.
	p.do(ctx, probe{name: "DeleteObject of a key never written", op: "DeleteObject", expect: ProbeRefused,
		call: func(ctx context.Context) error {
			_, err := p.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: never})
			return err
		}})
	p.do(ctx, probe{name: "DeleteObjects of a key never written", op: "DeleteObjects", expect: ProbeRefused,
		call: func(ctx context.Context) error { return p.deleteObjects(ctx, never) }})
}

// probeBucketWrites runs bucket-level writes, each with a body S3 must reject.
func (p *prober) probeBucketWrites(ctx context.Context) {
	bucket := aws.String(p.o.Bucket)
	// 7. Bucket-level writes, each with a body S3 must reject: 403 without
	// the right, 400 with it, and the bucket unchanged either way.
	p.do(ctx, probe{name: "PutBucketPolicy (invalid body)", op: "PutBucketPolicy", expect: ProbeRefused, bodyCodes: codesPutBucketPolicy,
		call: func(ctx context.Context) error {
			_, err := p.api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(invalidJSON)})
			return err
		}})
	p.do(ctx, probe{name: "PutBucketAcl (invalid body)", op: "PutBucketAcl", expect: ProbeRefused, bodyCodes: codesPutBucketAcl,
		call: func(ctx context.Context) error {
			_, err := p.api.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: bucket,
				AccessControlPolicy: &types.AccessControlPolicy{}}, withBody(invalidXML))
			return err
		}})
	p.do(ctx, probe{name: "PutBucketVersioning (invalid body)", op: "PutBucketVersioning", expect: ProbeRefused, bodyCodes: codesPutBucketVersioning,
		call: func(ctx context.Context) error {
			_, err := p.api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &types.VersioningConfiguration{}}, withBody(invalidXML))
			return err
		}})
	p.do(ctx, probe{name: "PutBucketLifecycleConfiguration (invalid body)", op: "PutBucketLifecycleConfiguration", expect: ProbeRefused, bodyCodes: codesPutBucketLifecycle,
		call: func(ctx context.Context) error {
			_, err := p.api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: bucket,
				LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{Status: types.ExpirationStatusDisabled}}}},
				withBody(invalidXML))
			return err
		}})
	p.do(ctx, probe{name: "PutBucketReplication (invalid body)", op: "PutBucketReplication", expect: ProbeRefused, bodyCodes: codesPutBucketReplication,
		call: func(ctx context.Context) error {
			_, err := p.api.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: bucket,
				ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String("invalid"), Rules: []types.ReplicationRule{{
					Status: types.ReplicationRuleStatusDisabled, Destination: &types.Destination{Bucket: aws.String("invalid")}}}}},
				withBody(invalidXML))
			return err
		}})
}

// The 400 codes that reject each invalid body, from the Amazon S3 API
// Reference, "List of error codes"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList):
// MalformedPolicy "Policy has invalid resource" / "Policies must be valid
// JSON" (PutBucketPolicy); MalformedXML "The XML that you provided was not
// well formed or did not validate against our published schema" and
// MalformedACLError, its ACL form (PutBucketAcl); IllegalVersioningConfigurationException
// "The versioning configuration specified in the request is invalid";
// InvalidArgument for a configuration that parses but is not valid
// (lifecycle, replication). versitygw answers PutBucketVersioning with 400
// InvalidRequest once it has authorised the request (its posix back end
// has no versioning; TestProbeInvalidBodyOrder pins the 403 before it).
var (
	codesPutBucketPolicy      = []string{"MalformedPolicy"}
	codesPutBucketAcl         = []string{"MalformedACLError", "MalformedXML"}
	codesPutBucketVersioning  = []string{"MalformedXML", "IllegalVersioningConfigurationException", "InvalidRequest"}
	codesPutBucketLifecycle   = []string{"MalformedXML", "InvalidArgument"}
	codesPutBucketReplication = []string{"MalformedXML", "InvalidArgument"}
)

// The invalid bodies of the bucket-level write probes. Neither parses, so
// no store can apply them, whatever the key may do.
const (
	invalidXML  = "<putonly-selftest this is not XML"
	invalidJSON = "{putonly-selftest: this is not a policy"
)

// withBody replaces the serialised request body with body, before the SDK
// computes the body's checksum and signs it, so the request is well-formed
// HTTP with a body S3 must reject.
func withBody(body string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Serialize.Insert(middleware.SerializeMiddlewareFunc("PutonlySelftestInvalidBody",
				func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						r, err := req.SetStream(strings.NewReader(body))
						if err != nil {
							return middleware.SerializeOutput{}, middleware.Metadata{}, err
						}
						r.ContentLength = int64(len(body))
						in.Request = r
					}
					return next.HandleSerialize(ctx, in)
				}), "OperationSerializer", middleware.After)
		})
	}
}

// do runs one probe and appends its result.
func (p *prober) do(ctx context.Context, pr probe) {
	res := ProbeResult{Probe: pr.name, Operation: pr.op, Expected: pr.expect, Note: pr.note, Fix: pr.fix}
	res.Actions = s3Actions(pr.op, pr.class)
	res.Class = pr.class
	if res.Class == "" {
		res.Class = classOf(res.Actions)
	}
	var oc outcome
	switch {
	case pr.needsCanary && p.canary == "":
		oc = outcome{got: "not run: no canary", verdict: ProbeUnknown}
	case ctx.Err() != nil:
		oc = outcome{got: "not run: " + context.Cause(ctx).Error(), verdict: ProbeUnknown}
	case p.unreachable != "":
		oc = outcome{got: "not run: no answer to an earlier probe", verdict: ProbeUnknown}
	case p.cause != nil:
		oc = outcome{got: "not run: " + causeName(p.cause), verdict: ProbeUnknown}
	default:
		err := s3err.Classify(pr.call(ctx), s3err.Where{Bucket: p.o.Bucket})
		if s3err.Setup(err) {
			p.cause = err
			p.report.Cause = err
			p.report.CauseText = oneLine(err)
			oc = outcome{got: causeName(err), verdict: ProbeUnknown}
			break
		}
		oc = classify(err, pr.bodyCodes)
		if oc.got == gotNoAnswer {
			p.unreachable = oc.detail
		}
	}
	res.Got, res.Verdict = oc.got, oc.verdict
	if oc.detail != "" {
		res.Note = strings.TrimSpace(res.Note + " (" + oc.detail + ")")
	}
	res.Severity = severity(pr, res)
	if res.Severity == SeverityViolation && res.Fix == "" {
		res.Fix = fmt.Sprintf(fixDeny, strings.Join(res.Actions, ", "))
	}
	if res.Severity == SeverityOK || res.Severity == SeverityInfo {
		res.Fix = ""
	}
	if pr.onAllowed == SeverityInfo {
		res.Note = oracleNote(res.Verdict, res.Got)
	}
	p.report.Results = append(p.report.Results, res)
}

func severity(pr probe, r ProbeResult) string {
	switch {
	case r.Verdict == ProbeUnknown:
		if pr.onAllowed == SeverityInfo {
			return SeverityInfo
		}
		return SeverityUnknown
	case r.Verdict == pr.expect:
		if pr.onRefused == SeverityInfo {
			return SeverityInfo
		}
		return SeverityOK
	case r.Verdict == ProbeAllowed && pr.onAllowed != "":
		return pr.onAllowed
	case r.Verdict == ProbeRefused && pr.onRefused != "":
		return pr.onRefused
	case r.Verdict == ProbeAllowed && r.Class == ClassList:
		return SeverityWarning
	case r.Verdict == ProbeAllowed && r.Class == ClassOther:
		return SeverityWarning
	}
	// A refused write, or an allowed read, destroy or escalate.
	return SeverityViolation
}

func oracleNote(verdict, got string) string {
	switch {
	case strings.HasPrefix(got, "404"):
		return "a missing key answers 404: the key can tell which objects exist (on AWS, s3:GetObject with s3:ListBucket; some stores answer 404 to any key that may read)"
	case verdict == ProbeRefused:
		return "a missing key answers 403 like an existing one: reads cannot tell which objects exist (a write with If-None-Match can, by design: 412 means the name is taken; backup names carry a random part)"
	case verdict == ProbeAllowed:
		return "the key read a key that was never written: S3 answered with data"
	}
	return "could not tell whether the key can learn which objects exist"
}

// s3Actions are the s3: actions the catalogue says authorise op; with a
// class, only those of that class (CopyObject needs s3:PutObject on the
// target and s3:GetObject on the source: the copy probe is about the
// latter). Where some are needed only under a condition and others always,
// the conditional ones are left out: the copy probe sends TaggingDirective
// REPLACE, so CopyObject's s3:GetObjectTagging does not apply.
func s3Actions(op string, class Class) []string {
	var when map[string]string
	if i, ok := catOperationIndex()[strings.ToLower(op)]; ok {
		when = catOperations[i].When
	}
	var always, conditional []string
	for _, name := range OperationActions(op) {
		if !strings.HasPrefix(name, "s3:") {
			continue
		}
		if a, ok := LookupAction(name); class != "" && (!ok || a.Class != class) {
			continue
		}
		if when[name] != "" {
			conditional = append(conditional, name)
		} else {
			always = append(always, name)
		}
	}
	out := always
	if len(out) == 0 {
		out = conditional
	}
	slices.Sort(out)
	return out
}

// classOf is the most serious class among actions: what an allowed
// outcome means.
func classOf(actions []string) Class {
	rank := map[Class]int{ClassNeeded: 0, ClassOther: 1, ClassList: 2, ClassRead: 3, ClassDestroy: 4, ClassEscalate: 5}
	best := ClassNeeded
	for _, name := range actions {
		if a, ok := LookupAction(name); ok && rank[a.Class] > rank[best] {
			best = a.Class
		}
	}
	return best
}

// classify maps S3's answer to a verdict. invalidBody says the request
// carried a body S3 must reject, so a 400 proves the key passed
// authorisation: AWS authorises a request before it parses the body (the
// 403 comes before any validation of the body), and versitygw does the same
// in each controller (verifyAccess, then xml.Unmarshal or
// ValidatePolicyDocument; s3api/controllers/bucket-put.go).
func classify(err error, bodyCodes []string) outcome {
	if err == nil {
		return outcome{got: "200", verdict: ProbeAllowed}
	}
	var ns errNotStarted
	if errors.As(err, &ns) {
		// A refused preparation: this probe could not tell, but the store
		// answered, so the probes after it still run.
		return outcome{got: "not run: " + oneLine(err), verdict: ProbeUnknown}
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.HTTPStatusCode() == 0 {
		return outcome{got: gotNoAnswer, verdict: ProbeUnknown, detail: oneLine(err)}
	}
	status := re.HTTPStatusCode()
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	got := strings.TrimSpace(fmt.Sprintf("%d %s", status, code))
	switch {
	case status == http.StatusForbidden:
		return outcome{got: got, verdict: ProbeRefused}
	case status == http.StatusPreconditionFailed:
		// If-None-Match: * on an existing key.
		return outcome{got: got, verdict: ProbeRefused}
	case status == http.StatusNotImplemented || status == http.StatusMethodNotAllowed:
		// The store lacks the call: nobody can make it.
		return outcome{got: got + " (the store lacks this call)", verdict: ProbeRefused}
	case code == "AccessControlListNotSupported":
		// Object ownership "bucket owner enforced": ACLs are off for
		// everyone, so no ACL can be written or used.
		return outcome{got: got + " (ACLs are disabled on the bucket)", verdict: ProbeRefused}
	case status == http.StatusBadRequest && slices.Contains(bodyCodes, code):
		return outcome{got: got + " (authorised, body rejected)", verdict: ProbeAllowed}
	case status == http.StatusNotFound && code != "NoSuchBucket":
		// NoSuchKey, NoSuchBucketPolicy, NoSuchUpload...: S3 looked,
		// which it does only for a request it authorised.
		return outcome{got: got, verdict: ProbeAllowed}
	}
	return outcome{got: got, verdict: ProbeUnknown, detail: oneLine(err)}
}

// gotNoAnswer: the request got no HTTP answer that s3err could name.
const gotNoAnswer = "no answer"

// causeName is the cause of a set-up error, for the GOT column.
func causeName(err error) string {
	if e, ok := s3err.As(err); ok {
		return e.Cause.Error()
	}
	return gotNoAnswer
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
