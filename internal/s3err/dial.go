package s3err

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultConnectTimeout bounds the TCP connect and the TLS handshake of one
// connection. It is short on purpose: an endpoint that accepts no
// connection within seconds is down or wrong, and the transfer's retries
// are for a store that was reachable.
const DefaultConnectTimeout = 5 * time.Second

// Preflight connects to the endpoint (and does the TLS handshake for
// https) once, within timeout, and classifies a failure: a job learns in
// seconds that its endpoint is wrong or down, before it starts its dump.
// It sends no S3 request (the write path never reads), and a TLS
// certificate problem is left to the first request, which checks it with
// the SDK's own trust settings (AWS_CA_BUNDLE). An empty endpoint is AWS's
// regional one.
func Preflight(ctx context.Context, w Where, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	endpoint := w.Endpoint
	if endpoint == "" {
		region := w.Region
		if region == "" {
			region = "us-east-1"
		}
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("endpoint %q: not a URL (want http(s)://host[:port])", endpoint)
	}
	host := u.Host
	if u.Port() == "" {
		if strings.EqualFold(u.Scheme, "http") {
			host = net.JoinHostPort(u.Hostname(), "80")
		} else {
			host = net.JoinHostPort(u.Hostname(), "443")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
		}
		return classifyPreflight(err, w, u.Scheme+"://"+host)
	}
	defer conn.Close()
	if !strings.EqualFold(u.Scheme, "https") {
		// A TLS server on an http:// URL resets a plain request; the SDK
		// would retry that as a cut connection. A handshake that
		// completes names it now (a plain-HTTP server answers the
		// ClientHello with an error or closes, at once).
		if SpeaksTLS(ctx, host, min(timeout, time.Second)) {
			return &Error{Cause: ErrTLSMismatch, Detail: fmt.Sprintf("http:// spoken to %s, which speaks HTTPS", host), Fix: "use https:// in --endpoint / endpoint:"}
		}
		return nil
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	// Only the protocol is in question here: the certificate is checked by
	// the first request, with the SDK's trust settings.
	tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true}) //nolint:gosec // protocol check only, no data sent
	if err := tc.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			if string(rh.RecordHeader[:]) == "HTTP/" {
				return &Error{Cause: ErrTLSMismatch, Detail: fmt.Sprintf("https:// spoken to %s, which answers plain HTTP", host), Fix: "use http:// in --endpoint / endpoint: (or turn TLS on at the server)", Err: err}
			}
			return &Error{Cause: ErrTLSMismatch, Detail: fmt.Sprintf("https:// spoken to %s, which does not answer TLS", host), Fix: "use http:// in --endpoint / endpoint: if the server speaks plain HTTP, or check the port", Err: err}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &Error{Cause: ErrConnectTimeout, Detail: fmt.Sprintf("%s accepted the connection but did not complete a TLS handshake", host), Fix: "check that the port is the store's https port; a plain-HTTP server waits for a request and never answers a handshake: use http://", Err: err}
		}
		if errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF") {
			return &Error{Cause: ErrTLSMismatch, Detail: fmt.Sprintf("%s closed the connection during the TLS handshake", host), Fix: "use http:// in --endpoint / endpoint: if the server speaks plain HTTP, or check the port", Err: err}
		}
		return classifyPreflight(err, w, "https://"+host)
	}
	return nil
}

func classifyPreflight(err error, w Where, host string) error {
	mk := func(c *Cause, detail, fix string) *Error { return &Error{Cause: c, Detail: detail, Fix: fix, Err: err} }
	// Endpoint "": a reset here is not to be sniffed for TLS again.
	if e := classifyNetwork(err, Where{Bucket: w.Bucket, Region: w.Region, Profile: w.Profile}, mk); e != nil {
		return e
	}
	return fmt.Errorf("connect to %s: %w", host, err)
}

// SpeaksTLS reports whether host (host:port) completes a TLS handshake
// within timeout: it tells a plain-HTTP request cut off by a TLS server
// from one cut off by the network. No data is sent after the handshake.
func SpeaksTLS(ctx context.Context, host string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // protocol check only
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
