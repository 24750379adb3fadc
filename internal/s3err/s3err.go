// Package s3err is the one classifier of S3 and network errors: it tells
// the causes a user can act on (the endpoint does not resolve, refuses
// the connection or speaks the other protocol; no or wrong credentials;
// the wrong region; a bucket that does not exist or cannot exist; access
// denied) from the store's other answers, and gives each a one-line fix.
//
// Each cause is a sentinel ([ErrRefused], [ErrNoSuchBucket], ...) that
// [errors.Is] finds in the *[Error] that [Classify] returns; the original
// SDK error stays in the chain for [errors.As]. The backup pipeline, the
// self-test, restore and the commands all classify through here, so a
// cause is named the same way wherever it shows.
package s3err

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Cause is one reason a request failed, with what to do about it. The
// causes are the package's sentinels; compare them with [errors.Is].
type Cause struct {
	name   string
	parent *Cause
	// setup: the request never got to a decision about the key's rights
	// (network, credentials, region, bucket), so it proves nothing about
	// what the key may do.
	setup bool
}

func (c *Cause) Error() string { return c.name }

// ErrUnreachable is the parent of every cause that kept the request from
// reaching an S3 server that understood it: errors.Is(err, ErrUnreachable)
// holds for ErrDNS, ErrRefused, ErrConnectTimeout, ErrTLSMismatch and
// ErrTLSCertificate too.
var ErrUnreachable = &Cause{name: "the S3 endpoint is unreachable", setup: true}

// The causes. Each *Error carries one, and its own fix.
var (
	ErrDNS            = &Cause{name: "the endpoint's host name does not resolve", parent: ErrUnreachable, setup: true}
	ErrRefused        = &Cause{name: "connection refused", parent: ErrUnreachable, setup: true}
	ErrConnectTimeout = &Cause{name: "no connection within the connect timeout", parent: ErrUnreachable, setup: true}
	ErrTLSMismatch    = &Cause{name: "TLS mismatch", parent: ErrUnreachable, setup: true}
	ErrTLSCertificate = &Cause{name: "the endpoint's TLS certificate is not trusted", parent: ErrUnreachable, setup: true}

	ErrNoCredentials      = &Cause{name: "no AWS credentials found", setup: true}
	ErrInvalidCredentials = &Cause{name: "the store does not accept these credentials", setup: true}
	ErrWrongRegion        = &Cause{name: "wrong region", setup: true}
	ErrClockSkew          = &Cause{name: "this host's clock is off", setup: true}
	ErrNoSuchBucket       = &Cause{name: "no such bucket", setup: true}
	ErrInvalidBucketName  = &Cause{name: "invalid bucket name", setup: true}

	// ErrAccessDenied is S3's 403 AccessDenied: the store knows the key
	// and refuses it this request. Unlike the causes above it is about
	// the key's rights, so the self-test reads it as a refusal.
	ErrAccessDenied = &Cause{name: "access denied"}
)

// Where is what the caller knows about the request, for the fix: the
// endpoint as configured ("" for AWS), the bucket, region and profile.
type Where struct {
	Endpoint, Bucket, Region, Profile string
}

// Error is a classified failure: its cause, the one-line fix, what the
// store or the network said, and the original error.
type Error struct {
	Cause  *Cause
	Op     string // the S3 operation, when known ("PutObject")
	Detail string // what the store or the network said, one line
	Fix    string // one line: what to change
	Err    error  // the error as the SDK returned it
}

// Error is the cause and the detail, then the fix as a hint on its own
// line, the way the commands print hints.
func (e *Error) Error() string {
	s := e.Cause.name
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Fix != "" {
		s += "\n\thint: " + e.Fix
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the cause and its parent (ErrRefused is also ErrUnreachable).
func (e *Error) Is(target error) bool {
	for c := e.Cause; c != nil; c = c.parent {
		if target == error(c) {
			return true
		}
	}
	return false
}

// As returns the classified error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Setup reports whether err is a classified cause that kept the request
// from a decision about the key's rights: network, TLS, credentials,
// region, clock or bucket. Such an error proves nothing about what a key
// may do, and no switch that lets a key with too many rights through is
// any help with it.
func Setup(err error) bool {
	e, ok := As(err)
	return ok && e.Cause.setup
}

// Fix is the one-line fix of the classified error in err's chain, or "".
func Fix(err error) string {
	if e, ok := As(err); ok {
		return e.Fix
	}
	return ""
}

// Codes the store answers with, by cause. Sources: Amazon S3 API
// Reference, "Error responses", list of error codes
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
var (
	invalidCredentialCodes = map[string]bool{
		"InvalidAccessKeyId":    true, // 403: "The AWS access key ID that you provided does not exist in our records."
		"SignatureDoesNotMatch": true, // 403: "The request signature that the server calculated does not match the signature that you provided."
		"InvalidToken":          true, // 400: "The provided token is malformed or otherwise invalid."
		"ExpiredToken":          true, // 400: "The provided token has expired."
		"TokenRefreshRequired":  true, // 400: "The provided token must be refreshed."
		"InvalidSecurity":       true, // 403: "The provided security credentials are not valid."
	}
	wrongRegionCodes = map[string]bool{
		"AuthorizationHeaderMalformed":       true, // 400: the region in the signature is not the bucket's ("the region 'x' is wrong; expecting 'y'")
		"PermanentRedirect":                  true, // 301: "The bucket that you are attempting to access must be addressed using the specified endpoint."
		"IllegalLocationConstraintException": true, // 400: the request's region is not the bucket's
		"AuthorizationQueryParametersError":  true, // 400: the region in a presigned query is not the bucket's
	}
)

// Classify returns err as an *Error when it is one of the causes, with a
// fix for w, and err unchanged otherwise (nil stays nil). An err already
// classified is returned as is.
func Classify(err error, w Where) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	if e := classify(err, w); e != nil {
		return e
	}
	return err
}

func classify(err error, w Where) *Error {
	op := ""
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		op = oe.OperationName
	}
	mk := func(c *Cause, detail, fix string) *Error {
		return &Error{Cause: c, Op: op, Detail: detail, Fix: fix, Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A deadline or a shutdown of the caller's: not the store's doing.
		// (A dial timeout is a net.Error with Timeout(), below.)
		if !isDialTimeout(err) {
			return nil
		}
	}
	if e := classifyCredentials(err, w, mk); e != nil {
		return e
	}
	// An answer from the store: its status and code.
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.HTTPStatusCode() != 0 {
		return classifyAnswer(err, re.HTTPStatusCode(), w, mk)
	}
	return classifyNetwork(err, w, mk)
}

func classifyAnswer(err error, status int, w Where, mk func(*Cause, string, string) *Error) *Error {
	code, msg := "", ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	detail := strings.TrimSpace(fmt.Sprintf("%d %s", status, code))
	if msg != "" {
		detail += " (" + oneLine(msg) + ")"
	}
	bucket := w.Bucket
	if bucket == "" {
		bucket = "the bucket"
	}
	switch {
	case invalidCredentialCodes[code]:
		return mk(ErrInvalidCredentials, detail, "check the access key id and secret of "+credentialSource(w)+" (a typo, a rotated or deleted key, an expired session), or that the endpoint is the store that issued them")
	case wrongRegionCodes[code], status == http.StatusMovedPermanently:
		return mk(ErrWrongRegion, detail, fmt.Sprintf("set the bucket's region (--region or AWS_REGION; the store's message names the one it expects)%s", regionNow(w)))
	case code == "RequestTimeTooSkewed":
		return mk(ErrClockSkew, detail, "S3 refuses signatures more than 15 minutes off: synchronise this host's clock (timedatectl set-ntp true, chrony)")
	case code == "NoSuchBucket":
		return mk(ErrNoSuchBucket, detail, fmt.Sprintf("create %s (putonly-policy generate writes the set-up) or fix the name in --bucket / bucket:%s", bucket, endpointNow(w)))
	case code == "InvalidBucketName":
		return mk(ErrInvalidBucketName, detail, "S3 bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit: fix --bucket / bucket:")
	case code == "AccessDenied", code == "AllAccessDisabled":
		return mk(ErrAccessDenied, detail, "the key may not make this request: check the policy the admin applied (putonly-policy verify) and that bucket and prefix are those it grants")
	case w.Endpoint != "" && strings.HasPrefix(strings.ToLower(w.Endpoint), "http://") && status == http.StatusBadRequest && code == "" && looksLikePlainHTTPToTLS(msg):
		return mk(ErrTLSMismatch, detail+": the endpoint speaks HTTPS", "use https:// in --endpoint / endpoint:")
	}
	return nil
}

func classifyNetwork(err error, w Where, mk func(*Cause, string, string) *Error) *Error {
	host := hostOf(err, w)
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		if dns.IsTimeout || dns.IsTemporary {
			return mk(ErrDNS, fmt.Sprintf("looking up %s: %s", dns.Name, dns.Err), "the DNS server did not answer: check /etc/resolv.conf and this host's network")
		}
		return mk(ErrDNS, fmt.Sprintf("no such host %s", dns.Name), "check the host name in --endpoint / endpoint: (and AWS_ENDPOINT_URL_S3); for AWS, leave the endpoint unset and set the region")
	case errors.Is(err, syscall.ECONNREFUSED):
		return mk(ErrRefused, fmt.Sprintf("nothing listens on %s", host), "check the endpoint's host and port (--endpoint / endpoint:, AWS_ENDPOINT_URL_S3) and that the S3 server is running")
	case isDialTimeout(err):
		return mk(ErrConnectTimeout, fmt.Sprintf("%s did not accept a connection", host), "check the endpoint's address and any firewall between this host and it; raise --connect-timeout only for a slow link")
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return mk(ErrUnreachable, fmt.Sprintf("no route to %s", host), "check this host's network and routes to the endpoint")
	case errors.Is(err, http.ErrSchemeMismatch):
		return mk(ErrTLSMismatch, fmt.Sprintf("https:// spoken to %s, which answers plain HTTP", host), "use http:// in --endpoint / endpoint: (or turn TLS on at the server)")
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return mk(ErrTLSMismatch, fmt.Sprintf("https:// spoken to %s, which does not answer TLS", host), "use http:// in --endpoint / endpoint: if the server speaks plain HTTP, or check the port")
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua), errors.As(err, &cv) && errors.As(cv.Err, &ua):
		return mk(ErrTLSCertificate, fmt.Sprintf("%s: certificate signed by an unknown authority", host), "point AWS_CA_BUNDLE at the PEM of the CA that signed the server's certificate")
	case errors.As(err, &he):
		return mk(ErrTLSCertificate, fmt.Sprintf("%s: %v", host, he), "use the host name the certificate names in --endpoint / endpoint:")
	case errors.As(err, &ci):
		return mk(ErrTLSCertificate, fmt.Sprintf("%s: %v", host, ci), "renew the server's certificate or check this host's clock")
	}
	if isHTTPToTLS(err, w) {
		return mk(ErrTLSMismatch, fmt.Sprintf("http:// spoken to %s, which closed the connection: it speaks HTTPS", host), "use https:// in --endpoint / endpoint:")
	}
	return nil
}

// credentialSource names where the credentials came from, for the fix.
func credentialSource(w Where) string {
	if w.Profile != "" {
		return fmt.Sprintf("profile %q", w.Profile)
	}
	return "the credentials in use (AWS_ACCESS_KEY_ID, AWS_PROFILE or the shared credentials file)"
}

func regionNow(w Where) string {
	if w.Region != "" {
		return fmt.Sprintf("; now %s", w.Region)
	}
	return "; now the AWS config's, or us-east-1"
}

func endpointNow(w Where) string {
	if w.Endpoint != "" {
		return " (on " + w.Endpoint + ")"
	}
	return ""
}

// hostOf is the host:port the request went to.
func hostOf(err error, w Where) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil {
		return oe.Addr.String()
	}
	if w.Endpoint != "" {
		return w.Endpoint
	}
	return "the endpoint"
}

// isDialTimeout: the TCP connect or the TLS handshake took longer than the
// connect timeout.
func isDialTimeout(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" && oe.Timeout() {
		return true
	}
	// net/http's TLS handshake timeout has no exported type.
	return strings.Contains(err.Error(), "TLS handshake timeout")
}

// isHTTPToTLS: a plain-HTTP request that a TLS server cut off without an
// answer (versitygw resets; nginx and Go's net/http answer 400 with a
// message instead, see looksLikePlainHTTPToTLS). A reset alone could be
// the network: it counts only when the endpoint, asked in TLS, answers.
func isHTTPToTLS(err error, w Where) bool {
	if !strings.HasPrefix(strings.ToLower(w.Endpoint), "http://") {
		return false
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "EOF") {
		return false
	}
	u, perr := url.Parse(w.Endpoint)
	if perr != nil || u.Host == "" {
		return false
	}
	return SpeaksTLS(context.Background(), u.Host, time.Second)
}

func looksLikePlainHTTPToTLS(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "http request to an https server") || strings.Contains(m, "plain http request was sent to https port")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
