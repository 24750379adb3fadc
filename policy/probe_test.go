package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3err"
	"github.com/putonly/putonly/internal/s3local"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/policy"
)

// probeUser is a key of the matrix: the write-only rights plus extra.
type probeUser struct {
	name  string
	extra []map[string]any // statements granted on top of the write-only ones
	// violations must each be reported; warnings likewise (and no others
	// for a user without extra rights).
	violations []string
	warnings   []string
	exit       int // without --strict
	strictExit int
}

func objects(bucket, prefix string) []string {
	return []string{"arn:aws:s3:::" + bucket + "/" + prefix + "*"}
}

// probeMatrix is the over-privileged users of the issue, and the good one.
// versitygw evaluates neither s3:if-none-match nor SSE conditions, so every
// user, the good one included, can overwrite without If-None-Match and put
// without SSE: those two warnings show for all.
func probeMatrix(bucket, prefix string) []probeUser {
	both := []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"}
	storeWarnings := []string{"overwrite the canary without If-None-Match", "PutObject without SSE"}
	return []probeUser{
		{name: "good", warnings: storeWarnings, exit: 0, strictExit: 1},
		{name: "getobject",
			extra:      []map[string]any{{"Action": []string{"s3:GetObject"}, "Resource": objects(bucket, prefix)}},
			violations: []string{"GetObject canary", "GetObject canary, range bytes=0-0", "HeadObject canary", "CopyObject from the canary", "UploadPartCopy from the canary"},
			warnings:   storeWarnings, exit: 1, strictExit: 1},
		{name: "getstar",
			extra:      []map[string]any{{"Action": []string{"s3:Get*"}, "Resource": both}},
			violations: []string{"GetObject canary", "HeadObject canary", "GetObjectAttributes canary", "GetObjectTagging canary", "GetBucketPolicy", "GetBucketAcl"},
			warnings:   storeWarnings, exit: 1, strictExit: 1},
		{name: "star",
			extra: []map[string]any{{"Action": []string{"s3:*"}, "Resource": both}},
			violations: []string{"GetObject canary", "DeleteObject of a key never written", "DeleteObjects of a key never written",
				"PutObjectTagging canary", "PutBucketPolicy (invalid body)", "PutBucketVersioning (invalid body)"},
			warnings: append([]string{"ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"}, storeWarnings...), exit: 1, strictExit: 1},
		{name: "delete",
			extra:      []map[string]any{{"Action": []string{"s3:DeleteObject"}, "Resource": objects(bucket, prefix)}},
			violations: []string{"DeleteObject of a key never written", "DeleteObjects of a key never written"},
			warnings:   storeWarnings, exit: 1, strictExit: 1},
		{name: "list",
			extra:    []map[string]any{{"Action": []string{"s3:ListBucket"}, "Resource": []string{"arn:aws:s3:::" + bucket}}},
			warnings: append([]string{"ListObjectsV2"}, storeWarnings...), exit: 0, strictExit: 1},
	}
}

// matrixServer starts a server with one key per user of the matrix and a
// bucket policy granting each the write-only rights and its extras.
func matrixServer(t *testing.T, prefix string) (*s3local.Server, map[string]s3local.Key, []probeUser) {
	t.Helper()
	s := s3test.Start(t, s3local.Options{Prefix: prefix})
	users := probeMatrix(s.Bucket, prefix)
	keys := map[string]s3local.Key{}
	var ids []string
	var stmts []map[string]any
	for _, u := range users {
		k := s3local.Key{ID: "probe" + u.name, Secret: "secret-" + u.name + "-0123456789"}
		if u.name == "good" {
			k = s.Backup
		} else if err := s.CreateUser(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		keys[u.name] = k
		ids = append(ids, k.ID)
		for _, st := range u.extra {
			st = map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": []string{k.ID}}, "Action": st["Action"], "Resource": st["Resource"]}
			stmts = append(stmts, st)
		}
	}
	var base map[string]any
	if err := json.Unmarshal([]byte(s3local.WriteOnlyPolicy(s.Bucket, prefix, "x")), &base); err != nil {
		t.Fatal(err)
	}
	all := base["Statement"].([]any)
	for _, st := range all {
		st.(map[string]any)["Principal"] = map[string]any{"AWS": ids}
	}
	for _, st := range stmts {
		all = append(all, st)
	}
	base["Statement"] = all
	doc, _ := json.Marshal(base)
	if err := s.PutBucketPolicy(context.Background(), string(doc)); err != nil {
		t.Fatal(err)
	}
	return s, keys, users
}

func names(rs []policy.ProbeResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Probe)
	}
	return out
}

func TestProbeMatrix(t *testing.T) {
	const prefix = "db1/"
	s, keys, users := matrixServer(t, prefix)
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			rep, err := policy.Probe(context.Background(), s.Client(keys[u.name]), policy.ProbeOptions{Bucket: s.Bucket, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", text.String())
			if un := rep.Unknown(); len(un) > 0 {
				t.Errorf("could not tell: %v", names(un))
			}
			got := names(rep.Violations())
			for _, want := range u.violations {
				if !slices.Contains(got, want) {
					t.Errorf("violation %q not reported; violations: %v", want, got)
				}
			}
			if len(u.violations) == 0 && len(got) > 0 {
				t.Errorf("violations %v for a write-only key", got)
			}
			for _, v := range rep.Violations() {
				if v.Expected == policy.ProbeAllowed {
					t.Errorf("write refused: %s (%s)", v.Probe, v.Got)
				}
				if !strings.Contains(text.String(), "FAIL "+v.Probe) || v.Fix == "" {
					t.Errorf("violation %s: not named with a fix in the text", v.Probe)
				}
			}
			gotW := names(rep.Warnings())
			for _, want := range u.warnings {
				if !slices.Contains(gotW, want) {
					t.Errorf("warning %q not reported; warnings: %v", want, gotW)
				}
			}
			if len(u.extra) == 0 && len(gotW) != len(u.warnings) {
				t.Errorf("warnings %v, want %v", gotW, u.warnings)
			}
			if e := rep.Exit(false); e != u.exit {
				t.Errorf("Exit(false) = %d, want %d", e, u.exit)
			}
			if e := rep.Exit(true); e != u.strictExit {
				t.Errorf("Exit(true) = %d, want %d", e, u.strictExit)
			}
		})
	}

	// Nothing but the canaries was written: every key the probes left is
	// under the self-test prefix.
	for _, k := range s3test.Keys(t, s) {
		if !strings.HasPrefix(k, prefix+policy.SelftestPrefix) {
			t.Errorf("probe left %s outside %s%s", k, prefix, policy.SelftestPrefix)
		}
	}
	if p := s3test.PendingUploads(t, s); len(p) > 0 {
		t.Errorf("probes left multipart uploads: %v", p)
	}
}

// The bucket-level write probes rely on the store checking the right before
// the body: 403 for a key without it, 400 for one with it. This pins that
// order on the local server, with a key that has no right at all and with
// the admin, and checks the bucket policy did not change.
func TestProbeInvalidBodyOrder(t *testing.T) {
	s := s3test.Start(t, s3local.Options{Prefix: "db1/"})
	nobody := s3local.Key{ID: "nobody", Secret: "nobody-secret-0123456789"}
	if err := s.CreateUser(context.Background(), nobody); err != nil {
		t.Fatal(err)
	}
	before, err := s.Client(s.Admin).GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	probes := []string{"PutBucketPolicy (invalid body)", "PutBucketVersioning (invalid body)", "PutBucketAcl (invalid body)"}
	results := map[string]map[string]string{}
	for who, k := range map[string]s3local.Key{"nobody": nobody, "admin": s.Admin} {
		rep, err := policy.Probe(context.Background(), s.Client(k), policy.ProbeOptions{Bucket: s.Bucket, Prefix: "db1/"})
		if err != nil {
			t.Fatal(err)
		}
		results[who] = map[string]string{}
		for _, r := range rep.Results {
			results[who][r.Probe] = r.Got
		}
	}
	for _, p := range probes {
		if got := results["nobody"][p]; !strings.HasPrefix(got, "403") {
			t.Errorf("%s without the right: %s, want 403", p, got)
		}
	}
	// versitygw: 400 MalformedPolicy and InvalidRequest once authorised;
	// PutBucketAcl answers 400 AccessControlListNotSupported (ACLs are off
	// in versitygw's default set-up), which the probe counts as refused.
	for _, p := range probes {
		if got := results["admin"][p]; !strings.HasPrefix(got, "400") {
			t.Errorf("%s with the right: %s, want 400", p, got)
		}
	}
	// Lifecycle and replication: versitygw lacks both calls (501 for
	// everyone), so they count as refused on this store.
	for _, p := range []string{"PutBucketLifecycleConfiguration (invalid body)", "PutBucketReplication (invalid body)"} {
		for who := range results {
			if got := results[who][p]; !strings.HasPrefix(got, "501") {
				t.Errorf("%s as %s: %s, want versitygw's 501", p, who, got)
			}
		}
	}
	after, err := s.Client(s.Admin).GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(before.Policy) != aws.ToString(after.Policy) {
		t.Errorf("the bucket policy changed:\n%s\n->\n%s", aws.ToString(before.Policy), aws.ToString(after.Policy))
	}
	v, err := s.Client(s.Admin).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "" {
		t.Errorf("versioning changed to %q", v.Status)
	}
}

func fakeClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Timeout: 5 * time.Second},
	})
}

// A store that cannot be reached: no probe can tell, and the report names
// the cause (connection refused) instead of a verdict on the key: exit 1.
func TestProbeNoAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rep, err := policy.Probe(context.Background(), fakeClient("http://"+addr), policy.ProbeOptions{Bucket: "b", Prefix: "p/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Verdict != policy.ProbeUnknown {
			t.Errorf("%s: %s (%s), want could-not-tell", r.Probe, r.Verdict, r.Got)
		}
	}
	if e := rep.Exit(false); e != 1 {
		t.Errorf("Exit = %d, want 1", e)
	}
	if !errors.Is(rep.Cause, s3err.ErrRefused) || rep.Verdict() != policy.VerdictError {
		t.Errorf("cause %v, verdict %s: want connection refused, error", rep.Cause, rep.Verdict())
	}
	var b strings.Builder
	rep.WriteText(&b)
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.Contains(first, "connection refused") {
		t.Errorf("the report does not start with the cause:\n%s", b.String())
	}
	// No per-probe fix: "grant s3:PutObject ... to the backup key" blamed
	// the key for a store that is not there.
	if strings.Contains(b.String(), "fix:") || strings.Contains(b.String(), "????") {
		t.Errorf("the report gives the probes' fixes for the cause's fault:\n%s", b.String())
	}
}

// A 400 proves the key was authorised only with the code that rejects the
// probe's body: an invalid bucket name or a wrong region (400 too) is the
// cause, not an "authorised" escalation (fake store: one answer to all).
func TestProbeBadRequestIsNotAuthorised(t *testing.T) {
	for code, want := range map[string]error{"InvalidBucketName": s3err.ErrInvalidBucketName, "AuthorizationHeaderMalformed": s3err.ErrWrongRegion} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(400)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>fake</Message></Error>`))
		}))
		rep, err := policy.Probe(context.Background(), fakeClient(srv.URL), policy.ProbeOptions{Bucket: "b", Prefix: "p/"})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(rep.Cause, want) || rep.Exit(false) != 1 {
			t.Errorf("%s: cause %v, exit %d", code, rep.Cause, rep.Exit(false))
		}
		for _, r := range rep.Results {
			if r.Verdict == policy.ProbeAllowed {
				t.Errorf("%s: %s counted as allowed (%s)", code, r.Probe, r.Got)
			}
		}
		if lines, _ := rep.Rights(); len(lines) > 0 {
			t.Errorf("%s: the key is blamed: %v", code, lines)
		}
	}
}

// How each answer of a store is read, with a fake store answering one
// status to everything: the fault injection a real server cannot do.
func TestProbeStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status    int
		code      string
		probe     string
		verdict   string
		exit      int
		canaryGot string
	}{
		// Everything refused: the canary too, so the key cannot back up
		// (exit 1) and the canary-based probes could not tell.
		{403, "AccessDenied", "ListObjectsV2", policy.ProbeRefused, 1, "403 AccessDenied"},
		// A store that lacks the calls: refused.
		{501, "NotImplemented", "GetBucketAcl", policy.ProbeRefused, 1, "501 NotImplemented (the store lacks this call)"},
		// 400 is "authorised" only for the invalid-body probes.
		{400, "MalformedXML", "PutBucketVersioning (invalid body)", policy.ProbeAllowed, 1, "400 MalformedXML"},
		{400, "MalformedXML", "GetBucketAcl", policy.ProbeUnknown, 1, "400 MalformedXML"},
		// A 5xx (after the SDK's retries) proves nothing.
		{500, "InternalError", "GetBucketPolicy", policy.ProbeUnknown, 2, "500 InternalError"},
	} {
		t.Run(tc.code+"/"+tc.probe, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tc.status)
				w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + tc.code + `</Code><Message>fake</Message></Error>`))
			}))
			defer srv.Close()
			rep, err := policy.Probe(context.Background(), fakeClient(srv.URL), policy.ProbeOptions{Bucket: "b", Prefix: "p/"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Results {
				if r.Probe == tc.probe && r.Verdict != tc.verdict {
					t.Errorf("%s: %s (%s), want %s", r.Probe, r.Verdict, r.Got, tc.verdict)
				}
				if r.Operation == "PutObject" && strings.HasPrefix(r.Probe, "PutObject canary") && r.Got != tc.canaryGot {
					t.Errorf("canary: got %q, want %q", r.Got, tc.canaryGot)
				}
			}
			if e := rep.Exit(false); e != tc.exit {
				t.Errorf("Exit = %d, want %d", e, tc.exit)
			}
		})
	}
}

func TestProbeActionsFromCatalogue(t *testing.T) {
	rep, err := policy.Probe(context.Background(), fakeClient("http://127.0.0.1:1"), policy.ProbeOptions{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if len(r.Actions) == 0 {
			t.Errorf("%s: the catalogue names no action for %s", r.Probe, r.Operation)
		}
		for _, a := range r.Actions {
			if _, ok := policy.LookupAction(a); !ok {
				t.Errorf("%s: %s is not in the catalogue", r.Probe, a)
			}
		}
	}
	if !strings.HasPrefix(rep.Canary, policy.SelftestPrefix) {
		t.Errorf("canary prefix %q", rep.Canary)
	}
}
