package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/putonly/putonly/internal/clitest"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the files that the scripts of testdata/{generate,verify} cmp stdout and stderr against")

// TestMain installs the command for the scripts: the test binary, run as
// putonly-policy, is the command itself, with the markdown report's date
// and tool version fixed so its output does not change with the clock.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"putonly-policy": func() {
			verifyNow = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
			verifyVersion = func() string { return "v0.0.0-test" }
			main()
		},
	})
}

// TestScripts runs the CLI scripts of testdata/generate, testdata/verify and
// testdata/selftest (against a local S3 server)
// (testscript; the commands exits and s3 come from internal/clitest). A
// script sees the package's testdata as ./testdata, and the golden policies
// of policy/testdata/generate as $GOLDEN. -update rewrites the want-stdout
// and want-stderr sections from what the command printed.
func TestScripts(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("..", "..", "policy", "testdata", "generate"))
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"generate", "verify", "selftest"} {
		t.Run(dir, func(t *testing.T) {
			testscript.Run(t, testscript.Params{
				Dir:                 filepath.Join("testdata", dir),
				UpdateScripts:       *update,
				RequireExplicitExec: true,
				Cmds:                clitest.Commands(),
				Condition:           clitest.Condition,
				Setup: clitest.Setup(func(env *testscript.Env) error {
					env.Setenv("GOLDEN", golden)
					return os.Symlink(testdata, filepath.Join(env.WorkDir, "testdata"))
				}),
			})
		})
	}
}
