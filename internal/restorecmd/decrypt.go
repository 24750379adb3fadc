package restorecmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/restore"
)

// DecryptOptions are what 'putonly decrypt' is told: a backup file fetched
// by other means (In, "" or "-" for Stdin), written to Out ("-" for
// Stdout), checked against the backup's Manifest file when given.
type DecryptOptions struct {
	Identities  []string
	Compression string // auto, zstd or none
	Manifest    string
	In, Out     string
	Force       bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Decrypt decrypts (and decompresses) a backup file without any network
// request, and says on Stderr what it wrote and how it was checked.
func Decrypt(o DecryptOptions) error {
	c, err := restore.ParseCompression(o.Compression)
	if err != nil {
		return usage(err, "")
	}
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	m, err := readManifestFile(o.Manifest, ids)
	if err != nil {
		return err
	}
	src, name, err := o.input(m)
	if err != nil {
		return err
	}
	defer src.Close()
	if o.Out == "-" && cli.IsTerminal(o.Stdout) {
		return usage(errors.New("stdout is a terminal"), "redirect the output (> FILE) or use -o FILE")
	}
	dst := o.Stdout
	var af *restore.AtomicFile
	if o.Out != "-" {
		if af, err = restore.CreateAtomic(o.Out, o.Force); err != nil {
			return usage(err, "")
		}
		defer af.Abort()
		dst = af
	}
	st, err := restore.Decrypt(dst, src, ids, c)
	if err == nil && m != nil {
		err = st.Verify(m)
	}
	if err != nil {
		return fmt.Errorf("decrypt %s: %w", name, err)
	}
	if af != nil {
		if err := af.Commit(); err != nil {
			return err
		}
	}
	check := "no manifest given, not verified"
	if m != nil {
		check = "matches the manifest"
	}
	fmt.Fprintf(o.Stderr, "putonly: decrypted %s to %s: %d bytes (%s), SHA-256 %s, %s\n", name, outName(o.Out), st.PlaintextBytes, st.Compression, st.SHA256, check)
	return nil
}

// readManifestFile reads the --manifest file (nil without one).
func readManifestFile(path string, ids []age.Identity) (*restore.Manifest, error) {
	if path == "" {
		return nil, nil
	}
	mf, err := os.Open(path)
	if err != nil {
		return nil, usage(err, "")
	}
	defer mf.Close()
	m, err := layout.ReadManifest(mf, ids...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// input opens In (Stdin for "" or "-"), checked against the manifest's
// size when there is one.
func (o DecryptOptions) input(m *restore.Manifest) (io.ReadCloser, string, error) {
	if o.In == "" || o.In == "-" {
		if cli.IsTerminal(o.Stdin) {
			return nil, "", usage(errors.New("no input: stdin is a terminal"), "putonly decrypt --identity FILE < BACKUP.age > OUT, or name the file: putonly decrypt --identity FILE -o OUT BACKUP.age")
		}
		return io.NopCloser(o.Stdin), "stdin", nil
	}
	f, err := os.Open(o.In)
	if err != nil {
		return nil, "", usage(err, "")
	}
	if m != nil {
		if st, err := f.Stat(); err == nil && st.Size() != m.CiphertextSize {
			f.Close()
			return nil, "", fmt.Errorf("%s: %w: the file is %d bytes, the manifest says %d", o.In, restore.ErrCorrupt, st.Size(), m.CiphertextSize)
		}
	}
	return f, o.In, nil
}
