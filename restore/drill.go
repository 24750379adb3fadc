package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"filippo.io/age"
)

// API is what list, restore, drill and audit need from S3: s3:ListBucket
// and s3:GetObject. The backup key has neither.
type API interface {
	Lister
	Getter
}

// DrillOptions say what to restore and where.
type DrillOptions struct {
	Bucket, Prefix, Job string
	Key                 string // a given backup instead of the job's latest
	Identities          []age.Identity
	NoVerify            bool
	// Into is a shell command (sh -c) that reads the dump on its stdin,
	// e.g. "pg_restore --exit-on-error -d scratch". Its stdout and stderr go
	// to Stdout and Stderr.
	Into           string
	Stdout, Stderr io.Writer
}

// DrillResult is the report of a drill. Timings are filled in as far as the
// drill got.
type DrillResult struct {
	Backup  Backup // zero when Key was given
	Restore Result
	Find    time.Duration // listing to find the latest backup
	Stream  time.Duration // download, decrypt and feed the target
	Finish  time.Duration // the target's work after the end of its input
	Total   time.Duration
}

// ErrTarget wraps a failure of the drill's target command.
var ErrTarget = errors.New("target command failed")

// Drill restores the latest backup of a job (or Key) into the stdin of a
// scratch target command and waits for it: the drill passes only when the
// download, decryption, manifest verification and the target all succeed.
// When the restore fails the target is killed (with its process group), so
// it does not act on a partial dump.
func Drill(ctx context.Context, api API, o DrillOptions) (res DrillResult, err error) {
	start := time.Now()
	defer func() { res.Total = time.Since(start) }()
	key := o.Key
	if key == "" {
		b, err := Latest(ctx, api, o.Bucket, o.Prefix, o.Job)
		res.Find = time.Since(start)
		if err != nil {
			return res, err
		}
		res.Backup, key = b, b.Key
	}

	tctx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := exec.CommandContext(tctx, "sh", "-c", o.Into)
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("%w: start: %v", ErrTarget, err)
	}
	streamStart := time.Now()
	in := &recordingWriter{w: stdin}
	r, rerr := Restore(ctx, api, Options{Bucket: o.Bucket, Key: key, Identities: o.Identities, NoVerify: o.NoVerify}, in)
	res.Restore = r
	res.Stream = time.Since(streamStart)
	if rerr != nil && in.err == nil {
		// The dump is bad: the target must not finish with half of it.
		// Kill the group now, before its stdin closes: cancelling the
		// context alone sends the signal later, from exec's goroutine,
		// and the target could first see the end of its input.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		kill()
	}
	stdin.Close()
	finishStart := time.Now()
	werr := cmd.Wait()
	res.Finish = time.Since(finishStart)
	switch {
	case (rerr != nil || werr != nil) && ctx.Err() != nil:
		// Cancelled or timed out: the target was killed, say why.
		return res, fmt.Errorf("drill stopped: %w", context.Cause(ctx))
	case rerr != nil && in.err != nil:
		// The target stopped reading: its failure is the cause.
		if werr != nil {
			return res, fmt.Errorf("%w: %q: %v (it stopped reading about %d bytes in)", ErrTarget, o.Into, werr, r.PlaintextBytes)
		}
		return res, fmt.Errorf("%w: %q exited 0 without reading the whole dump", ErrTarget, o.Into)
	case rerr != nil:
		return res, rerr
	case werr != nil:
		return res, fmt.Errorf("%w: %q: %v", ErrTarget, o.Into, werr)
	}
	return res, nil
}
