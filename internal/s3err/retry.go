package s3err

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// FailFast is a per-request option for the first request of a job: a
// cause of set-up (the endpoint refuses, does not resolve, speaks the other
// protocol; no or wrong credentials; wrong region; no such bucket) is not
// retried, so a wrong endpoint is reported in seconds. The client's
// retryer still rides out throttling and 5xx; later requests do not take
// this option, so once the store has answered they ride out outages too.
func FailFast(w Where) func(*s3.Options) {
	return func(o *s3.Options) {
		if o.Retryer != nil {
			o.Retryer = failFast{Retryer: o.Retryer, w: w}
		}
	}
}

type failFast struct {
	aws.Retryer
	w Where
}

func (f failFast) IsErrorRetryable(err error) bool {
	if e := classify(err, f.w); e != nil && e.Cause.setup {
		return false
	}
	return f.Retryer.IsErrorRetryable(err)
}
