package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/putonly/putonly/internal/s3test"
)

func resolveOne(t *testing.T, src string) *Job {
	t.Helper()
	cfg, err := ParseConfig([]byte("defaults: {bucket: bkt, recipients: [" + boundsRecipient + "]}\njobs:\n- name: a\n  source: " + src + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.ResolveJobs("")
	if err != nil {
		t.Fatal(err)
	}
	return jobs[0]
}

// TestCheckProgram: a dump program that is missing, a directory or not
// executable is named, with the fix; one that exists is found.
func TestCheckProgram(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "pg_dump")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src, want string
	}{
		{"{type: postgres, database: x, binary: /nonexistent/pg_dump}", `dump program "/nonexistent/pg_dump": no such file`},
		{"{type: postgres, database: x, binary: " + noexec + "}", "not executable (mode -rw-r--r--)"},
		{"{type: postgres, database: x, binary: " + dir + "}", "a directory"},
		{"{type: command, command: [putonly-no-such-program]}", `"putonly-no-such-program": not found in PATH`},
	} {
		_, err := CheckProgram(resolveOne(t, tc.src))
		var fe *FieldError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNoDumpProgram) || !errors.As(err, &fe) || fe.Hint == "" {
			t.Errorf("%s: err = %v, want %q with a hint", tc.src, err, tc.want)
		}
	}
	if path, err := CheckProgram(resolveOne(t, "{type: command, command: [sh, -c, 'true']}")); err != nil || !filepath.IsAbs(path) {
		t.Errorf("sh: %q, %v", path, err)
	}
}

// TestCheckConnect: the dump programs reach (or fail to reach) real
// PostgreSQL, MariaDB and SQLite databases, reading no data.
func TestCheckConnect(t *testing.T) {
	ctx := context.Background()
	db := fmt.Sprintf("config_check_%d", os.Getpid())

	t.Run("postgres", func(t *testing.T) {
		for _, tool := range []string{"pg_dump", "psql"} {
			if _, err := exec.LookPath(tool); err != nil {
				s3test.Require(t, tool)
			}
		}
		if out, err := exec.Command("psql", "-Atqc", "create database "+db, "postgres").CombinedOutput(); err != nil {
			s3test.Require(t, "a PostgreSQL server on the default socket: "+string(out))
		}
		t.Cleanup(func() { exec.Command("psql", "-Atqc", "drop database if exists "+db, "postgres").Run() })
		how, err := CheckConnect(ctx, resolveOne(t, "{type: postgres, database: "+db+"}"))
		if err != nil || !strings.Contains(how, "--schema-only") {
			t.Errorf("existing database: %q, %v", how, err)
		}
		_, err = CheckConnect(ctx, resolveOne(t, "{type: postgres, database: "+db+"_missing}"))
		if !errors.Is(err, ErrConnect) || !strings.Contains(err.Error(), `database "`+db+`_missing" does not exist`) {
			t.Errorf("missing database: %v", err)
		}
	})

	t.Run("mariadb", func(t *testing.T) {
		for _, tool := range []string{"mariadb-dump", "mariadb"} {
			if _, err := exec.LookPath(tool); err != nil {
				s3test.Require(t, tool)
			}
		}
		if out, err := exec.Command("mariadb", "-e", "create database "+db).CombinedOutput(); err != nil {
			s3test.Require(t, "a MariaDB server on the default socket: "+string(out))
		}
		t.Cleanup(func() { exec.Command("mariadb", "-e", "drop database if exists "+db).Run() })
		how, err := CheckConnect(ctx, resolveOne(t, "{type: mysql, database: "+db+"}"))
		if err != nil || !strings.Contains(how, "--no-data") {
			t.Errorf("existing database: %q, %v", how, err)
		}
		_, err = CheckConnect(ctx, resolveOne(t, "{type: mysql, database: "+db+"_missing}"))
		if !errors.Is(err, ErrConnect) || !strings.Contains(err.Error(), "Unknown database '"+db+"_missing'") {
			t.Errorf("missing database: %v", err)
		}
	})

	t.Run("sqlite", func(t *testing.T) {
		if _, err := exec.LookPath("sqlite3"); err != nil {
			s3test.Require(t, "sqlite3")
		}
		dir := t.TempDir()
		good := filepath.Join(dir, "app.db")
		if out, err := exec.Command("sqlite3", good, "create table t(x); insert into t values (1);").CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		bad := filepath.Join(dir, "garbage.db")
		if err := os.WriteFile(bad, []byte(strings.Repeat("not a database ", 512)), 0o644); err != nil {
			t.Fatal(err)
		}
		how, err := CheckConnect(ctx, resolveOne(t, "{type: sqlite, path: "+good+"}"))
		if err != nil || !strings.Contains(how, "sqlite_master") {
			t.Errorf("database: %q, %v", how, err)
		}
		for _, p := range []string{filepath.Join(dir, "missing.db"), bad} {
			if _, err := CheckConnect(ctx, resolveOne(t, "{type: sqlite, path: "+p+"}")); !errors.Is(err, ErrConnect) {
				t.Errorf("%s: %v", p, err)
			}
		}
	})

	// A command source is not connected to: only its dump would tell.
	if how, err := CheckConnect(ctx, resolveOne(t, "{type: command, command: [true]}")); how != "" || err != nil {
		t.Errorf("command: %q, %v", how, err)
	}
}
