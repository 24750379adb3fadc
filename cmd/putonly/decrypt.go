package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/layout"
	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "decrypt", order: 50, run: runDecrypt,
		summary: "decrypt --identity F < IN > OUT    decrypt a backup file fetched by other means"})
}

const decryptUsage = `Usage:
  putonly decrypt --identity FILE [--manifest M] [-o OUT] [IN] 

Decrypts a backup file fetched by other means (aws s3 cp, a copy on tape),
from IN or stdin, to OUT or stdout: age, then zstd when the decrypted data
starts with the zstd magic bytes (--compression forces it either way). The
same as 'age -d -i FILE | zstd -d', with one tool.

With --manifest (the backup's .manifest.json.age, fetched alongside), the
plaintext's size and SHA-256 are checked against it. With -o the output is
written atomically, as by 'putonly restore'. It makes no network request.

Examples:
  putonly decrypt --identity key.txt < shop-20261126T021500Z-3f2a9c1e.dump.zst.age > shop.dump
  putonly decrypt --identity key.txt --manifest shop-...dump.zst.age.manifest.json.age -o shop.dump shop-...dump.zst.age

Exit status: 0 decrypted (and verified, with --manifest); 1 wrong identity,
corrupt or truncated input, or a manifest mismatch; 2 bad flags.

Flags:
`

func runDecrypt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly decrypt", flag.ContinueOnError)
	var ids stringList
	fs.Var(&ids, "identity", "age identity `file`; repeat for several")
	comp := fs.String("compression", "auto", "layer under age: auto (by magic bytes), zstd, none")
	manifest := fs.String("manifest", "", "the backup's manifest `file` (.manifest.json.age) to verify against")
	out := fs.String("o", "-", "output `file`, or - for stdout")
	force := fs.Bool("force", false, "replace an existing output file")
	pos, done, err := parseFlagsArgs(fs, decryptUsage, args, 1, stdout, stderr)
	if done {
		return err
	}
	var in string
	if len(pos) == 1 {
		in = pos[0]
	}
	c, err := restore.ParseCompression(*comp)
	if err != nil {
		return usageError(err, "")
	}
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	m, err := readManifestFile(*manifest, identities)
	if err != nil {
		return err
	}
	src, name, err := decryptInput(in, m)
	if err != nil {
		return err
	}
	defer src.Close()
	if *out == "-" && isTerminal(stdout) {
		return usageError(fmt.Errorf("stdout is a terminal"), "redirect the output (> FILE) or use -o FILE")
	}
	var dst io.Writer = stdout
	var af *restore.AtomicFile
	if *out != "-" {
		if af, err = restore.CreateAtomic(*out, *force); err != nil {
			return usageError(err, "")
		}
		defer af.Abort()
		dst = af
	}
	st, err := restore.Decrypt(dst, src, identities, c)
	if err == nil && m != nil {
		err = st.Verify(m)
	}
	if err != nil {
		return failure(fmt.Errorf("decrypt %s: %w", name, err))
	}
	if af != nil {
		if err := af.Commit(); err != nil {
			return failure(err)
		}
	}
	check := "no manifest given, not verified"
	if m != nil {
		check = "matches the manifest"
	}
	fmt.Fprintf(stderr, "putonly: decrypted %s to %s: %d bytes (%s), SHA-256 %s, %s\n", name, outName(*out), st.PlaintextBytes, st.Compression, st.SHA256, check)
	return nil
}

// readManifestFile reads the --manifest file (nil without one).
func readManifestFile(path string, identities []age.Identity) (*restore.Manifest, error) {
	if path == "" {
		return nil, nil
	}
	mf, err := os.Open(path)
	if err != nil {
		return nil, usageError(err, "")
	}
	defer mf.Close()
	m, err := layout.ReadManifest(mf, identities...)
	if err != nil {
		return nil, failure(fmt.Errorf("%s: %w", path, err))
	}
	return m, nil
}

// decryptInput opens IN (stdin for "" or "-"), checked against the
// manifest's size when there is one.
func decryptInput(in string, m *restore.Manifest) (io.ReadCloser, string, error) {
	if in == "" || in == "-" {
		if isTerminal(os.Stdin) {
			return nil, "", usageError(fmt.Errorf("no input: stdin is a terminal"), "putonly decrypt --identity FILE < BACKUP.age > OUT, or name the file: putonly decrypt --identity FILE -o OUT BACKUP.age")
		}
		return io.NopCloser(os.Stdin), "stdin", nil
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, "", usageError(err, "")
	}
	if m != nil {
		if st, err := f.Stat(); err == nil && st.Size() != m.CiphertextSize {
			f.Close()
			return nil, "", failure(fmt.Errorf("%s: %w: the file is %d bytes, the manifest says %d", in, restore.ErrCorrupt, st.Size(), m.CiphertextSize))
		}
	}
	return f, in, nil
}

func outName(out string) string {
	if out == "-" {
		return "stdout"
	}
	return out
}
