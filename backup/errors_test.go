package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
)

// blockingGate is a key gate whose store never answers: it waits for the
// job's context.
type blockingGate struct{ asked chan struct{} }

func (g blockingGate) CheckKey(ctx context.Context, job *Job) error {
	close(g.asked)
	<-ctx.Done()
	return fmt.Errorf("self-test: %w", context.Cause(ctx))
}

func gateJob(t *testing.T, argv ...string) *Job {
	t.Helper()
	id, _ := age.GenerateX25519Identity()
	rec, err := ParseRecipients([]string{id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return &Job{Name: "gated", Argv: argv, Ext: "dump", Bucket: "b", Recipient: rec, Compression: "none",
		SSE: "AES256", Checksum: "CRC64NVME", PartSize: minPartSize, UploadConcurrency: 1, Timeout: 200 * time.Millisecond}
}

// TestRunTimeoutCoversGate: the key gate is asked inside the job's
// timeout, so a gate that never answers ends with the timeout as a value
// (ErrTimeout, reason "timeout"), and the dump never starts.
func TestRunTimeoutCoversGate(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	g := blockingGate{asked: make(chan struct{})}
	_, err := Run(context.Background(), nil, gateJob(t, "touch", marker), RunOptions{Keys: g})
	if !errors.Is(err, ErrTimeout) || FailureReason(err) != "timeout" {
		t.Fatalf("err = %v (reason %q), want ErrTimeout", err, FailureReason(err))
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Timeout != 200*time.Millisecond {
		t.Errorf("cause %v, want the job's TimeoutError", te)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the dump ran although the gate did not let it")
	}
}

// TestRunShutdownIsACause: a shutdown cancels the run with a cause that
// errors.Is finds, whatever the phase reported.
func TestRunShutdownIsACause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	g := blockingGate{asked: make(chan struct{})}
	go func() { <-g.asked; cancel(fmt.Errorf("%w: terminated received", ErrShutdown)) }()
	job := gateJob(t, "true")
	job.Timeout = time.Minute
	_, err := Run(ctx, nil, job, RunOptions{Keys: g})
	if !errors.Is(err, ErrShutdown) || errors.Is(err, ErrTimeout) || FailureReason(err) != "cancelled" {
		t.Fatalf("err = %v (reason %q), want ErrShutdown", err, FailureReason(err))
	}
}

// TestWithKind: the kind is found, the text is the error's own.
func TestWithKind(t *testing.T) {
	base := errors.New("put s3://b/k: connection reset")
	err := withKind(base, &TimeoutError{Timeout: time.Second})
	if err.Error() != base.Error() || !errors.Is(err, ErrTimeout) || !errors.Is(err, base) {
		t.Fatalf("withKind: %q, Is timeout %v", err, errors.Is(err, ErrTimeout))
	}
	if withKind(nil, ErrManifest) != nil || withKind(err, ErrTimeout) != err {
		t.Error("nil or an error of that kind already must come back as is")
	}
}
