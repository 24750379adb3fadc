package restorecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/putonly/putonly/restore"
)

// PITRDrill is 'putonly pitr --drill': prepare a scratch data directory
// (a temporary one unless --data-dir), start it on Port, wait until it
// replayed and promoted, report, stop it and remove it (unless Keep).
type PITRDrill struct {
	Drill bool
	Port  int
	PGBin string // pg_ctl's directory; "" is PATH, else the newest /usr/lib/postgresql/*/bin
	RunAs string // the server's user; "" is postgres as root
	Keep  bool
}

// check checks the port and finds pg_ctl and the server's user.
func (d *PITRDrill) check() error {
	if d.Port < 1 || d.Port > 65535 {
		return fmt.Errorf("--port %d: out of range", d.Port)
	}
	if d.PGBin == "" {
		if _, err := exec.LookPath("pg_ctl"); err != nil {
			dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
			major := func(p string) float64 {
				v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(p)), 64)
				return v
			}
			sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) < major(dirs[j]) })
			if len(dirs) == 0 {
				return errors.New("--drill needs pg_ctl: none on PATH nor in /usr/lib/postgresql/*/bin; give --pg-bin")
			}
			d.PGBin = dirs[len(dirs)-1]
		}
	}
	if d.RunAs == "" && os.Geteuid() == 0 {
		d.RunAs = "postgres"
	}
	if d.RunAs != "" {
		if _, err := user.Lookup(d.RunAs); err != nil {
			return fmt.Errorf("--run-as %s: %w", d.RunAs, err)
		}
	}
	return nil
}

// prepare checks the drill's flags and, without a data directory, makes
// the scratch directory the drill recovers into (removed by cleanup unless
// Keep); ids become the identity files the server's user can read.
func (d *PITRDrill) prepare(dataDir *string, ids []string) (scratch string, _ []string, cleanup func(), err error) {
	cleanup = func() {}
	if err := d.check(); err != nil {
		return "", nil, cleanup, usage(err, "")
	}
	if *dataDir == "" {
		if scratch, err = os.MkdirTemp("", "putonly-pitr-drill-"); err != nil {
			return "", nil, cleanup, err
		}
		cleanup = func() {
			if !d.Keep {
				os.RemoveAll(scratch)
			}
		}
		*dataDir = filepath.Join(scratch, "data")
	}
	if ids, err = d.identities(scratch, ids); err != nil {
		cleanup()
		return "", nil, func() {}, err
	}
	return scratch, ids, cleanup, nil
}

// identities copies the identity files where the server's user can read
// them, when that user is another: restore_command runs as the server.
// The copies are in the scratch directory, removed with it.
func (d *PITRDrill) identities(scratch string, ids []string) ([]string, error) {
	if d.RunAs == "" || scratch == "" {
		return ids, nil
	}
	var out []string
	for i, id := range ids {
		data, err := os.ReadFile(id)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(scratch, fmt.Sprintf("identity-%d.txt", i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// replay starts the server on the prepared directory, waits for the
// recovery, reports it on w and stops the server.
func (d *PITRDrill) replay(ctx context.Context, dir, scratch string, w io.Writer) error {
	o := restore.ServerOptions{DataDir: dir, PGBin: d.PGBin, Port: d.Port, Env: os.Environ()}
	if d.RunAs != "" {
		own := dir
		if scratch != "" {
			own = scratch
			os.Chmod(scratch, 0o755)
		}
		if out, err := exec.Command("chown", "-R", d.RunAs+":", own).CombinedOutput(); err != nil {
			return fmt.Errorf("chown -R %s %s: %v: %s", d.RunAs, own, err, strings.TrimSpace(string(out)))
		}
		o.AsUser = []string{"runuser", "-u", d.RunAs, "--"}
	}
	res, err := restore.Replay(ctx, o)
	if err != nil {
		if res.Log != "" {
			fmt.Fprintf(w, "server log:\n%s", res.Log)
		}
		return fmt.Errorf("pitr drill: %w", err)
	}
	last := res.LastTransaction
	if last == "" {
		last = "- (no transaction to replay)"
	}
	fmt.Fprintf(w, "drill: replayed and promoted in %s on port %d: timeline %s, last transaction replayed at %s, databases %s\n",
		res.Duration.Round(1e6), d.Port, res.Timeline, last, strings.Join(res.Databases, ", "))
	if d.Keep || scratch == "" {
		fmt.Fprintf(w, "drill: the server is stopped; %s is kept\n", dir)
	}
	return nil
}
