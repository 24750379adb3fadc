package policy

import (
	"errors"
	"testing"
)

// TestClassifyNotStarted: a refused preparation makes its probe "could not
// tell" without marking the store unreachable, so the probes after it run.
func TestClassifyNotStarted(t *testing.T) {
	oc := classify(errNotStarted{errors.New("create multipart upload for the part copy: 501 NotImplemented")}, nil)
	if oc.verdict != ProbeUnknown || oc.got == gotNoAnswer {
		t.Fatalf("outcome %+v: want could-not-tell that is not 'no answer'", oc)
	}
}
