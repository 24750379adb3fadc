package restorecmd

import (
	"errors"
	"github.com/putonly/putonly/internal/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/internal/s3test"
	"github.com/putonly/putonly/restore"
)

// TestDecryptFetchedFile: a backup fetched by other means decrypts against
// its manifest; one byte short is refused by size before decrypting, and
// no output file is left.
func TestDecryptFetchedFile(t *testing.T) {
	f := newFixture(t)
	data := []byte(strings.Repeat("insert into t values (1);\n", 20000))
	key := f.backup(t, "shop", data)
	dir := t.TempDir()
	in, man := filepath.Join(dir, "b.age"), filepath.Join(dir, "b.manifest.json.age")
	body := s3test.Get(t, f.s, key)
	os.WriteFile(in, body, 0o600)
	os.WriteFile(man, s3test.Get(t, f.s, layout.ManifestKey(key)), 0o600)
	out := filepath.Join(dir, "b.out")
	o := DecryptOptions{Identities: []string{f.idFile}, Compression: "auto", Manifest: man, In: in, Out: out, Stdout: &f.stdout, Stderr: &f.stderr}
	if err := Decrypt(o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != string(data) || !strings.Contains(f.stderr.String(), "(zstd), SHA-256 ") || !strings.HasSuffix(f.stderr.String(), ", matches the manifest\n") {
		t.Fatalf("%d bytes out, stderr %q", len(got), f.stderr.String())
	}
	os.WriteFile(in, body[:len(body)-1], 0o600)
	o.Out = filepath.Join(dir, "short.out")
	if err := Decrypt(o); !errors.Is(err, restore.ErrCorrupt) || !strings.Contains(err.Error(), "the manifest says") {
		t.Errorf("truncated file: %v", err)
	}
	if _, err := os.Stat(o.Out); err == nil {
		t.Error("a failed decrypt left its output")
	}
	o.Compression = "lz4"
	var ue *cli.UsageError
	if err := Decrypt(o); !errors.As(err, &ue) {
		t.Errorf("--compression lz4: %v", err)
	}
}
