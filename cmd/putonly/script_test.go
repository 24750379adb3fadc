package main

import (
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/clitest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI scripts of testdata/script against the putonly
// binary TestMain built, as a user runs it: each script that needs S3
// starts its own local server with 's3 start' (internal/clitest), which
// leaves the PutObject-only backup key in AWS_ACCESS_KEY_ID and the admin
// key in ADMIN_KEY_ID/ADMIN_SECRET for the read side. Each script gets a
// fresh age identity in identity.txt, its recipient in $RECIPIENT, and
// $PUTONLY_STATE_DIR in its work directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Cmds:                clitest.Commands(),
		Condition:           clitest.Condition,
		Setup: clitest.Setup(func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(putonlyBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			id, err := age.GenerateX25519Identity()
			if err != nil {
				return err
			}
			env.Setenv("RECIPIENT", id.Recipient().String())
			env.Setenv("PUTONLY_STATE_DIR", filepath.Join(env.WorkDir, "state"))
			return os.WriteFile(filepath.Join(env.WorkDir, "identity.txt"), []byte(id.String()+"\n"), 0o600)
		}),
	})
}
