package backup

import (
	"context"
	"errors"
)

// KeyChecker is the key gate a run is given ([RunOptions].Keys): before the
// dump starts, and inside the job's timeout, it decides whether the job may
// upload with its key. A nil error lets the job go ahead; an error (wrapping
// [ErrReadableKey] or [ErrSelftestInconclusive] when the key is to blame)
// fails the job before anything is dumped or sent. The implementation
// (internal/agent) runs the live self-test and caches its verdict.
type KeyChecker interface {
	CheckKey(ctx context.Context, job *Job) error
}

// ErrReadableKey means the self-test found that the key can read, delete or
// escalate, and the run was not told to upload anyway.
var ErrReadableKey = errors.New("the backup key has more than write rights")

// ErrSelftestInconclusive means the self-test could not tell whether the
// key can read, delete or escalate (its canary could not be written, or S3
// did not answer): the gate fails closed.
var ErrSelftestInconclusive = errors.New("the self-test could not tell whether the backup key can read or delete")
