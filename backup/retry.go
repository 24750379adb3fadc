package backup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// How putonly retries one S3 request (a part, a PutObject, a Complete): on
// what the SDK's standard retryer deems retryable (503 SlowDown and other
// throttling, 500, 502, 504, cut connections), with capped exponential
// backoff and jitter, for at most max_attempts tries and at most
// max_retry_time since the first try, and never past the job's deadline.
// The defaults ride out an S3 outage of a minute or more: a single part
// keeps trying for two minutes, then the job fails.
//
// A client that has never reached S3 gives up on connection errors after
// unreachedAttempts tries: a refused port, an unknown host or a TLS mismatch
// at the start of a job is a configuration to fix, not an outage to wait
// out. Reached means an answer came, or a request went out on an open
// connection (see reachedBy).
const (
	retryBaseDelay    = 500 * time.Millisecond
	retryMaxDelay     = 20 * time.Second
	unreachedAttempts = 3
)

// ErrRetryBudget is joined to the last error of a request that stopped
// retrying because max_retry_time (or the job's deadline) would pass.
var ErrRetryBudget = errors.New("retries stopped")

// retryDelay is the pause before retry n (1-based): half of
// min(retryMaxDelay, retryBaseDelay × 2^(n-1)), plus a random part up to
// the other half ("equal jitter"), so that many parts retrying at once
// spread out, and the pauses still add up to at least half the nominal sum.
func retryDelay(n int) time.Duration {
	d := retryMaxDelay
	if n < 16 {
		d = min(retryMaxDelay, retryBaseDelay<<(n-1))
	}
	return d/2 + rand.N(d/2+1)
}

// budgetRetryer is the SDK's standard retryer (which classifies errors)
// with putonly's backoff, bounded by time as well as count.
type budgetRetryer struct {
	*retry.Standard
	budget  time.Duration
	reached *atomic.Bool // some request of this client reached S3 (reachedBy)
}

type retryStartKey struct{}

// retryState is one call's: when its first attempt started, and how many
// retries it has had.
type retryState struct {
	start   time.Time
	retries int
}

// GetRetryToken is asked before each retry, with the call's context: it
// refuses one that would start after the budget or the deadline.
func (r *budgetRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	st, _ := ctx.Value(retryStartKey{}).(*retryState)
	if st != nil {
		st.retries++
		if !r.reached.Load() && st.retries >= unreachedAttempts && noAnswer(opErr) {
			return nil, fmt.Errorf("%w: S3 never answered this client (%d tries): check the endpoint and the network", ErrRetryBudget, st.retries)
		}
		// The shortest pause the next retry can take.
		next := time.Now().Add(retryDelayMin(st.retries))
		if r.budget > 0 && next.After(st.start.Add(r.budget)) {
			return nil, fmt.Errorf("%w after %s of %d tries: max_retry_time is %s", ErrRetryBudget, time.Since(st.start).Round(time.Second), st.retries, r.budget)
		}
		// Against the deadline, the longest pause: a retry cut short by
		// the deadline would end with a bare "context deadline exceeded"
		// instead of S3's error.
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(2*retryDelayMin(st.retries)).After(dl) {
			return nil, fmt.Errorf("%w after %d tries: the job's deadline comes before the next one", ErrRetryBudget, st.retries)
		}
	}
	return r.Standard.GetRetryToken(ctx, opErr)
}

func retryDelayMin(n int) time.Duration {
	d := retryMaxDelay
	if n < 16 {
		d = min(retryMaxDelay, retryBaseDelay<<(n-1))
	}
	return d / 2
}

// noAnswer says whether err came without an HTTP status (a connection
// error), as opposed to an answer from S3.
func noAnswer(err error) bool {
	var re interface{ HTTPStatusCode() int }
	return !errors.As(err, &re) || re.HTTPStatusCode() == 0
}

// reachedBy says whether an attempt that ended with err reached S3: it got
// an HTTP answer, or it wrote its request head on an open connection (wrote:
// the TCP connection, and TLS for https, were up) before it failed.
//
// The second half is for a store that refuses a conditional put before it
// reads the body, as a retried wal-push of an archived segment is: versitygw
// (fasthttp, which streams request bodies) answers 412, discards at most
// 256 KiB of the body and closes with the rest unread, so the kernel resets
// the connection, and Go's transport reports the reset (on the body's write,
// or on the read, or "use of closed network connection") and drops the 412
// it may already have read. Measured on this 2-core machine against
// versitygw v1.8.0, 100 conditional PutObjects of an existing key, one
// attempt each: 1 MiB body, 1 reset idle and 30 with two CPU hogs; 4 MiB, 41
// idle and 31 loaded. Expect: 100-continue does not help there (fasthttp
// sends 100 Continue before the handler runs: 22 to 38 resets in 100 with
// it); the SDK sends it from 2 MiB on anyway (s3.Options
// ContinueHeaderThresholdBytes). Counted as "never answered", such resets
// made a wal-push (a fresh process and client each time) give up after
// three, about one retried push in ten under load, with "S3 never answered
// this client: check the endpoint and the network" instead of "already
// archived", and PostgreSQL's archive fell behind. Counted as reached, the
// attempt is retried within max_attempts and max_retry_time, and a later one
// reads the 412: S3 refuses a conditional write to an existing key on every
// attempt ("How to prevent object overwrites with conditional writes",
// Amazon S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
//
// What is given up: an http:// URL on a TLS port whose server resets a
// plain request (rather than answering 400, as Go's and nginx's do) is
// retried up to max_retry_time instead of three tries. Connect names that
// case before any request (s3err.Preflight), and wal-push archives only
// after a recent self-test, which connects through Connect.
func reachedBy(err error, wrote bool) bool {
	return err == nil || !noAnswer(err) || wrote
}

// retryOptions installs putonly's retryer on a client: max attempts (0:
// DefaultMaxAttempts) and the time budget of one request (0:
// DefaultMaxRetryTime).
func retryOptions(attempts int, budget time.Duration) func(*s3.Options) {
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	if budget <= 0 {
		budget = DefaultMaxRetryTime
	}
	reached := new(atomic.Bool)
	return func(o *s3.Options) {
		o.Retryer = &budgetRetryer{
			Standard: retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = retryMaxDelay
				so.Backoff = retry.BackoffDelayerFunc(func(n int, _ error) (time.Duration, error) {
					return retryDelay(n), nil
				})
				// The default client-side retry quota would give up on a
				// throttling storm after a few failures across all parts;
				// S3 asks clients to back off, not to fail, so there is
				// no quota.
				so.RateLimiter = ratelimit.None
			}),
			budget:  budget,
			reached: reached,
		}
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("putonlyRetryStart",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					ctx = context.WithValue(ctx, retryStartKey{}, &retryState{start: time.Now()})
					return next.HandleInitialize(ctx, in)
				}), middleware.Before); err != nil {
				return err
			}
			// After the retry middleware: sees every attempt, and sets
			// reached before the retryer decides on its error.
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("putonlyReached",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					var wrote atomic.Bool
					ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
					out, md, err := next.HandleFinalize(ctx, in)
					if reachedBy(err, wrote.Load()) {
						reached.Store(true)
					}
					return out, md, err
				}), middleware.After)
		})
	}
}
