package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/restorecmd"
)

func init() {
	app.Register(&cli.Command{Name: "decrypt", Order: 50, Run: runDecrypt,
		Summary: "decrypt --identity F < IN > OUT    decrypt a backup file fetched by other means"})
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
	o := restorecmd.DecryptOptions{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
	fs.Var((*stringList)(&o.Identities), "identity", "age identity `file`; repeat for several")
	fs.StringVar(&o.Compression, "compression", "auto", "layer under age: auto (by magic bytes), zstd, none")
	fs.StringVar(&o.Manifest, "manifest", "", "the backup's manifest `file` (.manifest.json.age) to verify against")
	fs.StringVar(&o.Out, "o", "-", "output `file`, or - for stdout")
	fs.BoolVar(&o.Force, "force", false, "replace an existing output file")
	pos, done, err := cli.ParseArgs(fs, decryptUsage, args, 1, stdout, stderr)
	if done {
		return err
	}
	if len(pos) == 1 {
		o.In = pos[0]
	}
	return readSideExit(restorecmd.Decrypt(o))
}
