package main

import (
	"context"
	"errors"
	"flag"
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

// pitrDrillFlags: 'putonly pitr --drill' prepares a scratch data directory,
// starts it on a scratch port, waits until it replayed and promoted,
// reports, stops it and removes it.
type pitrDrillFlags struct {
	drill bool
	port  int
	pgBin string
	runAs string
	keep  bool
}

func (d *pitrDrillFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&d.drill, "drill", false, "replay into a scratch data directory (default: a temporary one) on --port, report, stop and remove it; --latest unless a target is given")
	fs.IntVar(&d.port, "port", 5499, "with --drill: the scratch server's `port` (its socket is in the scratch directory; it listens on no TCP address)")
	fs.StringVar(&d.pgBin, "pg-bin", "", "with --drill: `directory` of pg_ctl and psql, of the backup's major version (default: PATH, else the newest /usr/lib/postgresql/*/bin)")
	fs.StringVar(&d.runAs, "run-as", "", "with --drill: run the server as this `user` (default postgres when run as root: the server refuses root)")
	fs.BoolVar(&d.keep, "keep", false, "with --drill: keep the scratch directory")
}

func (d *pitrDrillFlags) check() error {
	if d.port < 1 || d.port > 65535 {
		return fmt.Errorf("--port %d: out of range", d.port)
	}
	if d.pgBin == "" {
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
			d.pgBin = dirs[len(dirs)-1]
		}
	}
	if d.runAs == "" && os.Geteuid() == 0 {
		d.runAs = "postgres"
	}
	if d.runAs != "" {
		if _, err := user.Lookup(d.runAs); err != nil {
			return fmt.Errorf("--run-as %s: %w", d.runAs, err)
		}
	}
	return nil
}

// identities copies the identity files where the server's user can read
// them, when that user is another: restore_command runs as the server.
// The copies are in the scratch directory, removed with it.
func (d *pitrDrillFlags) identities(scratch string, ids []string) ([]string, error) {
	if d.runAs == "" || scratch == "" {
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

func (d *pitrDrillFlags) replay(ctx context.Context, dir, scratch string, stdout io.Writer) error {
	o := restore.ServerOptions{DataDir: dir, PGBin: d.pgBin, Port: d.port, Env: os.Environ()}
	if d.runAs != "" {
		own := dir
		if scratch != "" {
			own = scratch
			os.Chmod(scratch, 0o755)
		}
		if out, err := exec.Command("chown", "-R", d.runAs+":", own).CombinedOutput(); err != nil {
			return failure(fmt.Errorf("chown -R %s %s: %v: %s", d.runAs, own, err, strings.TrimSpace(string(out))))
		}
		o.AsUser = []string{"runuser", "-u", d.runAs, "--"}
	}
	res, err := restore.Replay(ctx, o)
	if err != nil {
		if res.Log != "" {
			fmt.Fprintf(stdout, "server log:\n%s", res.Log)
		}
		return failure(fmt.Errorf("pitr drill: %w", err))
	}
	fmt.Fprintf(stdout, "drill: replayed and promoted in %s on port %d: timeline %s, last transaction replayed at %s, databases %s\n",
		res.Duration.Round(1e6), d.port, res.Timeline, orDash(res.LastTransaction), strings.Join(res.Databases, ", "))
	if d.keep || scratch == "" {
		fmt.Fprintf(stdout, "drill: the server is stopped; %s is kept\n", dir)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "- (no transaction to replay)"
	}
	return s
}
