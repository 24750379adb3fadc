package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"testing"

	"github.com/putonly/putonly/internal/s3test"
)

// Databases on the shared PostgreSQL and MariaDB servers. Every e2e test
// takes the names of its databases from here: the name it asks for plus a
// random suffix, so two test binaries at once (two clones on one machine,
// the helpers sharing the servers, CI's run next to a developer's) never
// create, fill, drill or drop each other's databases. Each name is dropped
// at cleanup, whether the test created the database or putonly did (a
// restore's target, a drill kept with --keep) or nobody did.

// dbName is name plus "_" and 8 random hex digits: a valid --into-database
// name (restore.CheckTargetName) as long as name is one of at most 54
// characters.
func dbName(t *testing.T, name string) string {
	t.Helper()
	if len(name) > 54 {
		t.Fatalf("database name %q: at most 54 characters, the suffix takes 9", name)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return name + "_" + hex.EncodeToString(b[:])
}

// needPostgres fails the test (or skips it without
// PUTONLY_REQUIRE_INTEGRATION=1) when the shared PostgreSQL does not let
// this user in.
func needPostgres(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("psql", "-XAtqc", "select 1", "postgres").CombinedOutput(); err != nil {
		s3test.Require(t, fmt.Sprintf("a running PostgreSQL that lets this user in (run scripts/databases): %v %s", err, out))
	}
}

// needMariaDB is needPostgres for the shared MariaDB.
func needMariaDB(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("mariadb", "-e", "select 1").CombinedOutput(); err != nil {
		s3test.Require(t, fmt.Sprintf("a running MariaDB that lets this user in (run scripts/databases): %v %s", err, out))
	}
}

// pgName names a PostgreSQL database for t, not created, dropped at
// cleanup (with --force: a client a failed test left connected does not
// keep it).
func pgName(t *testing.T, name string) string {
	t.Helper()
	db := dbName(t, name)
	t.Cleanup(func() {
		if out, err := exec.Command("dropdb", "--if-exists", "--force", db).CombinedOutput(); err != nil {
			t.Logf("drop the test's database %s: %v %s", db, err, out)
		}
	})
	return db
}

// pgCreate is pgName, created empty.
func pgCreate(t *testing.T, name string) string {
	t.Helper()
	db := pgName(t, name)
	sh(t, "createdb "+db)
	return db
}

// myName names a MariaDB database for t, not created, dropped at cleanup.
func myName(t *testing.T, name string) string {
	t.Helper()
	db := dbName(t, name)
	t.Cleanup(func() {
		if out, err := exec.Command("mariadb", "-e", "drop database if exists "+db).CombinedOutput(); err != nil {
			t.Logf("drop the test's database %s: %v %s", db, err, out)
		}
	})
	return db
}

// myCreate is myName, created empty.
func myCreate(t *testing.T, name string) string {
	t.Helper()
	db := myName(t, name)
	sh(t, "mariadb -e 'create database "+db+"'")
	return db
}
