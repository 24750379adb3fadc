package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/putonly/putonly/internal/s3err"
)

// The kinds of failure a caller decides on (the failure reason of a
// metric, the exit status of a command). Each is tested with errors.Is; the
// text of the error around it names the step and the object.
var (
	// ErrTimeout: the job's timeout passed. It is the cause of the job's
	// context (a [TimeoutError]), so every phase it cut reports it.
	ErrTimeout = errors.New("job timeout reached")
	// ErrShutdown: the process was told to stop (SIGTERM, SIGINT, the end
	// of the daemon's shutdown grace period). Callers cancel the job's
	// context with a cause wrapping it.
	ErrShutdown = errors.New("shutdown")
	// ErrManifest: the backup object is stored, its manifest is not.
	ErrManifest = errors.New("manifest not stored")
)

// TimeoutError is the cause of a job context whose timeout passed.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("job timeout of %s reached", e.Timeout) }

// Is makes errors.Is(err, ErrTimeout) hold.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// kindError gives err a kind (a sentinel above, or a context's cause) that
// errors.Is finds, without changing its text.
type kindError struct{ err, kind error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// withKind returns err marked with kind; nil stays nil, and an error that
// already is of that kind is returned as is.
func withKind(err, kind error) error {
	if err == nil || kind == nil || errors.Is(err, kind) {
		return err
	}
	return &kindError{err: err, kind: kind}
}

// FailureReason sorts a job error into a few reasons, for metric labels and
// events: timeout, cancelled, dump, unreachable, credentials, bucket,
// selftest, access_denied, object_exists, manifest, config, upload. A dump
// killed by the timeout is a timeout; a request cut by a shutdown is
// cancelled, whatever the network said.
func FailureReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrShutdown), errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, ErrDumpFailed):
		return "dump"
	case errors.Is(err, s3err.ErrUnreachable):
		return "unreachable"
	case errors.Is(err, s3err.ErrNoCredentials), errors.Is(err, s3err.ErrInvalidCredentials), errors.Is(err, s3err.ErrClockSkew):
		return "credentials"
	case errors.Is(err, s3err.ErrNoSuchBucket), errors.Is(err, s3err.ErrInvalidBucketName), errors.Is(err, s3err.ErrWrongRegion):
		return "bucket"
	case errors.Is(err, ErrReadableKey), errors.Is(err, ErrSelftestInconclusive):
		return "selftest"
	case errors.Is(err, ErrAccessDenied):
		return "access_denied"
	case errors.Is(err, ErrObjectExists):
		return "object_exists"
	case errors.Is(err, ErrNoRecipients):
		return "config"
	case errors.Is(err, ErrManifest):
		return "manifest"
	}
	return "upload"
}
