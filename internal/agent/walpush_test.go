package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/cli"
)

// TestPushWALRefusesWithoutVerdict: a config that cannot be used is a
// usage error; without a cached self-test of the key the segment is not
// archived (nothing is sent: the endpoint does not exist), and the error
// says which command records one.
func TestPushWALRefusesWithoutVerdict(t *testing.T) {
	t.Setenv("PUTONLY_STATE_DIR", t.TempDir())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	path := writeTestConfig(t, testConfig)
	a := WALPushArgs{Source: source(t, false, path, "--job", "nope"), Path: "000000010000000000000001", NoRefresh: true, Log: slog.New(slog.DiscardHandler)}
	var ue *cli.UsageError
	if err := PushWAL(context.Background(), a); !errors.As(err, &ue) || !strings.Contains(err.Error(), `no job named "nope"`) {
		t.Errorf("unknown job: %v", err)
	}
	a.Source = source(t, false, path, "--job", "shop", "--endpoint", "http://127.0.0.1:1")
	err := PushWAL(context.Background(), a)
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "job shop: wal-push 000000010000000000000001: no recent self-test") ||
		!strings.Contains(err.Error(), "putonly selftest --config "+path+" --job shop") {
		t.Errorf("no verdict: %v", err)
	}
}
