package backup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// attemptLog records how each attempt of one S3 call ended, so a 412 on a
// retry can be told from a 412 on a first attempt.
//
// Every object name carries a random part that only this run knows (see
// layout), and PutObject and CompleteMultipartUpload send If-None-Match: *.
// When an attempt reached S3 but its answer was lost (the connection was cut
// after the request was sent, or S3 answered 5xx after storing), the
// SDK retries and S3 answers 412: the object that exists is the one the
// earlier attempt stored, byte for byte (S3 verified its checksum). That 412
// means "stored". A 412 on a first attempt means someone else holds the name:
// it stays ErrObjectExists.
type attemptLog struct {
	mu       sync.Mutex
	attempts []string // per attempt: "" for an answer, or how it ended without one
}

// option adds the recording middleware to one call. It sits after the
// retry middleware in the finalize step, so it sees every attempt.
func (l *attemptLog) option() func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("putonlyAttemptLog",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleFinalize(ctx, in)
					l.record(err)
					return out, md, err
				}), middleware.After)
		})
	}
}

func (l *attemptLog) record(err error) {
	var why string
	var re interface{ HTTPStatusCode() int }
	var op *net.OpError
	switch {
	case err == nil:
	case errors.As(err, &op) && (op.Op == "dial" || op.Op == "write" || op.Op == "readfrom"):
		// Never sent, or cut while sending the body: S3 cannot have
		// stored an object it did not receive whole. (A store that
		// refuses If-None-Match early answers 412 and resets the
		// connection while the body is still being sent; the retry then
		// reads that 412, which is a collision.)
	case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		// S3 answered. A 5xx may come after the write was done (500
		// InternalError); 503 SlowDown never does, but telling them apart
		// would only matter for a 412 on the next try, which the random
		// name makes ours either way.
		why = fmt.Sprintf("S3 answered %d", re.HTTPStatusCode())
	case errors.As(err, &re) && re.HTTPStatusCode() != 0:
		// A definite answer (4xx).
	default:
		// Sent, or partly sent, and no answer came back: a cut
		// connection, a timeout.
		why = err.Error()
	}
	l.mu.Lock()
	l.attempts = append(l.attempts, why)
	l.mu.Unlock()
}

// lostAnswer says, when err is a 412 answered to a retry after an attempt
// whose answer was lost, how that earlier attempt ended; "" otherwise
// (including a 412 on the first attempt).
func (l *attemptLog) lostAnswer(err error) string {
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.attempts) < 2 {
		return ""
	}
	for _, why := range l.attempts[:len(l.attempts)-1] {
		if why != "" {
			return why
		}
	}
	return ""
}
