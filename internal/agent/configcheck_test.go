package agent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/cli"
)

// TestCheckConfig: what each job runs and where it writes, the count of
// what is valid; a missing dump program is ErrNoDumpProgram and an
// unreadable config a usage error, so the command can tell them from a
// database that could not be reached.
func TestCheckConfig(t *testing.T) {
	var out bytes.Buffer
	path := writeTestConfig(t, testConfig)
	if err := CheckConfig(context.Background(), CheckOptions{Config: path}, &out); err != nil {
		t.Fatal(err)
	}
	want := "shop: seq 1 9 | zstd default | age (1 recipient: x25519) -> s3://acme-backups/db1/shop/…, SSE AES256\n" +
		"wiki: seq 1 9 | zstd default | age (1 recipient: x25519) -> s3://acme-backups/db1/wiki/…, SSE AES256\n" +
		path + ": 2 jobs valid\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	missing := writeTestConfig(t, strings.Replace(testConfig, "command: [seq,", "command: [/nonexistent/seq,", 1))
	err := CheckConfig(context.Background(), CheckOptions{Config: missing, Job: "shop", Connect: true}, &out)
	if !errors.Is(err, backup.ErrNoDumpProgram) || !strings.Contains(err.Error(), `"/nonexistent/seq": no such file`) {
		t.Errorf("missing program: %v", err)
	}
	if strings.Contains(out.String(), "valid") || strings.Contains(out.String(), "wiki") {
		t.Errorf("missing program, --job shop: %q", out.String())
	}

	var ue *cli.UsageError
	for _, o := range []CheckOptions{{}, {Config: path + ".none"}, {Config: path, Job: "nope"}} {
		if err := CheckConfig(context.Background(), o, &out); !errors.As(err, &ue) {
			t.Errorf("%+v: %v, want a usage error", o, err)
		}
	}
}
